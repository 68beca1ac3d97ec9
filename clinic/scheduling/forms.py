import datetime as dt
import zoneinfo

from django import forms
from django.utils.dateparse import parse_datetime

from clinic.scheduling.jurisdictions import JURISDICTIONS

ZONES = sorted(
    z for z in zoneinfo.available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/"))
)
MAX_DAYS = 31


def valid_zone(value: str) -> str:
    if value not in zoneinfo.available_timezones():
        raise forms.ValidationError("Choose a time zone from the list (for example America/New_York).")
    return value


class SlotQueryForm(forms.Form):
    """Where the patient will be, their zone, the doctor, and which days to show."""

    jurisdiction = forms.ChoiceField(
        label="Where will you be during the consultation?",
        choices=[("", "Choose a state"), *JURISDICTIONS.items()],
        help_text="The doctor must be licensed where you are at the time of the call.",
    )
    tz = forms.CharField(label="Your time zone", max_length=64)
    clinician = forms.CharField(required=False, max_length=36)
    start = forms.DateField(required=False, label="From")
    days = forms.IntegerField(required=False, min_value=1, max_value=MAX_DAYS)

    def clean_tz(self) -> str:
        return valid_zone(self.cleaned_data["tz"])

    def clean_clinician(self) -> str | None:
        value = self.cleaned_data["clinician"]
        if value in ("", "any"):
            return None
        try:
            return str(forms.UUIDField().clean(value))
        except forms.ValidationError:
            raise forms.ValidationError("Unknown doctor.") from None


class HoldForm(forms.Form):
    jurisdiction = forms.ChoiceField(choices=list(JURISDICTIONS.items()))
    tz = forms.CharField(max_length=64)
    start = forms.DateTimeField()
    clinician = forms.UUIDField(required=False)

    def clean_tz(self) -> str:
        return valid_zone(self.cleaned_data["tz"])

    def clean_start(self) -> dt.datetime:
        # Django would read a naive time in the server's zone; a slot time must say its offset.
        raw = parse_datetime(str(self.data.get("start", "")).strip())
        if raw is None or raw.tzinfo is None:
            raise forms.ValidationError("The time must carry its UTC offset.")
        return self.cleaned_data["start"].astimezone(dt.UTC)


class ConfirmForm(forms.Form):
    date_of_birth = forms.DateField(
        label="Your date of birth",
        help_text="Consultations are for adults aged 18 and over.",
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}),
    )
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args: object, needs_birth_date: bool = True, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        if not needs_birth_date:
            del self.fields["date_of_birth"]

    def clean_date_of_birth(self) -> dt.date:
        born = self.cleaned_data["date_of_birth"]
        if born.year < 1900 or born > dt.date.today():  # noqa: DTZ011 (a calendar date, not an instant)
            raise forms.ValidationError("Please check your date of birth.")
        return born


class WaitlistForm(forms.Form):
    email = forms.EmailField(label="Your email")
    jurisdiction = forms.ChoiceField(choices=list(JURISDICTIONS.items()))


class CancelForm(forms.Form):
    reason = forms.CharField(required=False, max_length=300, label="Reason (optional)")


class StaffCancelForm(forms.Form):
    reason = forms.CharField(max_length=300, label="Reason (the patient is told)")
