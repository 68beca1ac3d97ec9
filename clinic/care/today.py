"""The day's treatment sessions for the day views: who is in observation and for how long.

Read only; the pages that show these lines write their own audit rows (they already list the
patients)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.urls import reverse
from django.utils import timezone

from clinic.accounts.models import User
from clinic.care import session_actions as actions
from clinic.care import session_rules as rules
from clinic.care.models import TreatmentSession
from clinic.care.models.sessions import SessionRecord
from clinic.scheduling.models import Booking


@dataclass(frozen=True)
class Observing:
    """One line about a session's observation, and what the page needs to keep it live."""

    text: str
    dosed_at: dt.datetime | None = None
    minimum: int = 0
    live: bool = False


def observing(record: SessionRecord | None, minimum: int, now: dt.datetime | None = None) -> Observing:
    now = now or timezone.now()
    if record is None or record.dosed_at is None:
        return Observing("not dosed yet")
    if record.is_signed:
        return Observing(f"signed; observed {record.observation_minutes} minutes")
    if record.discharged_at is not None:
        return Observing(f"discharged after {record.observation_minutes} minutes")
    minutes = rules.minutes_observed(record.dosed_at, now)
    return Observing(f"in observation: {minutes} of {minimum} minutes", record.dosed_at, minimum, live=True)


@dataclass(frozen=True)
class DaySession:
    session: TreatmentSession
    patient: User
    patient_name: str
    start: dt.datetime | None
    observing: Observing
    url: str


def _name(patient: User) -> str:
    profile = getattr(patient, "patient_profile", None)
    return patient.display_name or (profile.preferred_name if profile else "") or patient.email


def sessions_between(*, user: User, start: dt.datetime, end: dt.datetime) -> list[DaySession]:
    """The sessions ``user`` is scheduled with whose booked time overlaps ``start``..``end``: a
    session begun before midnight and still running is on the new day's list too."""
    now = timezone.now()
    sessions = (
        actions.sessions_for(user)
        .filter(booking__start__lt=end, booking__end__gt=start)
        .select_related("plan__patient__patient_profile", "record")
        .order_by("booking__start")
    )
    return [
        DaySession(
            session=s,
            patient=s.plan.patient,
            patient_name=_name(s.plan.patient),
            start=s.booking.start if s.booking else None,
            observing=observing(getattr(s, "record", None), s.plan.protocol_version.observation_minutes, now),
            url=reverse("care:session", args=[s.public_id]),
        )
        for s in sessions
    ]


class SessionDayNotes:
    """For the staff day view (``clinic.scheduling.day_notes``): a session's observation line
    beside its booking."""

    def notes(self, bookings: Sequence[Booking]) -> dict[int, Observing]:
        now = timezone.now()
        sessions = TreatmentSession.objects.filter(booking__in=list(bookings)).select_related(
            "record", "plan__protocol_version"
        )
        return {
            s.booking_id: observing(
                getattr(s, "record", None), s.plan.protocol_version.observation_minutes, now
            )
            for s in sessions
            if s.booking_id is not None
        }
