"""A line beside a booking on the staff day view, from a layer above (the treatment course's
"in observation: 43 of 120 minutes"). The project top installs it (``clinic.apps``); with
nothing installed there are no lines."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from clinic.scheduling.models import Booking


class DayNotes(Protocol):
    def notes(self, bookings: Sequence[Booking]) -> dict[int, Any]:
        """By booking id: an object with ``text`` (and ``live``, ``dosed_at``, ``minimum``)."""


class _Nothing:
    def notes(self, bookings: Sequence[Booking]) -> dict[int, Any]:
        return {}


_installed: list[DayNotes] = [_Nothing()]


def install(day_notes: DayNotes) -> None:
    """Called once, by the project top."""
    _installed[:] = [day_notes]


def notes(bookings: Sequence[Booking]) -> dict[int, Any]:
    return _installed[0].notes(bookings)
