"""``{{ band|band_label }}``: "Moderately severe", never the stored "moderately_severe"."""

from django import template

from clinic.intake.scoring import band_label as _band_label

register = template.Library()


@register.filter
def band_label(band: object) -> str:
    return _band_label(str(band)) if band else ""
