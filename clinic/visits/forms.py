"""Forms of the visit: where the patient is, the clinician's note, break-glass."""

from __future__ import annotations

from typing import Any

from django import forms

from clinic.accounts.jurisdictions import JURISDICTIONS
from clinic.accounts.validators import clean_phone
from clinic.visits.actions import NOTE_FIELDS
from clinic.visits.models import ConsultNote, Decision, IdentityMethod, RiskLevel

NOTE_CHECKLIST = ("identity_method", "location_confirmed", "others_present")
# The note form's sections, in the order a consultation goes: the start checklist, the safety
# assessment (required when the visit was flagged), the note, the decision and the message.
NOTE_SECTIONS = (
    ("checklist", NOTE_CHECKLIST),
    ("safety", ("risk_level", "safety_plan")),
    ("note", ("reason", "history_reviewed", "contraindications_reviewed", "plan", "follow_up")),
    ("decision", ("decision", "decision_reason")),
    ("message", ("patient_message",)),
)


class AttestForm(forms.Form):
    jurisdiction = forms.ChoiceField(
        label="Where are you right now?", choices=[("", "Choose a state"), *JURISDICTIONS.items()]
    )
    address = forms.CharField(
        max_length=300,
        label="The address where you are",
        help_text="Only your doctor sees it, and only to send help if you were in danger during the call.",
        widget=forms.Textarea(attrs={"rows": 2, "autocomplete": "street-address"}),
    )
    phone = forms.CharField(
        max_length=30,
        label="A phone number to call you back if the video drops",
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )

    def clean_phone(self) -> str:
        return clean_phone(self.cleaned_data["phone"])


class NoteForm(forms.ModelForm):
    class Meta:
        model = ConsultNote
        fields = NOTE_FIELDS
        labels = {
            "identity_method": "How did you verify the patient's identity?",
            "location_confirmed": "I confirmed where the patient is (the place they attested on joining)",
            "others_present": "Who else is present (or 'nobody')",
            "reason": "Reason for visit",
            "history_reviewed": "History reviewed",
            "risk_level": "Safety assessment: risk level",
            "safety_plan": "Safety assessment: plan",
            "contraindications_reviewed": "Contraindications and precautions reviewed",
            "plan": "Plan",
            "follow_up": "Follow-up",
            "decision": "Decision",
            "decision_reason": "Reason (and referral) if not suitable",
            "patient_message": "Message to the patient: what happens next, in plain words",
        }
        widgets = {
            "identity_method": forms.RadioSelect(choices=IdentityMethod.choices),
            "risk_level": forms.Select(choices=[("", "—"), *RiskLevel.choices]),
            "decision": forms.RadioSelect(choices=Decision.choices),
            **{
                name: forms.Textarea(attrs={"rows": 3})
                for name in (
                    "reason",
                    "history_reviewed",
                    "safety_plan",
                    "contraindications_reviewed",
                    "plan",
                    "follow_up",
                    "decision_reason",
                    "patient_message",
                )  # fmt: skip
            },
            "others_present": forms.TextInput(),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False  # drafts may be partial; signing checks completeness
        # Radio buttons need no "---------" choice: nothing ticked is the empty answer.
        self.fields["identity_method"].choices = IdentityMethod.choices  # type: ignore[attr-defined]
        self.fields["decision"].choices = Decision.choices  # type: ignore[attr-defined]

    def clean_risk_level(self) -> str:
        value = self.cleaned_data.get("risk_level") or ""
        if value and value not in RiskLevel.values:
            raise forms.ValidationError("Choose a risk level from the list.")
        return value


class BreakGlassForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        min_length=10,
        label="Why do you need this patient's record now?",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="This access is recorded and reviewed by staff.",
    )
