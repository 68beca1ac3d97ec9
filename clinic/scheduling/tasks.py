import datetime as dt

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django_tasks import task

from clinic import mail
from clinic.audit.actions import audit_record
from clinic.audit.models import Action
from clinic.scheduling import availability
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
    with transaction.atomic():
        for entry in waiting.select_for_update():
            entry.notified_at = now
            entry.save(update_fields=["notified_at"])
            mail.queue_email("scheduling/email/waitlist", refs={"entry": str(entry.public_id)})
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
                    audit_record(
                        action=Action.REMINDER_QUEUED,
                        subject_type="scheduling.booking",
                        subject_id=str(public_id),
                        reason=str(kind),
                    )
            except IntegrityError:
                continue  # another worker claimed it first
            queued += 1
    return queued


@task()
def send_reminder(*, booking_id: str, kind: str, start: str) -> str:
    """ "sent", or "stale" when the booking was cancelled or moved since the claim."""
    return mail.send("scheduling/email/reminder", refs={"booking": booking_id, "kind": kind, "start": start})


@task()
def notice_uncovered_task() -> int:
    # Imported here: actions imports this module for its tasks (same app, no layer crossed).
    from clinic.scheduling.actions import notice_uncovered

    return notice_uncovered()


@task()
def reminder_sweep() -> int:
    """Run the sweep, then queue the next one: the worker keeps the reminders going by itself.
    Each pass also notices bookings whose licence stopped covering them (an expiry that comes
    within the horizon is noticed as it comes)."""
    from clinic.scheduling.actions import notice_uncovered

    queued = sweep_reminders()
    notice_uncovered()
    if reminder_sweep.get_backend().supports_defer:  # the immediate backend (tests) cannot wait
        reminder_sweep.using(run_after=timezone.now() + SWEEP_EVERY).enqueue()
    return queued
