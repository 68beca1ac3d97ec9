"""``{{ zone|zone_name }}``: a time zone as people say it ("Eastern Time (New York)")."""

from django import template

from clinic.accounts.validators import zone_label

register = template.Library()


@register.filter
def zone_name(zone: object) -> str:
    return zone_label(str(zone)) if zone else ""
