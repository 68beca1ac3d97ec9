import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from clinic import dates
from clinic.accounts.forms import TimeZoneField
from clinic.accounts.jurisdictions import JURISDICTIONS
from clinic.accounts.models import Licence, Role, User
from clinic.accounts.validators import validate_birth_date, validate_time_zone
from clinic.scheduling.models import AppointmentType, WeeklyHours

MAX_DAYS = 31


def valid_zone(value: str) -> str:
    validate_time_zone(value)
    return value


class SlotQueryForm(forms.Form):
    """Where the patient will be, their zone, the doctor, and which days to show."""

    jurisdiction = forms.ChoiceField(
        label="Where will you be during the consultation?",
        choices=[("", "Choose a state"), *JURISDICTIONS.items()],
        help_text="The doctor must be licensed where you are at the time of the call.",
    )
    # An empty first choice: when the device does not say its zone, the person chooses.
    tz = TimeZoneField(label="Your time zone", empty_label="Choose your time zone")
    clinician = forms.CharField(required=False, max_length=36)
    start = dates.DateField(required=False, label="From")
    days = forms.IntegerField(required=False, min_value=1, max_value=MAX_DAYS)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["tz"].widget.attrs.update({"data-detect-zone": "", "aria-describedby": "tz-help"})

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
    start = dates.DateTimeField()
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
    date_of_birth = dates.DateField(
        out_of_range="Please check your date of birth.",
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
        validate_birth_date(born)
        return born


class WaitlistForm(forms.Form):
    email = forms.EmailField(label="Your email")
    jurisdiction = forms.ChoiceField(choices=list(JURISDICTIONS.items()))


class CancelForm(forms.Form):
    reason = forms.CharField(required=False, max_length=300, label="Reason (optional)")


class StaffCancelForm(forms.Form):
    reason = forms.CharField(max_length=300, label="Reason (the patient is told)")


class WeeklyHoursForm(forms.ModelForm):
    class Meta:
        model = WeeklyHours
        fields = ["weekday", "start", "end"]
        widgets = {
            "start": forms.TimeInput(attrs={"type": "time"}),
            "end": forms.TimeInput(attrs={"type": "time"}),
        }

    def clean(self) -> dict:
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["end"] <= data["start"]:
            raise forms.ValidationError("The end must be after the start (split hours that cross midnight).")
        return data


class OverrideForm(forms.Form):
    date = dates.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    start = forms.TimeField(required=False, widget=forms.TimeInput(attrs={"type": "time"}))
    end = forms.TimeField(required=False, widget=forms.TimeInput(attrs={"type": "time"}))

    def clean(self) -> dict:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if (start is None) != (end is None):
            raise forms.ValidationError("Give both a start and an end, or neither to close the day.")
        if start and end and end <= start:
            raise forms.ValidationError("The end must be after the start.")
        return data


class TimeOffForm(forms.Form):
    start = dates.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    end = dates.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    note = forms.CharField(required=False, max_length=120)

    def clean(self) -> dict:
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["end"] <= data["start"]:
            raise forms.ValidationError("The end must be after the start.")
        return data


class LicenceForm(forms.ModelForm):
    jurisdiction = forms.ChoiceField(choices=list(JURISDICTIONS.items()))
    expires_on = dates.DateField(widget=forms.DateInput(attrs={"type": "date"}))

    class Meta:
        model = Licence
        fields = ["clinician", "jurisdiction", "number", "expires_on"]
        widgets = {"expires_on": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        # Nurses are licensed too; only clinicians' licences offer them for bookings.
        self.fields["clinician"].queryset = User.objects.filter(  # type: ignore[attr-defined]
            role__in=[Role.CLINICIAN, Role.NURSE]
        )

    def clean(self) -> dict:
        data = super().clean() or {}
        if data.get("expires_on") and data["expires_on"] < timezone.now().date():
            raise forms.ValidationError("This licence has already expired.")
        return data


class AppointmentTypeForm(forms.ModelForm):
    class Meta:
        model = AppointmentType
        fields = [
            "name",
            "duration_minutes",
            "buffer_before_minutes",
            "buffer_after_minutes",
            "min_notice_minutes",
            "horizon_days",
            "max_per_day",
            "cancel_cutoff_hours",
        ]


class LicenceChangeForm(forms.Form):
    expires_on = dates.DateField()
    withdraw = forms.BooleanField(required=False)
