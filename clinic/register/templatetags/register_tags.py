"""``{{ quantity|mg }}``: a register quantity as people write it (``12.5 mg``, ``5000 mg``)."""

from decimal import Decimal

from django import template

from clinic.register.actions import mg as format_mg

register = template.Library()


@register.filter
def mg(value: Decimal | None) -> str:
    return format_mg(value if value is not None else Decimal(0))


@register.filter
def signed_mg(value: Decimal) -> str:
    """A change with its sign: ``+672 mg``, ``-56 mg``."""
    return ("+" if value > 0 else "") + format_mg(value)
