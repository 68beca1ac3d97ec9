import functools
from typing import Any

from django import forms
from django.forms.utils import flatatt
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from clinic.accounts.models import Role, User
from clinic.accounts.validators import validate_time_zone, zone_choices


@functools.cache
def _zone_options() -> str:
    return "".join(
        f'<optgroup label="{escape(group)}">'
        + "".join(f'<option value="{escape(name)}">{escape(label)}</option>' for name, label in zones)
        + "</optgroup>"
        for group, zones in zone_choices()
    )


class ZoneSelect(forms.Select):
    """The zone list written in one go: Django renders each of its hundreds of options through
    a template, which cost more than the rest of a page together. The same HTML as Select.
    ``empty_label``, when set, is a first option with no value."""

    empty_label = ""

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        final = {"name": name, **self.build_attrs(self.attrs, attrs)}
        options = _zone_options()
        if self.empty_label:  # chosen when nothing else is, as Select marks it
            chosen = " selected" if value in (None, "") else ""
            options = f'<option value=""{chosen}>{escape(self.empty_label)}</option>' + options
        if value not in (None, ""):
            option = f'<option value="{escape(str(value))}">'
            options = options.replace(option, option[:-1] + " selected>", 1)
        return mark_safe(f"<select{flatatt(final)}>{options}</select>")  # noqa: S308 (escaped above)


class TimeZoneField(forms.ChoiceField):
    """A time zone from the grouped list: common zones with friendly names, then all."""

    widget = ZoneSelect

    def __init__(self, *, empty_label: str = "", **kwargs: object) -> None:
        super().__init__(choices=zone_choices, validators=[validate_time_zone], **kwargs)  # type: ignore[arg-type]
        self.widget.empty_label = empty_label

    def valid_value(self, value: Any) -> bool:
        return value in _zone_values()

    def __deepcopy__(self, memo: dict[int, Any]) -> "TimeZoneField":
        # A form copies its fields on every instance; the zone list is shared, never changed.
        return forms.Field.__deepcopy__(self, memo)


@functools.cache
def _zone_values() -> frozenset[str]:
    return frozenset(name for _, zones in zone_choices() for name, _ in zones)


class InviteForm(forms.Form):
    email = forms.EmailField(label="Email address")
    display_name = forms.CharField(
        max_length=150, label="Name as patients see it", help_text="e.g. Dr Maya Chen"
    )
    role = forms.ChoiceField(
        choices=[(Role.CLINICIAN, "Clinician"), (Role.NURSE, "Nurse"), (Role.STAFF, "Staff")]
    )
    time_zone = TimeZoneField(initial="America/New_York")

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("Someone with this email already has an account.")
        return email


class TimeZoneForm(forms.Form):
    time_zone = TimeZoneField(label="Your time zone")
