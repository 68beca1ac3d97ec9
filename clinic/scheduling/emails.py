"""Booking emails, built by the worker from a booking's public id (``clinic.mail``).

Any booking email may carry the manage link: the action passes the raw token as a sealed
secret (``manage_token``), the worker builds the link, and only its hash is ever stored.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.urls import reverse

from clinic.accounts.jurisdictions import jurisdiction_name
from clinic.mail import Outgoing, Templates, email_kind
from clinic.scheduling.ics import booking_ics
from clinic.scheduling.models import AppointmentKind, Booking, BookingStatus, ReminderKind, WaitlistEntry

BOOKING_TEMPLATES = (
    "scheduling/email/booked",
    "scheduling/email/rescheduled",
    "scheduling/email/cancelled",
)
METHODS = {"REQUEST", "CANCEL"}


def _booking(refs: dict[str, str]) -> Booking | None:
    return (
        Booking.objects.select_related("patient", "clinician", "appointment_type")
        .filter(public_id=refs["booking"])
        .first()
    )


def _site(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def _where(booking: Booking) -> dict[str, bool]:
    """Whether the appointment is at the clinic and whether it is the free consultation: what
    the emails say about it, no more."""
    return {
        "in_person": booking.appointment_type.in_person,
        "free": booking.appointment_type.kind == AppointmentKind.CONSULTATION,
    }


def booking_email(template: str, refs: dict[str, str], secrets: dict[str, Any]) -> Outgoing | None:
    booking = _booking(refs)
    if booking is None:
        return None
    method = refs.get("method", "REQUEST")
    if method not in METHODS:
        raise ValueError(f"Unknown calendar method {method!r}.")
    token = secrets.get("manage_token")
    manage_url = _site(reverse("scheduling:manage", args=[token])) if token else ""
    by_clinic = refs.get("by") == "clinic"
    context = {
        "when": booking.start.astimezone(ZoneInfo(booking.patient_time_zone)),
        "zone": booking.patient_time_zone,
        "clinician": booking.clinician.display_name,
        "manage_url": manage_url,
        "account_url": _site(reverse("accounts:home")),
        "by_clinic": by_clinic,
        **_where(booking),
        # Only the clinic's own note is repeated to the patient, never the patient's to anyone.
        "reason": booking.cancel_reason if by_clinic else "",
    }
    ics = booking_ics(booking, method=method, manage_url=manage_url)
    return Outgoing(
        to=booking.patient.email,
        templates=Templates.clinic(template),
        context=context,
        attachments=[("appointment.ics", ics, f"text/calendar; method={method}")],
    )


def _register_booking_email(template: str) -> None:
    @email_kind(template)
    def build(refs: dict[str, str], secrets: dict[str, Any]) -> Outgoing | None:
        return booking_email(template, refs, secrets)


for _template in BOOKING_TEMPLATES:
    _register_booking_email(_template)


@email_kind("scheduling/email/reminder")
def reminder_email(refs: dict[str, str], secrets: dict[str, Any]) -> Outgoing | None:
    booking = _booking(refs)
    if (
        booking is None
        or booking.status != BookingStatus.CONFIRMED
        or booking.start.isoformat() != refs["start"]
    ):
        return None  # cancelled or moved since the reminder was claimed
    return Outgoing(
        to=booking.patient.email,
        templates=Templates.clinic("scheduling/email/reminder"),
        context={
            "when": booking.start.astimezone(ZoneInfo(booking.patient_time_zone)),
            "zone": booking.patient_time_zone,
            "clinician": booking.clinician.display_name,
            "hours": 24 if refs["kind"] == ReminderKind.DAY_BEFORE else 1,
            "join_url": _site(reverse("visits:visit", args=[booking.public_id])),
            "account_url": _site(reverse("accounts:home")),
            **_where(booking),
        },
    )


@email_kind("scheduling/email/waitlist")
def waitlist_email(refs: dict[str, str], secrets: dict[str, Any]) -> Outgoing | None:
    entry = WaitlistEntry.objects.filter(public_id=refs["entry"]).first()
    if entry is None:
        return None
    return Outgoing(
        to=entry.email,
        templates=Templates.clinic("scheduling/email/waitlist"),
        context={
            "place": jurisdiction_name(entry.jurisdiction),
            "book_url": f"{_site(reverse('scheduling:book'))}?jurisdiction={entry.jurisdiction}",
        },
    )


@email_kind("scheduling/email/move_offer")
def move_offer_email(refs: dict[str, str], secrets: dict[str, Any]) -> Outgoing | None:
    """The offer of another licensed doctor: useless without its link, so it does not go
    once the sealed token has expired (the booking stays listed for staff)."""
    booking = _booking(refs)
    token = secrets.get("manage_token")
    if booking is None or booking.status != BookingStatus.CONFIRMED or not token:
        return None
    return Outgoing(
        to=booking.patient.email,
        templates=Templates.clinic("scheduling/email/move_offer"),
        context={
            "when": booking.start.astimezone(ZoneInfo(booking.patient_time_zone)),
            "zone": booking.patient_time_zone,
            "clinician": booking.clinician.display_name,
            "manage_url": _site(reverse("scheduling:manage_move", args=[token])),
        },
    )
