import zoneinfo

from django import forms

from clinic.accounts.models import Role, User

COMMON_ZONES = sorted(
    z for z in zoneinfo.available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/"))
)


class InviteForm(forms.Form):
    email = forms.EmailField(label="Email address")
    display_name = forms.CharField(
        max_length=150, label="Name as patients see it", help_text="e.g. Dr Maya Chen"
    )
    role = forms.ChoiceField(choices=[(Role.CLINICIAN, "Clinician"), (Role.STAFF, "Staff")])
    time_zone = forms.ChoiceField(choices=[(z, z) for z in COMMON_ZONES], initial="America/New_York")

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("Someone with this email already has an account.")
        return email


class TimeZoneForm(forms.Form):
    time_zone = forms.ChoiceField(choices=[(z, z) for z in COMMON_ZONES], label="Your time zone")
