"""One definition per rule about people: time zones, phone numbers, dates of birth and the adult
age. Forms, actions and the API all call these."""

from __future__ import annotations

import datetime as dt
import functools
import importlib.resources
import zoneinfo

from django.core.exceptions import ValidationError

ADULT_AGE = 18
OLDEST_BIRTH_YEAR = 1900
PHONE_CHARS = set("0123456789+-() .")

# Common zones first, with the names people use; the full list follows (canonical names only).
COMMON_ZONES: tuple[tuple[str, str], ...] = (
    ("America/New_York", "Eastern Time (New York)"),
    ("America/Chicago", "Central Time (Chicago)"),
    ("America/Denver", "Mountain Time (Denver)"),
    ("America/Phoenix", "Mountain Time without daylight saving (Phoenix)"),
    ("America/Los_Angeles", "Pacific Time (Los Angeles)"),
    ("America/Anchorage", "Alaska Time (Anchorage)"),
    ("Pacific/Honolulu", "Hawaii Time (Honolulu)"),
    ("America/Toronto", "Eastern Time (Toronto)"),
    ("America/Vancouver", "Pacific Time (Vancouver)"),
    ("Europe/London", "UK Time (London)"),
    ("Europe/Dublin", "Irish Time (Dublin)"),
    ("Australia/Sydney", "Australian Eastern Time (Sydney)"),
    ("Pacific/Auckland", "New Zealand Time (Auckland)"),
    ("UTC", "Coordinated Universal Time (UTC)"),
)


@functools.cache
def canonical_zones() -> tuple[str, ...]:
    """Every canonical IANA zone (tzdata's zone.tab, plus UTC), without legacy aliases such as
    US/Eastern or EST5EDT, sorted."""
    table = importlib.resources.files("tzdata").joinpath("zoneinfo/zone.tab").read_text()
    names = {line.split("\t")[2] for line in table.splitlines() if line and not line.startswith("#")}
    return tuple(sorted(names | {"UTC"}))


@functools.cache
def zone_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """Grouped choices for a select: the common zones, then every canonical zone."""
    common = [(name, label) for name, label in COMMON_ZONES]
    everything = [(name, name.replace("_", " ")) for name in canonical_zones()]
    return [("Common time zones", common), ("All time zones", everything)]


def zone_label(name: str) -> str:
    """A zone's friendly name ("Eastern Time (New York)") or its IANA name made readable."""
    return dict(COMMON_ZONES).get(name, name.replace("_", " "))


@functools.cache
def known_zones() -> frozenset[str]:
    """Every zone name zoneinfo knows, read from disk once (it walks the tzdata tree each call)."""
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(value: str) -> None:
    if value not in known_zones():
        raise ValidationError(f"{value!r} is not a known time zone. Choose one from the list.")


def clean_phone(value: str, *, required: bool = True) -> str:
    value = value.strip()
    if not value and not required:
        return ""
    if sum(ch.isdigit() for ch in value) < 7 or any(ch not in PHONE_CHARS for ch in value):
        raise ValidationError("Enter a phone number with at least 7 digits (digits, spaces, + - ( ) only).")
    return value


def validate_birth_date(born: dt.date) -> None:
    """A plausible date of birth: not before 1900, not in the future."""
    if born.year < OLDEST_BIRTH_YEAR or born > dt.date.today():  # noqa: DTZ011 (a calendar date)
        raise ValidationError("Please check your date of birth.")


def age_on(birth: dt.date, day: dt.date) -> int:
    """Whole years of age on ``day`` (a 29 February birthday counts from 1 March)."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def is_adult(birth: dt.date, day: dt.date) -> bool:
    """Adults only (DESIGN.md rule 2): 18 or over on ``day``."""
    return age_on(birth, day) >= ADULT_AGE
