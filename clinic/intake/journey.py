"""What the questionnaire tells the layers above it.

The intake sits below booking (a booking needs a screened patient), so it never reaches up into
scheduling. The project top installs the layer above here at start-up (``clinic.apps``), and the
intake calls it at four moments: while the patient answers (``keep``), when a screen ends the
journey (``stop``), for the banner over each step, and when any screen is finished
(``screened``: whatever rests on the patient's latest screen, such as their future bookings,
must follow it). With nothing installed, the questionnaire stands alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from django.http import HttpRequest

if TYPE_CHECKING:
    from clinic.accounts.models import User
    from clinic.audit.actions import Via
    from clinic.intake.models import IntakeResponse


class Journey(Protocol):
    def keep(self, request: HttpRequest) -> None:
        """The patient is still answering: whatever waits for them should keep waiting."""

    def stop(self, request: HttpRequest) -> None:
        """The questionnaire ended the journey (an acute answer, or under 18): let go of
        whatever was kept for it, at once."""

    def banner(self, request: HttpRequest) -> dict[str, object]:
        """Template context shown above each step (e.g. the held time and its countdown)."""

    def screened(self, *, patient: User, intake: IntakeResponse, via: Via | None) -> None:
        """A screen was finished (submitted, or stopped at an acute answer). Called inside the
        transaction that finished it."""


class _Alone:
    def keep(self, request: HttpRequest) -> None:
        return None

    def stop(self, request: HttpRequest) -> None:
        return None

    def banner(self, request: HttpRequest) -> dict[str, object]:
        return {}

    def screened(self, *, patient: User, intake: IntakeResponse, via: Via | None) -> None:
        return None


_installed: list[Journey] = [_Alone()]


def install(journey: Journey) -> None:
    """Called once, by the project top."""
    _installed[:] = [journey]


def current() -> Journey:
    return _installed[0]
