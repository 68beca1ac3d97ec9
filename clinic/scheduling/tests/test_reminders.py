import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.test import Client

from clinic.scheduling import tasks
from clinic.scheduling.models import Booking, ReminderSent
from tests.support.booking import adult, book_as, slot_starts

pytestmark = pytest.mark.django_db


@pytest.fixture
def booking(frozen, open_clinic, patient, django_capture_on_commit_callbacks):
    """A consultation booked on 1 Dec at 12:00 UTC for 3 Dec, 14:00 UTC."""
    starts = slot_starts(
        Client().get("/book/", {"jurisdiction": "US-NY", "tz": "America/New_York", "start": "2026-12-03"})
    )
    start = next(s for s in starts if s.startswith("2026-12-03T14:00"))
    book_as(adult(patient), start, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    return Booking.objects.get()


def reminders():
    return [m for m in mail.outbox if "Reminder" in m.subject]


def test_each_reminder_goes_once_at_its_time(booking, frozen):
    assert tasks.sweep_reminders() == 0  # two days ahead: nothing yet
    frozen.move_to(booking.start - dt.timedelta(hours=23, minutes=59))
    assert tasks.sweep_reminders() == 1
    assert tasks.sweep_reminders() == 0  # the same sweep again sends nothing more
    (day_before,) = reminders()
    assert (
        "tomorrow" in day_before.subject
        and "9:00 AM" in day_before.body
        and "America/New_York" in day_before.body
    )
    assert f"/visits/{booking.public_id}/" in day_before.body
    for word in ("ketamine", "depress", "suicid"):
        assert word not in day_before.body.lower()
    frozen.move_to(booking.start - dt.timedelta(minutes=59))
    assert tasks.sweep_reminders() == 1
    assert tasks.sweep_reminders() == 0
    assert [("in one hour" in m.subject) for m in reminders()] == [False, True]


def test_a_cancelled_booking_gets_no_reminder(booking, frozen, django_capture_on_commit_callbacks):
    from clinic.scheduling.actions import do_cancel

    with django_capture_on_commit_callbacks(execute=True):
        do_cancel(actor=None, booking=booking, reason="")
    frozen.move_to(booking.start - dt.timedelta(hours=2))
    assert tasks.sweep_reminders() == 0
    assert reminders() == []


def test_a_reminder_claimed_before_a_reschedule_is_not_sent_stale(booking, frozen):
    frozen.move_to(booking.start - dt.timedelta(hours=23))
    ReminderSent.objects.create(booking=booking, kind="24h", start=booking.start, claimed_at=booking.start)
    assert (
        tasks.send_reminder.call(
            booking_id=str(booking.public_id),
            kind="24h",
            start=(booking.start + dt.timedelta(hours=1)).isoformat(),
        )
        == "stale"
    )
    # Moved to the next day: the new time gets its own reminders in due course.
    new_start = booking.start + dt.timedelta(days=1)
    Booking.objects.filter(pk=booking.pk).update(
        start=new_start,
        end=new_start + dt.timedelta(minutes=20),
        blocked_start=new_start,
        blocked_end=new_start + dt.timedelta(minutes=30),
    )
    assert tasks.sweep_reminders() == 0  # not due for the new time yet
    frozen.move_to(new_start - dt.timedelta(hours=23))
    assert tasks.sweep_reminders() == 1
    assert ReminderSent.objects.filter(booking=booking, kind="24h").count() == 2


def test_a_crash_mid_sweep_neither_loses_nor_repeats(
    booking, frozen, other_patient, django_capture_on_commit_callbacks, monkeypatch
):
    later = slot_starts(
        Client().get("/book/", {"jurisdiction": "US-NY", "tz": "America/New_York", "start": "2026-12-03"})
    )
    book_as(adult(other_patient), later[3], django_capture_on_commit_callbacks)
    mail.outbox.clear()
    frozen.move_to(booking.start - dt.timedelta(hours=12))
    real = tasks.send_reminder

    class CrashOnSecond:
        calls = 0

        def enqueue(self, **kwargs):
            CrashOnSecond.calls += 1
            if CrashOnSecond.calls == 2:
                raise RuntimeError("worker killed")
            return real.enqueue(**kwargs)

    monkeypatch.setattr(tasks, "send_reminder", CrashOnSecond())
    with pytest.raises(RuntimeError):
        tasks.sweep_reminders()
    assert len(reminders()) == 1 and ReminderSent.objects.count() == 1
    monkeypatch.setattr(tasks, "send_reminder", real)
    assert tasks.sweep_reminders() == 1
    assert tasks.sweep_reminders() == 0
    assert len(reminders()) == 2
    assert {m.to[0] for m in reminders()} == {booking.patient.email, other_patient.email}


def test_the_real_worker_command_sends_them_at_the_frozen_time(booking, frozen, settings, monkeypatch):
    """The database task backend and `manage.py db_worker`, with two sweeps queued as two
    workers would: still one email per reminder."""
    # In-process, the worker's housekeeping would close the connection that holds this test's
    # transaction (PostgreSQL); the worker itself runs unchanged.
    monkeypatch.setattr("django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None)
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    frozen.move_to(booking.start - dt.timedelta(hours=23, minutes=30))
    tasks.reminder_sweep.enqueue()
    tasks.reminder_sweep.enqueue()
    call_command(
        "db_worker",
        batch=True,
        interval=0,
        no_startup_delay=True,
        stdout=open("/dev/null", "w"),
        stderr=open("/dev/null", "w"),
    )
    assert len(reminders()) == 1
    with time_machine.travel(booking.start - dt.timedelta(minutes=50), tick=False):
        call_command(
            "db_worker",
            batch=True,
            interval=0,
            no_startup_delay=True,
            stdout=open("/dev/null", "w"),
            stderr=open("/dev/null", "w"),
        )
    assert len(reminders()) == 2


def test_the_sweep_runs_under_the_immediate_backend_without_queueing_itself(booking, frozen):
    frozen.move_to(booking.start - dt.timedelta(hours=23))
    tasks.reminder_sweep.enqueue()
    assert len(reminders()) == 1
