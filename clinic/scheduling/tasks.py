import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django_tasks import task

from clinic.mail import queue_email
from clinic.scheduling import availability
from clinic.scheduling.jurisdictions import jurisdiction_name
from clinic.scheduling.models import (
    AppointmentKind,
    AppointmentType,
    Booking,
    BookingStatus,
    ReminderKind,
    ReminderSent,
    WaitlistEntry,
)

# Each reminder and how long before the start it goes out.
REMINDERS = (
    (ReminderKind.DAY_BEFORE, dt.timedelta(hours=24)),
    (ReminderKind.HOUR_BEFORE, dt.timedelta(hours=1)),
)
SWEEP_EVERY = dt.timedelta(minutes=1)


@task()
def notify_waitlist(*, jurisdiction: str) -> int:
    """Email everyone waiting for ``jurisdiction`` once free slots exist there. Each person is
    told once; the first to book gets the time."""
    waiting = WaitlistEntry.objects.filter(jurisdiction=jurisdiction, notified_at__isnull=True)
    if not waiting.exists():
        return 0
    appointment_type = AppointmentType.objects.get(kind=AppointmentKind.CONSULTATION)
    now = timezone.now()
    found, _ = availability.free_slots(
        jurisdiction=jurisdiction,
        appointment_type=appointment_type,
        start=now,
        end=now + dt.timedelta(days=appointment_type.horizon_days),
    )
    if not found:
        return 0
    sent = 0
    book_url = f"{settings.SITE_URL}{reverse('scheduling:book')}"
    with transaction.atomic():
        for entry in waiting.select_for_update():
            entry.notified_at = now
            entry.save(update_fields=["notified_at"])
            queue_email(
                to=entry.email,
                template="scheduling/email/waitlist",
                context={
                    "place": jurisdiction_name(jurisdiction),
                    "book_url": f"{book_url}?jurisdiction={jurisdiction}",
                },
            )
            sent += 1
    return sent


def sweep_reminders(now: dt.datetime | None = None) -> int:
    """Claim and queue every reminder that is due and not yet claimed; return how many.

    Exactly once, whatever happens: each reminder is claimed by inserting a ``ReminderSent`` row
    (unique per booking, kind and start) in the same transaction that queues its email task. Two
    workers sweeping at once cannot both insert the row; a crash before the commit leaves neither
    row nor task, so the next sweep does it; a crash after leaves both, so nothing repeats. The
    claim names the start time, so a rescheduled booking gets fresh reminders and the email task
    drops one whose booking has since been cancelled or moved.
    """
    now = now or timezone.now()
    queued = 0
    for kind, lead in REMINDERS:
        due = Booking.objects.filter(
            status=BookingStatus.CONFIRMED,
            start__gt=now,
            start__lte=now + lead,
            # Booked after this reminder's moment (the confirmation just went out): no reminder.
            created_at__lte=F("start") - lead,
        ).exclude(reminders__kind=kind, reminders__start=F("start"))
        if kind == ReminderKind.DAY_BEFORE:
            # Inside the last hour the one-hour reminder is the one to send.
            due = due.filter(start__gt=now + dt.timedelta(hours=1))
        for booking_id, public_id, start in due.values_list("id", "public_id", "start"):
            try:
                with transaction.atomic():
                    ReminderSent.objects.create(booking_id=booking_id, kind=kind, start=start, claimed_at=now)
                    send_reminder.enqueue(booking_id=str(public_id), kind=str(kind), start=start.isoformat())
            except IntegrityError:
                continue  # another worker claimed it first
            queued += 1
    return queued


@task()
def send_reminder(*, booking_id: str, kind: str, start: str) -> str:
    booking = Booking.objects.select_related("patient", "clinician").filter(public_id=booking_id).first()
    if booking is None or booking.status != BookingStatus.CONFIRMED or booking.start.isoformat() != start:
        return "stale"  # cancelled or moved since the reminder was claimed
    zone = ZoneInfo(booking.patient_time_zone)
    context = {
        "clinic_name": settings.CLINIC_NAME,
        "site_url": settings.SITE_URL,
        "when": booking.start.astimezone(zone),
        "zone": booking.patient_time_zone,
        "clinician": booking.clinician.display_name,
        "hours": 24 if kind == ReminderKind.DAY_BEFORE else 1,
        "join_url": f"{settings.SITE_URL}{reverse('visits:visit', args=[booking.public_id])}",
    }
    subject = render_to_string("scheduling/email/reminder_subject.txt", context).strip()
    body = render_to_string("scheduling/email/reminder.txt", context)
    EmailMultiAlternatives(f"[{settings.CLINIC_NAME}] {subject}", body, to=[booking.patient.email]).send()
    return "sent"


@task()
def reminder_sweep() -> int:
    """Run the sweep, then queue the next one: the worker keeps the reminders going by itself."""
    queued = sweep_reminders()
    if reminder_sweep.get_backend().supports_defer:  # the immediate backend (tests) cannot wait
        reminder_sweep.using(run_after=timezone.now() + SWEEP_EVERY).enqueue()
    return queued
