"""Who may open a visit and when, and who may read a patient's clinical record. One place, used
by the pages and the websocket alike."""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import models
from django.utils import timezone

from clinic.accounts.models import Role, User
from clinic.audit.actions import Via
from clinic.intake import actions as intake_actions
from clinic.intake.models import IntakeResponse, UrgentItem
from clinic.scheduling.models import Booking, BookingStatus
from clinic.visits.models import BreakGlass, Participant, Visit, window


class WindowState(models.TextChoices):
    EARLY = "early", "Not open yet"
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


def participant_booking(user: User, booking_id: uuid.UUID | str) -> tuple[Booking, Participant] | None:
    """The booking and the user's part in it; None for anyone else."""
    if not user.is_authenticated:
        return None
    booking = (
        Booking.objects.select_related("patient", "clinician", "appointment_type")
        .filter(public_id=booking_id, status=BookingStatus.CONFIRMED)
        .first()
    )
    if booking is None:
        return None
    if user.role == Role.PATIENT and booking.patient_id == user.pk:
        return booking, Participant.PATIENT
    if user.role == Role.CLINICIAN and booking.clinician_id == user.pk:
        return booking, Participant.CLINICIAN
    return None


def window_state(booking: Booking, now: dt.datetime | None = None) -> WindowState:
    now = now or timezone.now()
    opens, closes = window(booking)
    if now < opens:
        return WindowState.EARLY
    if now > closes:
        return WindowState.CLOSED
    return WindowState.OPEN


def visit_for(booking: Booking) -> Visit:
    visit, _ = Visit.objects.get_or_create(booking=booking)
    return visit


def clinician_licensed_for(booking: Booking, jurisdiction: str) -> bool:
    """A verified licence for ``jurisdiction`` that covers the whole visit (the one licence rule,
    ``Licence.covers``)."""
    licence = booking.clinician.licences.filter(jurisdiction=jurisdiction).first()
    return licence is not None and licence.covers(booking.start, booking.end)


# Reading a patient's clinical record ---------------------------------------------------------

BREAK_GLASS_FOR = dt.timedelta(hours=1)


def access_reason(user: User, patient_id: int, now: dt.datetime | None = None) -> str | None:
    """Why ``user`` may read this patient's clinical record, or None. Staff never read it."""
    now = now or timezone.now()
    if user.role == Role.PATIENT:
        return "own record" if patient_id == user.pk else None
    if user.role != Role.CLINICIAN:
        return None
    if Booking.objects.filter(patient_id=patient_id, clinician=user).exists():
        return "booked clinician"
    if user in User.objects.on_call() and UrgentItem.objects.filter(patient_id=patient_id).exists():
        return "on call for an urgent item"
    if BreakGlass.objects.filter(clinician=user, patient_id=patient_id, expires_at__gt=now).exists():
        return "break-glass"
    return None


def read_intake(*, user: User, intake: IntakeResponse, via: Via | None = None) -> dict | None:
    """The answers after the access check; every successful read writes an audit event."""
    reason = access_reason(user, intake.patient_id)
    if reason is None:
        return None
    return intake_actions.read_answers(reader=user, intake=intake, reason=reason, via=via)
