import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from django import forms
from django.utils import timezone

from clinic import dates
from clinic.register.models import Drug, Site

MAX_MG = Decimal("999999999.999")


def quantity_field(label: str, *, minimum: Decimal | None = Decimal("0.001")) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        max_digits=12,
        decimal_places=3,
        min_value=minimum,
        max_value=MAX_MG,
        widget=forms.NumberInput(attrs={"step": "0.001", "inputmode": "decimal"}),
    )


class WhenField(dates.DateTimeField):
    """A local date and time in the person's own zone; blank means now."""

    def __init__(self, label: str) -> None:
        super().__init__(
            label=label,
            required=False,
            widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
            help_text="In your time zone. Leave blank for now.",
        )


def when_in(value: dt.datetime | None, zone: str) -> dt.datetime:
    """A ``WhenField`` value as an aware UTC instant: the wall time read in ``zone``."""
    if value is None:
        return timezone.now()
    return value.replace(tzinfo=None).replace(tzinfo=ZoneInfo(zone)).astimezone(dt.UTC)


class SiteForm(forms.Form):
    name = forms.CharField(max_length=120, label="Site name", help_text="e.g. Manhattan clinic, 5th floor")


class ReceiveForm(forms.Form):
    drug = forms.ChoiceField(choices=Drug.choices)
    strength = forms.CharField(max_length=80, help_text="As on the label, e.g. 50 mg/mL, 10 mL vial")
    lot_number = forms.CharField(max_length=40, label="Lot number")
    expires_on = dates.DateField(
        required=False, label="Expiry date", widget=forms.DateInput(attrs={"type": "date"})
    )
    quantity_mg = quantity_field("Quantity received (mg)")
    supplier = forms.CharField(max_length=120)
    received_at = WhenField("Received")


class WasteForm(forms.Form):
    quantity_mg = quantity_field("Quantity wasted (mg)")
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="e.g. residual in the vial after the dose",
    )
    occurred_at = WhenField("Wasted")


class TransferForm(forms.Form):
    to_site = forms.ModelChoiceField(queryset=Site.objects.none(), to_field_name="public_id", label="To site")
    quantity_mg = quantity_field("Quantity (mg)")
    occurred_at = WhenField("Sent")

    def __init__(self, *args: object, site: Site, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["to_site"].queryset = Site.objects.exclude(pk=site.pk)  # type: ignore[attr-defined]


class CountForm(forms.Form):
    counted_mg = quantity_field("Counted on the shelf (mg)", minimum=Decimal(0))


class ResolveForm(forms.Form):
    note = forms.CharField(
        min_length=10,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="What was found and done",
    )
    adjust = forms.BooleanField(
        required=False, label="Bring the balance to the count with an adjustment line"
    )


class CorrectForm(forms.Form):
    line = forms.IntegerField(min_value=1, label="Line to correct")
    change_mg = forms.DecimalField(
        label="Change to the balance (mg; negative to take away)",
        max_digits=12,
        decimal_places=3,
        min_value=-MAX_MG,
        max_value=MAX_MG,
        widget=forms.NumberInput(attrs={"step": "0.001", "inputmode": "decimal"}),
    )
    note = forms.CharField(
        min_length=10,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="The mistake being corrected",
    )
