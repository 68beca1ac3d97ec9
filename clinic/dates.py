"""Every date and time a person can send, bounded to what the clinic supports, in one place.

A year-1 or year-9999 date parses, but a week added to it, or a move to UTC from a zone ahead
of or behind it, overflows Python's date range. Forms, query parameters and the API all check
through here, so such a date is refused with a clear message (a 4xx) before any arithmetic.

The range is the same for every feature: birth dates go back to ``EARLIEST`` (the oldest
birth year the clinic accepts), and nothing the clinic schedules, filters or reports reaches
past ``LATEST``. Months of horizons and week or day arithmetic on either end stay in range.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django import forms
from django.core.exceptions import BadRequest
from django.utils.dateparse import parse_datetime as django_parse_datetime

EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(2100, 12, 31)
MESSAGE = f"Choose a date between {EARLIEST.isoformat()} and {LATEST.isoformat()}."
_FIRST = dt.datetime.combine(EARLIEST, dt.time.min, tzinfo=dt.UTC)
_LAST = dt.datetime.combine(LATEST, dt.time.max, tzinfo=dt.UTC)


class OutOfRange(ValueError):
    """A date or time outside ``EARLIEST``..``LATEST`` (a ``ValueError``, so pydantic and
    parsing code treat it as bad input)."""

    def __init__(self) -> None:
        super().__init__(MESSAGE)


def check_date(value: dt.date) -> dt.date:
    """``value`` (a date, or a datetime's own calendar date) when it is in range."""
    day = value.date() if isinstance(value, dt.datetime) else value
    if not EARLIEST <= day <= LATEST:
        raise OutOfRange
    return value


def check_datetime(value: dt.datetime) -> dt.datetime:
    """``value`` when it is in range; an aware time is compared in UTC (never overflowing)."""
    if not EARLIEST <= value.date() <= LATEST:  # before astimezone, which could overflow
        raise OutOfRange
    if value.tzinfo is not None and not _FIRST <= value.astimezone(dt.UTC) <= _LAST:
        raise OutOfRange
    return value


def parse_date(text: str) -> dt.date | None:
    """A ``YYYY-MM-DD`` date in range, or None when ``text`` is empty or malformed. Out of
    range raises ``OutOfRange``: the person asked for a real date the clinic does not cover."""
    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError:
        return None
    return check_date(day)


def parse_datetime(text: str) -> dt.datetime | None:
    """An ISO 8601 date and time in range (aware when it carries an offset), or None when
    ``text`` is empty or malformed; out of range raises ``OutOfRange``."""
    try:
        moment = django_parse_datetime(text.strip())
    except ValueError:
        return None
    return None if moment is None else check_datetime(moment)


def query_date(params: Mapping[str, str], name: str) -> dt.date | None:
    """A date from a query string (``request.GET``): None when absent or malformed (the page
    shows its default); a 400 with the range when out of range."""
    text = str(params.get(name, "") or "")
    try:
        return parse_date(text)
    except OutOfRange:
        raise BadRequest(MESSAGE) from None


class DateField(forms.DateField):
    """A form date bounded to the clinic's range; ``out_of_range`` may say it in the field's
    own words ("Please check your date of birth.")."""

    def __init__(self, *args: Any, out_of_range: str = MESSAGE, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.out_of_range = out_of_range

    def to_python(self, value: Any) -> dt.date | None:
        day = super().to_python(value)
        if day is None:
            return None
        try:
            return check_date(day)
        except OutOfRange:
            raise forms.ValidationError(self.out_of_range, code="out_of_range") from None


class DateTimeField(forms.DateTimeField):
    """A form date and time bounded to the clinic's range. A naive value is read in the current
    zone (Django's rule), and a value whose move to UTC would overflow is refused, not raised."""

    def to_python(self, value: Any) -> dt.datetime | None:
        if isinstance(value, str):
            try:
                parsed = django_parse_datetime(value.strip())
            except ValueError:
                parsed = None
            if parsed is not None:
                self._in_range(parsed)
        try:
            moment = super().to_python(value)
        except (OverflowError, OutOfRange):
            raise forms.ValidationError(MESSAGE, code="out_of_range") from None
        return None if moment is None else self._in_range(moment)

    def _in_range(self, moment: dt.datetime) -> dt.datetime:
        try:
            return check_datetime(moment)
        except (OutOfRange, OverflowError):
            raise forms.ValidationError(MESSAGE, code="out_of_range") from None
