"""Booking as the intake questionnaire's journey (``clinic.intake.journey``): while the patient
answers, their held time waits; an acute answer or an under-18 date of birth gives it back at
once; every step shows the held time and how long it is kept."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils import timezone

from clinic.accounts.models import User
from clinic.audit.actions import Via
from clinic.intake.models import IntakeResponse
from clinic.scheduling import actions
from clinic.scheduling.models import Hold

# Session keys, scheduling's own: the browser's hold key and the hold waiting for the intake.
HOLDER_KEY = "hold_holder"
WAITING_HOLD_KEY = "booking_hold"


class BookingJourney:
    """Installed for every request: the held time while the questionnaire is answered, and the
    patient's bookings following their latest screen."""

    def screened(self, *, patient: User, intake: IntakeResponse, via: Via | None) -> None:
        actions.do_follow_latest_screen(patient=patient, intake=intake, via=via)

    def keep(self, request: HttpRequest) -> None:
        holder, hold_id = request.session.get(HOLDER_KEY), request.session.get(WAITING_HOLD_KEY)
        if holder and hold_id:
            actions.do_extend_hold(holder=holder, hold_id=hold_id)

    def stop(self, request: HttpRequest) -> None:
        holder = request.session.get(HOLDER_KEY)
        request.session.pop(WAITING_HOLD_KEY, None)
        if holder:
            actions.do_release_holds(holder=holder)

    def banner(self, request: HttpRequest) -> dict[str, object]:
        holder, hold_id = request.session.get(HOLDER_KEY), request.session.get(WAITING_HOLD_KEY)
        if not (holder and hold_id):
            return {}
        held = (
            Hold.objects.select_related("clinician")
            .filter(
                public_id=hold_id,
                session_key_hash=actions.session_hash(holder),
                expires_at__gt=timezone.now(),
            )
            .first()
        )
        return {"held": held} if held is not None else {}
