"""Who may open a visit and when. One place, used by the pages and the websocket alike."""

from __future__ import annotations

import datetime as dt
import uuid

from django.utils import timezone

from clinic.accounts.models import Role, User
from clinic.scheduling.models import Booking, BookingStatus
from clinic.visits.models import Visit, window


def participant_booking(user: User, booking_id: uuid.UUID | str) -> tuple[Booking, str] | None:
    """The booking and the user's part in it ("patient" or "clinician"); None for anyone else."""
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
        return booking, "patient"
    if user.role == Role.CLINICIAN and booking.clinician_id == user.pk:
        return booking, "clinician"
    return None


def window_state(booking: Booking, now: dt.datetime | None = None) -> str:
    """ "early", "open" or "closed"."""
    now = now or timezone.now()
    opens, closes = window(booking)
    if now < opens:
        return "early"
    if now > closes:
        return "closed"
    return "open"


def visit_for(booking: Booking) -> Visit:
    visit, _ = Visit.objects.get_or_create(booking=booking)
    return visit


def clinician_licensed_for(booking: Booking, jurisdiction: str) -> bool:
    """A verified licence for ``jurisdiction`` that is valid on the visit's date."""
    return booking.clinician.licences.filter(
        jurisdiction=jurisdiction, verified_at__isnull=False, expires_on__gte=booking.start.date()
    ).exists()
