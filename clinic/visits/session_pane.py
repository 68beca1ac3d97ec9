"""The live visit's pane for a treatment session, from a layer above: at an at-home session the
course's supervision (the adult confirmed on camera, the patient's own readings, the
observation clock) takes the place the consultation note has at a consult. The project top
installs it (``clinic.apps``); with nothing installed a session's call has no pane.

``clinician`` and ``patient`` return the pane's HTML, rendered for this request, or None;
``record_url`` the address of the session's own record, where a session booking's clinician is
sent instead of a consultation's appointment page (which would start a consultation note)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from django.http import HttpRequest
    from django.utils.safestring import SafeString

    from clinic.scheduling.models import Booking


class SessionPane(Protocol):
    def clinician(self, request: HttpRequest, booking: Booking) -> SafeString | None: ...

    def patient(self, request: HttpRequest, booking: Booking) -> SafeString | None: ...

    def record_url(self, booking: Booking) -> str | None: ...


class _Nothing:
    def clinician(self, request: HttpRequest, booking: Booking) -> SafeString | None:
        return None

    def patient(self, request: HttpRequest, booking: Booking) -> SafeString | None:
        return None

    def record_url(self, booking: Booking) -> str | None:
        return None


_installed: list[SessionPane] = [_Nothing()]


def install(pane: SessionPane) -> None:
    """Called once, by the project top."""
    _installed[:] = [pane]


def clinician(request: HttpRequest, booking: Booking) -> SafeString | None:
    return _installed[0].clinician(request, booking)


def patient(request: HttpRequest, booking: Booking) -> SafeString | None:
    return _installed[0].patient(request, booking)


def record_url(booking: Booking) -> str | None:
    return _installed[0].record_url(booking)
