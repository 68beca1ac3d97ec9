"""Forms for each intake step, built from the versioned definitions in ``instruments.py`` so
the wording shown is exactly the wording stored with the answers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django import forms

from clinic import dates
from clinic.accounts.validators import clean_phone, validate_birth_date
from clinic.intake import instruments
from clinic.intake.instruments import Checklist, Flag, Instrument, Item

COUNTRIES = [("US", "United States"), ("CA", "Canada"), ("GB", "United Kingdom"), ("IE", "Ireland"),
             ("AU", "Australia"), ("NZ", "New Zealand")]  # fmt: skip


class AboutForm(forms.Form):
    legal_name = forms.CharField(max_length=150, label="Your full legal name", help_text="As on your ID.")
    preferred_name = forms.CharField(max_length=80, required=False, label="What should we call you?")
    date_of_birth = dates.DateField(
        out_of_range="Please check your date of birth.",
        label="Date of birth",
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}),
    )
    phone = forms.CharField(
        max_length=30,
        label="Your phone number",
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    emergency_contact_name = forms.CharField(max_length=150, label="Emergency contact: name")
    emergency_contact_phone = forms.CharField(
        max_length=30, label="Emergency contact: phone", widget=forms.TextInput(attrs={"type": "tel"})
    )
    home_address = forms.CharField(
        max_length=300,
        label="Where you live (address)",
        widget=forms.Textarea(attrs={"rows": 2, "autocomplete": "street-address"}),
    )
    country = forms.ChoiceField(choices=COUNTRIES, label="Country")  # fmt: skip

    def clean_phone(self) -> str:
        return clean_phone(self.cleaned_data["phone"])

    def clean_emergency_contact_phone(self) -> str:
        return clean_phone(self.cleaned_data["emergency_contact_phone"])

    def clean_date_of_birth(self) -> dt.date:
        born = self.cleaned_data["date_of_birth"]
        validate_birth_date(born)
        return born

    def clean_legal_name(self) -> str:
        name = " ".join(self.cleaned_data["legal_name"].split())
        if not name:
            raise forms.ValidationError("Please tell us your name.")
        return name


def _radio(
    label: str, choices: tuple[instruments.Choice, ...], *, required: bool, help_text: str = ""
) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        choices=[(c.value, c.label) for c in choices],
        widget=forms.RadioSelect,
        required=required,
        help_text=help_text,
        error_messages={
            "required": "Please choose an answer.",
            "invalid_choice": "Please choose one of the answers.",
        },
    )


def instrument_form(instrument: Instrument, items: tuple[Item, ...] | None = None) -> type[forms.Form]:
    fields: dict[str, forms.Field] = {}
    for item in items if items is not None else instrument.items:
        if item.choices:
            fields[item.key] = _radio(item.text, item.choices, required=item.required)
        else:
            fields[item.key] = forms.CharField(
                label=item.text,
                required=item.required,
                max_length=1000,
                widget=forms.Textarea(attrs={"rows": 2}),
            )
    return type(f"{instrument.key.upper()}Form", (forms.Form,), fields)


def section_form(
    checklist: Checklist, section_key: str, extra: dict[str, forms.Field] | None = None
) -> type[forms.Form]:
    section = next(s for s in checklist.sections if s.key == section_key)
    fields: dict[str, forms.Field] = {}
    for flag in section.flags:
        fields[flag.key] = _radio(flag.label, flag.choices, required=flag.required, help_text=_help(flag))
    fields.update(extra or {})
    return type(f"{section_key.title()}Form", (forms.Form,), fields)


def _help(flag: Flag) -> str:
    if flag.examples:
        return f"For example: {flag.examples}."
    return ""


class ConsentForm(forms.Form):
    agree = forms.BooleanField(
        label="I have read and agree to the consent above.",
        error_messages={"required": "Please tick to agree, or contact us with your questions."},
    )
    typed_name = forms.CharField(max_length=150, label="Type your full name to sign")  # fmt: skip

    def __init__(self, *args: Any, legal_name: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.legal_name = legal_name

    def clean_typed_name(self) -> str:
        typed = " ".join(self.cleaned_data["typed_name"].split())
        if self.legal_name and typed.casefold() != self.legal_name.casefold():
            raise forms.ValidationError(f"Please type your full name as you gave it: {self.legal_name}.")
        return typed


class CallbackForm(forms.Form):
    phone = forms.CharField(
        max_length=30,
        label="Phone number to call",
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    phone_again = forms.CharField(
        max_length=30, label="The same number again", widget=forms.TextInput(attrs={"type": "tel"})
    )

    def clean_phone(self) -> str:
        return clean_phone(self.cleaned_data["phone"])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first = "".join(ch for ch in data.get("phone", "") if ch.isdigit())
        second = "".join(ch for ch in data.get("phone_again", "") if ch.isdigit())
        if first and first != second:
            self.add_error("phone_again", "The two numbers differ. Please check them.")
        return data


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    intro: str = ""


STEPS: tuple[Step, ...] = (
    Step("about", "About you", "So that your doctor knows who you are and how to reach you."),
    Step("phq9", "How you have been feeling", instruments.current("phq9").prompt),
    Step("gad7", "Worry and anxiety", instruments.current("gad7").prompt),
    Step("asq", "Your safety", "These questions are asked of everyone. Your answers help us keep you safe."),
    Step("asq5", "Your safety right now"),
    Step("conditions", "Your health",
         "Do any of these apply to you? Your doctor weighs these with you; none is a verdict."),
    Step("medicines", "Medicines", "Are you taking any of these medicines now?"),
    Step("past_treatment", "Past treatment and substance use", "Treatment you have had for depression."),
    Step("consent", "Consent to video consultations"),
)  # fmt: skip
STEP_KEYS = [step.key for step in STEPS]


def form_for(step: str) -> type[forms.Form]:
    """The form class for one step (instrument versions: the current ones)."""
    checklist = instruments.current_checklist()
    if step == "about":
        return AboutForm
    if step in ("phq9", "gad7"):
        return instrument_form(instruments.current(step))
    asq = instruments.current("asq")
    if step == "asq":
        return instrument_form(asq, tuple(i for i in asq.items if i.key != "asq5"))
    if step == "asq5":
        five = tuple(i for i in asq.items if i.key == "asq5")
        return instrument_form(
            asq, tuple(Item(i.key, i.text, i.choices, i.loinc, i.scored, True) for i in five)
        )
    if step == "conditions":
        return section_form(checklist, "conditions", {"conditions_other": forms.CharField(
            required=False, max_length=1000,
            label="Any other health conditions your doctor should know about?",
            widget=forms.Textarea(attrs={"rows": 2}))})  # fmt: skip
    if step == "medicines":
        return section_form(checklist, "medicines", {"medicines_list": forms.CharField(
            required=False, max_length=2000,
            label="Please list all the medicines you take now (with the dose, if you know it)",
            widget=forms.Textarea(attrs={"rows": 3}))})  # fmt: skip
    if step == "past_treatment":
        return section_form(checklist, "past_treatment", {"substances_other": forms.CharField(
            required=False, max_length=1000,
            label="Anything else about alcohol or drug use your doctor should know?",
            widget=forms.Textarea(attrs={"rows": 2}))})  # fmt: skip
    if step == "consent":
        return ConsentForm
    raise KeyError(step)
