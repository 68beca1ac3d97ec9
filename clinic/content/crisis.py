import threading
import time

from django.conf import settings

from clinic.accounts.models import PatientProfile, Role, User
from clinic.content.models import CrisisLine


def country_for(user: object) -> str | None:
    """The signed-in patient's country, for their crisis numbers; None (the clinic's default)
    for anyone else."""
    if not isinstance(user, User) or user.role != Role.PATIENT:
        return None
    profile = PatientProfile.objects.filter(user=user).only("country").first()
    return profile.country if profile else None


class _Kept:
    """Every crisis line, read in one query and kept in this process for as long as public
    pages are (``PUBLIC_PAGE_SECONDS``; those pages show the same numbers): nearly every page
    shows them, and reading them cost a query per page. A change saved in this process drops
    them at once (``forget``); other processes see it within that time."""

    lock = threading.Lock()
    until = 0.0
    by_country: dict[str, list[CrisisLine]] = {}
    generation = 0  # moves each time they are read again


def forget(**_: object) -> None:
    with _Kept.lock:
        _Kept.until = 0.0


def _by_country() -> dict[str, list[CrisisLine]] | None:
    seconds = settings.PUBLIC_PAGE_SECONDS
    if seconds <= 0:
        return None
    now = time.monotonic()
    with _Kept.lock:
        if now < _Kept.until:
            return _Kept.by_country
    found: dict[str, list[CrisisLine]] = {}
    for line in CrisisLine.objects.all():
        found.setdefault(line.country, []).append(line)
    with _Kept.lock:
        _Kept.by_country, _Kept.until = found, now + seconds
        _Kept.generation += 1
    return found


def generation() -> int:
    """Which reading of the crisis lines this process shows (a page kept with them names it)."""
    _by_country()
    return _Kept.generation


def crisis_lines(country: str | None = None) -> list[CrisisLine]:
    """The numbers for ``country``, or for the clinic's default country when it has none."""
    country = (country or settings.DEFAULT_COUNTRY).upper()
    kept = _by_country()
    if kept is not None:
        return list(kept.get(country) or kept.get(settings.DEFAULT_COUNTRY, []))
    lines = list(CrisisLine.objects.filter(country=country))
    if not lines and country != settings.DEFAULT_COUNTRY:
        lines = list(CrisisLine.objects.filter(country=settings.DEFAULT_COUNTRY))
    return lines
