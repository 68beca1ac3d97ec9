"""Email tasks carry identifiers only and are rendered by the worker; capabilities travel
sealed and expire; finished task rows are pruned; plain text is not HTML-escaped."""

import datetime as dt
import json
import re
import uuid

import pytest
import time_machine
from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from clinic import mail as clinic_mail
from clinic import taskqueue
from clinic.scheduling.models import Booking
from tests.support.booking import adult, confirm, hold, slot_starts
from tests.support.personas import client_for
from tests.support.worker import run_worker, use_database_queue

pytestmark = pytest.mark.django_db

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
CODES = {"REQUEST", "CANCEL", "clinic", "patient"}


def email_rows() -> list[dict]:
    return [
        row.args_kwargs["kwargs"]
        for row in DBTaskResult.objects.filter(task_path="clinic.mail.send_email_task")
    ]


def assert_identifiers_only(kwargs: dict) -> None:
    for key, value in kwargs["refs"].items():
        allowed = UUID.match(value) or value in CODES or (key == "template" and value.startswith("account/"))
        assert allowed, f"{key}={value!r} is not an identifier or a fixed code"
    assert kwargs["sealed"] == "" or kwargs["sealed"].startswith("gAAAA")


def book(patient) -> Client:
    client = client_for(adult(patient))
    start = slot_starts(Client().get("/book/", {"jurisdiction": "US-NY", "tz": "America/New_York"}))[2]
    confirm(client, hold(client, start))
    return client


def test_booking_email_task_holds_ids_and_a_sealed_token_and_the_worker_writes_the_link(
    frozen, open_clinic, patient, settings, monkeypatch, django_capture_on_commit_callbacks
):
    use_database_queue(settings, monkeypatch)
    with django_capture_on_commit_callbacks(execute=True):
        book(patient)
    (kwargs,) = email_rows()
    assert kwargs["kind"] == "scheduling/email/booked"
    assert_identifiers_only(kwargs)
    stored = json.dumps([row.args_kwargs for row in DBTaskResult.objects.all()])
    assert patient.email not in stored and open_clinic.display_name not in stored
    assert not mail.outbox  # nothing is sent before the worker runs
    run_worker()
    (message,) = mail.outbox
    found = re.search(r"/manage/([^/\s]+)/", str(message.body))
    assert found is not None
    token = found.group(1)
    assert Booking.objects.by_manage_token(token).exists()
    assert token not in json.dumps([row.args_kwargs for row in DBTaskResult.objects.all()])
    assert message.to == [patient.email] and open_clinic.display_name in message.body


def test_a_sealed_token_older_than_a_day_is_not_opened_and_the_email_points_to_the_account(
    frozen, open_clinic, patient, settings, monkeypatch, django_capture_on_commit_callbacks
):
    use_database_queue(settings, monkeypatch)
    with django_capture_on_commit_callbacks(execute=True):
        book(patient)
    frozen.shift(clinic_mail.SEALED_FOR + dt.timedelta(minutes=1))
    run_worker()
    (message,) = mail.outbox
    assert "/manage/" not in message.body
    assert reverse("accounts:home") in message.body


def test_seal_is_bound_to_its_purpose_and_age():
    from clinic import crypto

    sealed = crypto.seal({"manage_token": "abc"}, purpose="email")
    assert crypto.unseal(sealed, purpose="email", max_age=dt.timedelta(hours=1)) == {"manage_token": "abc"}
    assert crypto.unseal(sealed, purpose="other", max_age=dt.timedelta(hours=1)) is None
    assert crypto.unseal("not a token", purpose="email", max_age=dt.timedelta(hours=1)) is None
    with time_machine.travel(timezone.now() + dt.timedelta(hours=2)):
        assert crypto.unseal(sealed, purpose="email", max_age=dt.timedelta(hours=1)) is None


def test_contact_acknowledgement_task_holds_only_the_message_id_and_its_text_is_not_escaped(
    settings, monkeypatch, django_capture_on_commit_callbacks
):
    use_database_queue(settings, monkeypatch)
    name = '<img src=x onerror="alert(1)"> & Sons'
    with django_capture_on_commit_callbacks(execute=True):
        Client().post(
            "/contact/", {"name": name, "email": "writer@example.org", "message": "Is this right for me?"}
        )
    (kwargs,) = email_rows()
    assert_identifiers_only(kwargs)
    assert "writer@example.org" not in json.dumps(kwargs) and "Sons" not in json.dumps(kwargs)
    run_worker()
    (ack,) = mail.outbox
    assert ack.to == ["writer@example.org"]
    assert f"Hello {name}," in ack.body
    assert "&lt;" not in ack.body and "&quot;" not in ack.body and "&amp;" not in ack.body


def test_allauth_emails_keep_the_address_and_the_reset_link_out_of_the_queue(
    patient, settings, monkeypatch, django_capture_on_commit_callbacks
):
    use_database_queue(settings, monkeypatch)
    with django_capture_on_commit_callbacks(execute=True):
        Client().post(reverse("account_reset_password"), {"email": patient.email})
        Client().post(reverse("account_reset_password"), {"email": "nobody-here@example.org"})
    rows = email_rows()
    assert [row["refs"]["template"] for row in rows] == [
        "account/email/password_reset_key",
        "account/email/unknown_account",
    ]
    for row in rows:
        assert_identifiers_only(row)
    stored = json.dumps(rows)
    assert (
        patient.email not in stored and "nobody-here" not in stored and "/password/reset/key/" not in stored
    )
    run_worker()
    reset, unknown = mail.outbox
    assert reset.to == [patient.email] and "/accounts/password/reset/key/" in reset.body
    assert unknown.to == ["nobody-here@example.org"] and "nobody-here@example.org" in unknown.body
    assert reset.subject.startswith(f"[{settings.CLINIC_NAME}] ")


def test_an_allauth_email_whose_sealed_part_expired_is_not_sent(
    patient, settings, monkeypatch, django_capture_on_commit_callbacks
):
    use_database_queue(settings, monkeypatch)
    with django_capture_on_commit_callbacks(execute=True):
        Client().post(reverse("account_reset_password"), {"email": patient.email})
    with time_machine.travel(timezone.now() + clinic_mail.SEALED_FOR + dt.timedelta(minutes=1)):
        run_worker()
    assert not mail.outbox
    assert DBTaskResult.objects.get().return_value == "expired"


TEMPLATES = {
    "t/email/x_subject.txt": "About {{ name }}",
    "t/email/x.txt": "Dear {{ name }},\n{% include 't/email/part.txt' %}",
    "t/email/part.txt": "{{ name }} again",
    "t/email/x.html": "<p>Dear {{ name }}</p>",
}


@override_settings(
    TEMPLATES=[
        {
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            "OPTIONS": {"loaders": [("django.template.loaders.locmem.Loader", TEMPLATES)]},
        }
    ]
)
def test_plain_text_is_rendered_without_escaping_and_html_with_it():
    subject, text, html = clinic_mail.render(
        clinic_mail.Templates.clinic("t/email/x"), {"name": "<b>R&D</b>"}
    )
    assert subject.endswith("About <b>R&D</b>")
    assert text == "Dear <b>R&D</b>,\n<b>R&D</b> again"
    assert html == "<p>Dear &lt;b&gt;R&amp;D&lt;/b&gt;</p>"


def test_an_unregistered_email_kind_fails_in_the_request_not_in_the_worker():
    with pytest.raises(LookupError):
        clinic_mail.queue_email("no/such/email", refs={})


def finished(status: str, age: dt.timedelta) -> DBTaskResult:
    now = timezone.now()
    return DBTaskResult.objects.create(
        status=status,
        args_kwargs={"args": [], "kwargs": {}},
        task_path="clinic.mail.send_email_task",
        backend_name="default",
        run_after=now - age,
        started_at=now - age,
        finished_at=now - age,
    )


def test_the_worker_prunes_finished_rows_on_a_schedule(settings, monkeypatch):
    use_database_queue(settings, monkeypatch)
    old = finished("SUCCESSFUL", taskqueue.KEEP_FINISHED + dt.timedelta(minutes=1))
    recent = finished("SUCCESSFUL", dt.timedelta(minutes=5))
    failed_recently = finished("FAILED", dt.timedelta(days=2))
    failed_long_ago = finished("FAILED", taskqueue.KEEP_FAILED + dt.timedelta(hours=1))
    taskqueue.prune_tasks.enqueue()
    run_worker()
    left = set(DBTaskResult.objects.values_list("id", flat=True))
    assert old.id not in left and failed_long_ago.id not in left
    assert {recent.id, failed_recently.id} <= left
    queued = DBTaskResult.objects.filter(task_path="clinic.taskqueue.prune_tasks", status="READY").get()
    assert queued.run_after > timezone.now() + taskqueue.PRUNE_EVERY - dt.timedelta(minutes=1)


def test_start_reminders_queues_the_pruning_once(settings, monkeypatch):
    from django.core.management import call_command

    use_database_queue(settings, monkeypatch)
    settings.TASKS_BACKEND = "database"
    with open("/dev/null", "w") as quiet:
        call_command("start_reminders", stdout=quiet)
        call_command("start_reminders", stdout=quiet)
    paths = list(DBTaskResult.objects.values_list("task_path", flat=True))
    assert sorted(paths) == [
        "clinic.intake.tasks.urgent_sweep",
        "clinic.measures.tasks.checkin_sweep",
        "clinic.outcomes.tasks.nightly_snapshot",
        "clinic.scheduling.tasks.reminder_sweep",
        "clinic.taskqueue.prune_tasks",
    ]


def test_unknown_ids_make_a_stale_email_not_a_failure():
    assert clinic_mail.send("scheduling/email/booked", refs={"booking": str(uuid.uuid4())}) == "stale"


def test_on_rq_finished_and_failed_jobs_lose_their_data_on_the_same_schedule(settings):
    """Against the Redis the suite runs beside (a database number of its own, emptied first)."""
    import django_rq
    import redis
    from rq import SimpleWorker
    from rq.job import Job

    url = "redis://127.0.0.1:6379/13"
    try:
        redis.Redis.from_url(url).ping()
    except redis.ConnectionError:
        pytest.fail("Redis is not running on 127.0.0.1:6379 (the suite needs it for the RQ tests)")
    settings.RQ_QUEUES = {"default": {"URL": url}}
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend"}}
    previous_queues = django_rq.settings.QUEUES
    django_rq.settings.QUEUES = {"default": {"URL": url}}
    try:
        queue = django_rq.get_queue("default")
        queue.connection.flushdb()
        ok = clinic_mail.send_email_task.enqueue(
            kind="scheduling/email/booked", refs={"booking": str(uuid.uuid4())}
        )
        broken = clinic_mail.send_email_task.enqueue(kind="no/such/email", refs={})
        SimpleWorker([queue], connection=queue.connection).work(burst=True)
        assert Job.exists(ok.id, connection=queue.connection)
        assert Job.exists(broken.id, connection=queue.connection)
        assert taskqueue.prune() == 0  # both are younger than their keep
        with time_machine.travel(timezone.now() + taskqueue.KEEP_FAILED + dt.timedelta(hours=1)):
            assert taskqueue.prune() == 2
        assert not Job.exists(ok.id, connection=queue.connection)
        assert not Job.exists(broken.id, connection=queue.connection)
    finally:
        queue.connection.flushdb()
        django_rq.settings.QUEUES = previous_queues
