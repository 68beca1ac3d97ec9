"""Forms of the session record. They validate shapes and ranges; the actions apply the rules.

Times are typed in the viewer's zone (``zone``) and become UTC here; left empty they mean now,
so the reading taken at the bedside needs no typing, and a late one keeps its real time."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.utils import timezone

from clinic import dates
from clinic.care.models.sessions import (
    CHECKLIST,
    AdverseEventKind,
    CadssForm,
    ObservedWhen,
    Severity,
    VitalsWhen,
)
from clinic.register.models import Lot

LOCAL_FORMAT = "%Y-%m-%dT%H:%M"


class _Timed(forms.Form):
    taken_at = dates.DateTimeField(
        label="Time taken",
        required=False,
        input_formats=[LOCAL_FORMAT],
        help_text="Leave empty for now; a late entry gives the real time.",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_FORMAT),
    )

    # The page holds several of these forms at once: each gets its own element ids.
    id_prefix = "timed"

    def __init__(self, *args: Any, zone: str = "UTC", **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)
        self.zone = ZoneInfo(zone)

    def clean_taken_at(self) -> dt.datetime:
        value = self.cleaned_data.get("taken_at")
        if value is None:
            return timezone.now()
        # The browser sends wall-clock time in the viewer's zone, without an offset.
        return timezone.make_aware(value.replace(tzinfo=None), self.zone).astimezone(dt.UTC)


def _number(label: str, low: int, high: int) -> forms.IntegerField:
    return forms.IntegerField(
        label=label, min_value=low, max_value=high, widget=forms.NumberInput(attrs={"inputmode": "numeric"})
    )


class VitalsForm(_Timed):
    id_prefix = "vitals"
    when = forms.ChoiceField(choices=VitalsWhen.choices, label="Reading")
    # Plausibility bounds of the instruments, not clinical limits: the protocol's limits decide.
    systolic = _number("Systolic (mmHg)", 40, 300)
    diastolic = _number("Diastolic (mmHg)", 20, 200)
    heart_rate = _number("Heart rate (beats/min)", 20, 250)
    spo2 = _number("SpO2 (%)", 50, 100)

    field_order = ["when", "systolic", "diastolic", "heart_rate", "spo2", "taken_at"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("systolic") and data.get("diastolic") and data["systolic"] <= data["diastolic"]:
            self.add_error("diastolic", "Diastolic pressure must be lower than systolic.")
        return data


class ObservationForm(_Timed):
    id_prefix = "check"
    when = forms.ChoiceField(choices=ObservedWhen.choices, label="Check")
    moaas = forms.TypedChoiceField(
        label="Sedation (MOAA/S)",
        coerce=int,
        choices=[(5, "5 alert"), (4, "4"), (3, "3"), (2, "2"), (1, "1"), (0, "0 unresponsive")],
    )
    cadss_form = forms.ChoiceField(choices=CadssForm.choices, label="Dissociation scale")
    cadss_score = forms.IntegerField(label="Dissociation score", min_value=0)
    spo2 = _number("Pulse oximetry SpO2 (%)", 50, 100)
    respiratory_event = forms.BooleanField(label="Respiratory event", required=False)
    respiratory_note = forms.CharField(
        label="What happened (if a respiratory event)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    field_order = [
        "when",
        "moaas",
        "cadss_form",
        "cadss_score",
        "spo2",
        "respiratory_event",
        "respiratory_note",
        "taken_at",
    ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("respiratory_event") and not (data.get("respiratory_note") or "").strip():
            self.add_error("respiratory_note", "Describe the respiratory event.")
        return data


class LotChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.site} · {obj}"


class DoseForm(_Timed):
    """Where the clinic keeps a register, the lot is chosen from it (its administration line is
    written when the record is signed); otherwise the lot number is typed."""

    id_prefix = "dose"
    dose_mg = forms.DecimalField(label="Dose given (mg)", min_value=0.01, max_digits=7, decimal_places=2)
    register_lot = LotChoice(label="Lot (from the register)", queryset=Lot.objects.none())
    lot_number = forms.CharField(label="Lot number", max_length=40)
    sedating_comedications = forms.CharField(
        label="Sedating co-medications (for the monitoring form)",
        required=False,
        max_length=500,
        help_text="Benzodiazepines, sedative hypnotics, opioids and the like; empty for none.",
    )
    hold_reason = forms.CharField(
        label="Reason for dosing outside the vital-sign limits",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    dose_reason = forms.CharField(
        label="Reason for a dose outside the protocol's range",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    field_order = [
        "dose_mg",
        "register_lot",
        "lot_number",
        "taken_at",
        "sedating_comedications",
        "hold_reason",
        "dose_reason",
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["taken_at"].label = "Time given"
        lots = Lot.objects.select_related("site").order_by("site__name", "drug", "lot_number")
        if lots.exists():
            self.fields["register_lot"].queryset = lots  # type: ignore[attr-defined]
            del self.fields["lot_number"]
        else:
            del self.fields["register_lot"]


class AdverseEventForm(_Timed):
    id_prefix = "event"
    kind = forms.ChoiceField(choices=AdverseEventKind.choices, label="Type")
    severity = forms.ChoiceField(choices=Severity.choices)
    serious = forms.TypedChoiceField(
        label="Serious",
        coerce=lambda v: v == "yes",
        choices=[("no", "No"), ("yes", "Yes")],
        widget=forms.RadioSelect,
    )
    action_taken = forms.CharField(
        label="Action taken", max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    outcome = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    field_order = ["kind", "severity", "serious", "action_taken", "outcome", "taken_at"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["taken_at"].label = "Time noticed"


class DischargeForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "discharge_%s")
        super().__init__(*args, **kwargs)

    alert_oriented = forms.BooleanField(required=False, label=dict(CHECKLIST)["alert_oriented"])
    vitals_in_range = forms.BooleanField(required=False, label=dict(CHECKLIST)["vitals_in_range"])
    escort_present = forms.BooleanField(required=False, label=dict(CHECKLIST)["escort_present"])
    told_not_to_drive = forms.BooleanField(required=False, label=dict(CHECKLIST)["told_not_to_drive"])


class AddendumForm(forms.Form):
    text = forms.CharField(label="Addendum", max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))


class SupervisorForm(forms.Form):
    name = forms.CharField(
        label="Name the adult gave on camera",
        max_length=150,
        help_text="They stay with the patient until the end of the session.",
    )


class HomeReadingForm(forms.Form):
    """What a patient types from their own cuff (and oximeter, if they have one)."""

    when = forms.ChoiceField(
        label="When",
        choices=[
            (VitalsWhen.PRE_DOSE, "Before the medicine"),
            (VitalsWhen.POST_DOSE, "About 40 minutes after the medicine"),
            (VitalsWhen.DISCHARGE, "Before the end of the session"),
            (VitalsWhen.OTHER, "When my clinician asked"),
        ],
    )
    systolic = _number("Top number (systolic)", 40, 300)
    diastolic = _number("Bottom number (diastolic)", 20, 200)
    heart_rate = _number("Pulse (beats a minute)", 20, 250)
    spo2 = forms.IntegerField(
        label="Oxygen (SpO2 %), if you have a finger monitor", min_value=50, max_value=100, required=False
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("systolic") and data.get("diastolic") and data["systolic"] <= data["diastolic"]:
            self.add_error("diastolic", "The bottom number is lower than the top one: please check them.")
        return data
