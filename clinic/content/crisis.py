from django.conf import settings

from clinic.content.models import CrisisLine


def crisis_lines(country: str | None = None) -> list[CrisisLine]:
    """The numbers for ``country``, or for the clinic's default country when it has none."""
    country = (country or settings.DEFAULT_COUNTRY).upper()
    lines = list(CrisisLine.objects.filter(country=country))
    if not lines and country != settings.DEFAULT_COUNTRY:
        lines = list(CrisisLine.objects.filter(country=settings.DEFAULT_COUNTRY))
    return lines
