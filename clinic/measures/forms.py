"""The check-in form, built from the instruments the check-in asks, and the clinician's forms."""

from __future__ import annotations

import dataclasses
import datetime as dt

from django import forms

from clinic import dates
from clinic.intake.forms import instrument_form
from clinic.intake.instruments import Instrument
from clinic.measures import instruments
from clinic.measures.actions import ADDABLE
from clinic.measures.models import CheckIn

# The PHQ-9 and GAD-7 may be sent with an item skipped: that form then has no total (it is never
# scored as if the missing answers were 0). The ASQ decides safety, so the scoring demands it
# whole (and question 5 whenever 1-4 say yes or decline).
SKIPPABLE = frozenset({"phq9", "gad7"})


def sections(checkin: CheckIn) -> list[tuple[Instrument, type[forms.Form]]]:
    """One unbound form class per instrument, in the check-in's order."""
    out = []
    for key in checkin.instruments:
        instrument = instruments.current(key)
        items = instrument.items
        if key in SKIPPABLE:
            items = tuple(dataclasses.replace(item, required=False) for item in items)
        out.append((instrument, instrument_form(instrument, items)))
    return out


class AcknowledgeForm(forms.Form):
    note = forms.CharField(
        label="What did you do?", min_length=5, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class AddCheckInForm(forms.Form):
    what = forms.ChoiceField(
        label="Ask",
        choices=[
            ("mood", "PHQ-9, GAD-7 and ASQ"),
            ("side_effects", "Side effects since the last session"),
            ("monthly", "Alcohol, drug use and bladder"),
        ],
    )
    due_on = dates.DateField(
        label="Due on (the patient's local date)", widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean_what(self) -> str:
        value = self.cleaned_data["what"]
        if value not in ADDABLE:
            raise forms.ValidationError("Choose what the check-in asks.")
        return str(value)

    def clean_due_on(self) -> dt.date:
        value = self.cleaned_data["due_on"]
        if value.year > 2100:
            raise forms.ValidationError("Choose a date in the next few months.")
        return value
