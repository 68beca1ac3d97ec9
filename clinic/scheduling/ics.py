"""Calendar invitations (RFC 5545 via icalendar). A calendar is often seen by others, so the
event says only that there is an appointment with the clinic (by video or at its site): no clinical word."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event, vCalAddress, vText

from clinic.scheduling.models import Booking


def booking_ics(
    booking: Booking, *, method: str = "REQUEST", join_url: str = "", manage_url: str = ""
) -> str:
    cal = Calendar()
    cal.add("prodid", f"-//{settings.CLINIC_NAME}//Appointments//EN")
    cal.add("version", "2.0")
    cal.add("method", method)
    event = Event()
    event.add("uid", booking.ics_uid)
    event.add("sequence", booking.ics_sequence)
    event.add("dtstamp", timezone.now())  # when this copy of the invitation was made
    event.add("dtstart", booking.start)
    event.add("dtend", booking.end)
    what = "Appointment at" if booking.appointment_type.in_person else "Video appointment with"
    event.add("summary", f"{what} {settings.CLINIC_NAME}")
    lines = [
        "Your appointment at the clinic." if booking.appointment_type.in_person else "Your video appointment."
    ]
    if join_url:
        lines.append(f"Join from your browser: {join_url}")
    if manage_url:
        lines.append(f"Change or cancel: {manage_url}")
    event.add("description", "\n".join(lines))
    if join_url:
        event.add("location", join_url)
    organizer = vCalAddress(f"mailto:{_address(settings.DEFAULT_FROM_EMAIL)}")
    organizer.params["cn"] = vText(settings.CLINIC_NAME)
    event.add("organizer", organizer)
    attendee = vCalAddress(f"mailto:{booking.patient.email}")
    attendee.params["role"] = vText("REQ-PARTICIPANT")
    event.add("attendee", attendee)
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    cal.add_component(event)
    return cal.to_ical().decode()


def _address(from_email: str) -> str:
    return from_email.rsplit("<", 1)[-1].rstrip(">").strip()
