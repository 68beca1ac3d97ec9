"""Forms of the treatment course: they validate; the actions act."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from clinic import dates
from clinic.accounts.jurisdictions import JURISDICTIONS
from clinic.care.models import (
    BaselineSource,
    DoseUnit,
    IdentityMethod,
    LegalBasisKind,
    LegalBasisRule,
    PreSessionItem,
    ProtocolVersion,
    Route,
)
from clinic.intake import instruments
from clinic.intake.forms import instrument_form

_OPTIONAL_ITEMS = [(i.value, i.label) for i in PreSessionItem if i != PreSessionItem.ASQ]


class ProtocolVersionForm(forms.Form):
    induction_sessions = forms.IntegerField(min_value=1, max_value=60, label="Induction sessions")
    induction_weeks = forms.IntegerField(min_value=1, max_value=52, label="Over how many weeks")
    induction_min_days_between = forms.IntegerField(
        min_value=0, max_value=60, initial=1, label="At least this many days between induction sessions"
    )
    maintenance_sessions = forms.IntegerField(
        min_value=0, max_value=200, initial=0, label="Maintenance sessions"
    )
    maintenance_interval_days = forms.IntegerField(
        min_value=1, max_value=365, required=False, label="Days between maintenance sessions"
    )
    dose_unit = forms.ChoiceField(choices=DoseUnit.choices, label="Dose unit")
    dose_min = forms.DecimalField(
        min_value=Decimal("0.001"), max_digits=7, decimal_places=3, label="Lowest dose"
    )
    dose_max = forms.DecimalField(
        min_value=Decimal("0.001"), max_digits=7, decimal_places=3, label="Highest dose"
    )
    observation_minutes = forms.IntegerField(
        min_value=1, max_value=600, label="Minimum observation (minutes)"
    )
    hold_systolic_above = forms.IntegerField(
        min_value=60, max_value=260, initial=140, label="Hold the dose if systolic is above"
    )
    hold_diastolic_above = forms.IntegerField(
        min_value=30, max_value=160, initial=90, label="Hold the dose if diastolic is above"
    )
    hold_heart_rate_above = forms.IntegerField(
        min_value=30, max_value=250, required=False, label="Hold the dose if heart rate is above (optional)"
    )
    hold_spo2_below = forms.IntegerField(
        min_value=50, max_value=100, required=False, label="Hold the dose if SpO2 is below (optional)"
    )
    checkins = forms.MultipleChoiceField(
        choices=_OPTIONAL_ITEMS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Check-in before each session",
        help_text="The ASQ is always asked; at home, the blood pressure and the companion too.",
    )


class NewProtocolForm(ProtocolVersionForm):
    name = forms.CharField(max_length=120, label="Protocol name")
    route = forms.ChoiceField(choices=Route.choices, label="Route")

    field_order = ["name", "route"]


class LegalBasisRuleForm(forms.Form):
    name = forms.CharField(max_length=160, label="Name (as staff and clinicians will see it)")
    kind = forms.ChoiceField(choices=LegalBasisKind.choices, label="Kind")
    in_force_from = dates.DateField(required=False, label="In force from (optional)")
    in_force_until = dates.DateField(required=False, label="In force until, inclusive (optional)")


class StartPlanForm(forms.Form):
    version = forms.ModelChoiceField(
        queryset=ProtocolVersion.objects.none(), label="Protocol", to_field_name="public_id"
    )
    indication = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, label="Indication"
    )
    baseline_source = forms.ChoiceField(
        choices=BaselineSource.choices, widget=forms.RadioSelect, label="Baseline PHQ-9 and GAD-7"
    )
    baseline_phq9 = forms.IntegerField(min_value=0, max_value=27, required=False, label="Fresh PHQ-9 total")
    baseline_gad7 = forms.IntegerField(min_value=0, max_value=21, required=False, label="Fresh GAD-7 total")
    weight_kg = forms.DecimalField(
        min_value=Decimal("20"), max_value=Decimal("400"), max_digits=5, decimal_places=1, label="Weight (kg)"
    )
    systolic = forms.IntegerField(min_value=50, max_value=300, label="Blood pressure: systolic")
    diastolic = forms.IntegerField(min_value=20, max_value=200, label="Blood pressure: diastolic")
    identity_method = forms.ChoiceField(
        choices=[("", "Not yet"), *IdentityMethod.choices], required=False, label="Identity verified by"
    )
    pharmacy = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=500,
        required=False,
        label="Pharmacy (when one dispenses)",
    )

    def __init__(self, *args: Any, versions: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["version"].queryset = versions  # type: ignore[attr-defined]
        self.fields["version"].label_from_instance = lambda v: f"{v.protocol.name} (v{v.number})"  # type: ignore[attr-defined]


class ReviewForm(forms.Form):
    flag_key = forms.CharField(max_length=64, widget=forms.HiddenInput)
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, label="Review note")


class PdmpForm(forms.Form):
    state = forms.ChoiceField(choices=[(code, name) for code, name in JURISDICTIONS.items()], label="State")
    checked_at = dates.DateTimeField(label="Checked at (your time zone)")
    result_summary = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, label="What it showed"
    )
    attested = forms.BooleanField(label="I checked the state's prescription-monitoring program myself.")


class LegalBasisForm(forms.Form):
    rule = forms.ModelChoiceField(
        queryset=LegalBasisRule.objects.all(), to_field_name="public_id", label="Legal basis"
    )
    evaluated_on = dates.DateField(required=False, label="In-person evaluation on (if that is the basis)")
    evaluated_by_email = forms.EmailField(required=False, label="Evaluating clinician's email (if in person)")


class ConsentSignForm(forms.Form):
    version = forms.CharField(widget=forms.HiddenInput)
    agree = forms.BooleanField(label="I have read this consent and agree to the treatment course.")
    typed_name = forms.CharField(max_length=150, label="Type your full name to sign")


_ASQ_FORM = instrument_form(instruments.ASQ)


def checkin_form(items: list[str]) -> type[forms.Form]:
    """The check-in's form: the ASQ of the intake, then the items the protocol asks for."""
    fields: dict[str, forms.Field] = dict(_ASQ_FORM.base_fields)
    if PreSessionItem.SYMPTOMS in items:
        fields["symptoms"] = forms.CharField(
            widget=forms.Textarea(attrs={"rows": 2}),
            max_length=2000,
            label='Any new symptoms or health problems since your last session? (write "none" if none)',
        )
    if PreSessionItem.MEDICINES in items:
        fields["medicines"] = forms.CharField(
            widget=forms.Textarea(attrs={"rows": 2}),
            max_length=2000,
            label='Any new or changed medicines, alcohol or other drugs? (write "none" if none)',
        )
    if PreSessionItem.HOME_BP in items:
        fields["home_systolic"] = forms.IntegerField(
            min_value=50, max_value=300, label="Your blood-pressure reading at home: the top number"
        )
        fields["home_diastolic"] = forms.IntegerField(min_value=20, max_value=200, label="The bottom number")
    if PreSessionItem.COMPANION in items:
        fields["companion"] = forms.CharField(
            max_length=200, label="Which adult will be with you during and after the session? (name)"
        )
    return type("CheckInForm", (forms.Form,), fields)
