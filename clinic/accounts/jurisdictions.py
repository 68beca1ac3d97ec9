"""Where a patient can be during a visit: ISO 3166-2 subdivision codes with their names, and
the time zone in which each jurisdiction's dates end (for licence expiry)."""

import datetime as dt
from zoneinfo import ZoneInfo

US_STATES = {
    "US-AL": "Alabama", "US-AK": "Alaska", "US-AZ": "Arizona", "US-AR": "Arkansas", "US-CA": "California",
    "US-CO": "Colorado", "US-CT": "Connecticut", "US-DE": "Delaware", "US-DC": "District of Columbia",
    "US-FL": "Florida", "US-GA": "Georgia", "US-HI": "Hawaii", "US-ID": "Idaho", "US-IL": "Illinois",
    "US-IN": "Indiana", "US-IA": "Iowa", "US-KS": "Kansas", "US-KY": "Kentucky", "US-LA": "Louisiana",
    "US-ME": "Maine", "US-MD": "Maryland", "US-MA": "Massachusetts", "US-MI": "Michigan",
    "US-MN": "Minnesota",
    "US-MS": "Mississippi", "US-MO": "Missouri", "US-MT": "Montana", "US-NE": "Nebraska",
    "US-NV": "Nevada",
    "US-NH": "New Hampshire", "US-NJ": "New Jersey", "US-NM": "New Mexico", "US-NY": "New York",
    "US-NC": "North Carolina", "US-ND": "North Dakota", "US-OH": "Ohio", "US-OK": "Oklahoma",
    "US-OR": "Oregon",
    "US-PA": "Pennsylvania", "US-RI": "Rhode Island", "US-SC": "South Carolina", "US-SD": "South Dakota",
    "US-TN": "Tennessee", "US-TX": "Texas", "US-UT": "Utah", "US-VT": "Vermont", "US-VA": "Virginia",
    "US-WA": "Washington", "US-WV": "West Virginia", "US-WI": "Wisconsin", "US-WY": "Wyoming",
}  # fmt: skip

JURISDICTIONS = dict(sorted(US_STATES.items(), key=lambda item: item[1]))


def jurisdiction_name(code: str) -> str:
    return JURISDICTIONS.get(code, code)


def country_of(code: str) -> str:
    return code.split("-", 1)[0]


# The zone in which a date ends FIRST in each jurisdiction (the easternmost zone it uses): a
# licence "valid through" a date must not be used anywhere in that state after the date has
# ended there, so states that span zones take the earliest midnight. Arizona takes Denver's
# because the Navajo Nation keeps daylight time.
_EARLIEST_ZONE = {
    "US-AK": "America/Anchorage", "US-AZ": "America/Denver", "US-HI": "Pacific/Honolulu",
    "US-CA": "America/Los_Angeles", "US-NV": "America/Los_Angeles", "US-WA": "America/Los_Angeles",
    "US-OR": "America/Boise", "US-ID": "America/Boise", "US-MT": "America/Denver",
    "US-UT": "America/Denver", "US-WY": "America/Denver", "US-CO": "America/Denver",
    "US-NM": "America/Denver", "US-ND": "America/Chicago", "US-SD": "America/Chicago",
    "US-NE": "America/Chicago", "US-KS": "America/Chicago", "US-OK": "America/Chicago",
    "US-TX": "America/Chicago", "US-MN": "America/Chicago", "US-IA": "America/Chicago",
    "US-MO": "America/Chicago", "US-AR": "America/Chicago", "US-LA": "America/Chicago",
    "US-WI": "America/Chicago", "US-IL": "America/Chicago", "US-MS": "America/Chicago",
    "US-AL": "America/Chicago",
}  # fmt: skip
_DEFAULT_ZONE = "America/New_York"  # every other state and DC: Eastern time, at least in part


def jurisdiction_zone(code: str) -> ZoneInfo:
    return ZoneInfo(_EARLIEST_ZONE.get(code, _DEFAULT_ZONE))


def end_of_day(code: str, day: dt.date) -> dt.datetime:
    """The UTC instant at which ``day`` is over everywhere in jurisdiction ``code``."""
    following = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=jurisdiction_zone(code))
    return following.astimezone(dt.UTC)
