import datetime as dt

import pytest
from django.core import mail
from django.db import connection
from django.urls import reverse

from clinic.audit.models import Action, AuditEvent
from clinic.content import pages
from clinic.content.models import ContactMessage, ContactStatus
from tests.support.personas import client_for

PUBLIC = [
    "/",
    "/learn/",
    "/crisis/",
    "/contact/",
    "/privacy/",
    "/terms/",
    "/accounts/login/",
    "/accounts/signup/",
]
GOOD = {"name": "Rae", "email": "rae@example.org", "phone": "", "message": "Is the consultation really free?"}


@pytest.mark.django_db
@pytest.mark.parametrize("url", PUBLIC + [f"/learn/{p.slug}/" for p in pages.all_pages()])
def test_every_public_page_links_to_crisis_help_and_says_it_is_not_an_emergency_service(client, url):
    response = client.get(url)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'href="/crisis/"' in body
    assert "988" in body
    assert "not an emergency service" in body


def test_learn_pages_exist_with_citations_for_their_numbers():
    slugs = {p.slug for p in pages.all_pages()}
    assert {
        "ketamine-for-depression",
        "routes",
        "evidence",
        "risks",
        "who-it-is-not-for",
        "consultation",
    } <= slugs
    for page in pages.all_pages():
        assert page.title and page.summary
        assert 'class="footnote"' in page.html, page.slug  # every page cites its sources
        assert "<script" not in page.html


def test_markdown_is_sanitised():
    html, _ = pages.render_markdown(
        "Hello <script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>"
    )
    assert "<script" not in html
    assert "javascript:" not in html
    assert "onerror" not in html


@pytest.mark.django_db
def test_unknown_learn_page_is_404(client):
    assert client.get("/learn/no-such-page/").status_code == 404


@pytest.mark.django_db
def test_crisis_page_shows_the_chosen_country_and_falls_back_to_the_default(client):
    body = client.get("/crisis/?country=GB").content.decode()
    assert "116 123" in body and "999" in body
    body = client.get("/crisis/?country=ZZ").content.decode()
    assert "988" in body


@pytest.mark.django_db
def test_contact_message_is_stored_encrypted_acknowledged_without_its_text_and_audited(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("content:contact"), GOOD)
    assert response.status_code == 302
    message = ContactMessage.objects.get()
    assert message.message == GOOD["message"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT message, email FROM content_contactmessage")
        stored = cursor.fetchone()
    assert "consultation" not in stored[0] and "rae@" not in stored[1]
    assert len(mail.outbox) == 1
    ack = mail.outbox[0]
    assert ack.to == ["rae@example.org"]
    assert "consultation really free" not in ack.body
    assert "not an emergency service" in ack.body
    assert AuditEvent.objects.filter(
        action=Action.CONTACT_RECEIVED, subject_id=str(message.public_id)
    ).exists()
    thanks = client.get(response["Location"]).content.decode()
    assert "988" in thanks


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change, error",
    [
        ({"name": ""}, "This field is required"),
        ({"email": "rae-at-example"}, "Enter a valid email address"),
        ({"message": ""}, "This field is required"),
        ({"phone": "call me"}, "phone number"),
        ({"message": "x" * 5001}, "at most 5000 characters"),
    ],
)
def test_bad_contact_input_gets_a_clear_message_and_saves_nothing(
    client, change, error, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(reverse("content:contact"), {**GOOD, **change})
    assert callbacks == []
    assert response.status_code == 400
    assert error in response.content.decode()
    assert ContactMessage.objects.count() == 0
    assert len(mail.outbox) == 0


@pytest.mark.django_db
def test_honeypot_pretends_success_and_saves_nothing(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(reverse("content:contact"), {**GOOD, "website": "http://spam.example"})
    assert callbacks == []
    assert response.status_code == 302
    assert ContactMessage.objects.count() == 0
    assert len(mail.outbox) == 0


@pytest.mark.django_db
def test_contact_form_is_rate_limited_per_address(client, settings):
    settings.CONTACT_RATE = "3/h"
    for _ in range(3):
        assert client.post(reverse("content:contact"), GOOD).status_code == 302
    response = client.post(reverse("content:contact"), GOOD)
    assert response.status_code == 429
    assert "wait an hour" in response.content.decode()
    assert ContactMessage.objects.count() == 3
    # Another address is not affected.
    assert client.post(reverse("content:contact"), GOOD, REMOTE_ADDR="10.0.0.9").status_code == 302


def make_message() -> ContactMessage:
    from django.utils import timezone

    return ContactMessage.objects.create(
        received_at=timezone.now(), name="Rae", email="rae@example.org", message="Hello there"
    )


@pytest.mark.django_db
def test_staff_read_and_close_a_message_and_both_are_audited(staff):
    message = make_message()
    client = client_for(staff)
    inbox = client.get(reverse("content:inbox")).content.decode()
    assert "Rae" in inbox
    page = client.get(reverse("content:inbox_message", args=[message.public_id]))
    assert "Hello there" in page.content.decode()
    assert AuditEvent.objects.filter(
        action=Action.CONTACT_READ, actor=staff, subject_id=str(message.public_id)
    ).exists()
    response = client.post(reverse("content:inbox_status", args=[message.public_id]), {"status": "closed"})
    assert response.status_code == 302
    message.refresh_from_db()
    assert message.status == ContactStatus.CLOSED and message.handled_by == staff
    closed = client.get(reverse("content:inbox") + "?status=closed").content.decode()
    assert "Rae" in closed


@pytest.mark.django_db
def test_bad_status_changes_nothing(staff):
    message = make_message()
    client_for(staff).post(reverse("content:inbox_status", args=[message.public_id]), {"status": "deleted"})
    message.refresh_from_db()
    assert message.status == ContactStatus.NEW


@pytest.mark.django_db
def test_inbox_is_closed_to_everyone_but_staff(patient, clinician, anon_client):
    message = make_message()
    urls = [
        reverse("content:inbox"),
        reverse("content:inbox_message", args=[message.public_id]),
    ]
    for url in urls:
        assert anon_client.get(url).status_code == 302
        assert client_for(patient).get(url).status_code == 403
        assert client_for(clinician).get(url).status_code == 403
    status_url = reverse("content:inbox_status", args=[message.public_id])
    assert client_for(patient).post(status_url, {"status": "closed"}).status_code == 403
    message.refresh_from_db()
    assert message.status == ContactStatus.NEW
    assert not AuditEvent.objects.filter(action=Action.CONTACT_READ).exists()


@pytest.mark.django_db
def test_unknown_message_id_is_404_for_staff(staff):
    import uuid

    assert client_for(staff).get(reverse("content:inbox_message", args=[uuid.uuid4()])).status_code == 404
    assert client_for(staff).get("/staff/inbox/12/").status_code == 404  # integer ids never resolve


@pytest.mark.django_db
def test_healthz_reports_database_and_idle_worker(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


@pytest.mark.django_db
def test_healthz_reports_a_stalled_worker(client, settings):
    import time_machine
    from django_tasks_db.backend import DatabaseBackend

    from clinic.mail import send_email_task

    settings.TASKS_BACKEND = "database"
    backend = DatabaseBackend("default", {"QUEUES": [], "OPTIONS": {}})
    start = dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False) as traveller:
        backend.enqueue(send_email_task, (), {"kind": "content/email/contact_ack", "refs": {}})
        assert client.get("/healthz").json()["worker"]["status"] == "ok"
        traveller.move_to(start + dt.timedelta(minutes=5))
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["worker"]["status"] == "stalled"
