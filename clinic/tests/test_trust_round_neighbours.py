"""Neighbours of the safety and trust round (issue 9): the paths next to the ones the round fixed.
An acute screen after a booking, ASQ question 5 declined, the blocked visit page keeping what the
patient typed, a licence shortened rather than withdrawn, the escalation delay as configured, and
the demo's production-like defaults (no debug pages, hashed static files cached for a year)."""

import datetime as dt
import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from clinic.accounts.models import Licence
from clinic.audit.models import Action, AuditEvent
from clinic.intake.models import IntakeStatus, UrgentItem, UrgentKind
from clinic.intake.tasks import escalate_urgent
from clinic.scheduling.models import Booking, BookingStatus, CoverageNotice, Hold
from clinic.visits.models import Visit
from tests.support.booking import adult, book_as, confirm, give_hours, hold, slot_starts
from tests.support.intake import ASQ_NO, fill
from tests.support.personas import client_for, license_user, make_user

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
ASQ_YES = {**ASQ_NO, "asq2": "yes"}


def ny_starts(**query) -> list[str]:
    return slot_starts(Client().get("/book/", {"jurisdiction": "US-NY", "tz": "America/New_York", **query}))


def api_book(client: Client, start: str):
    body = {
        "jurisdiction": "US-NY",
        "start": start,
        "time_zone": "America/New_York",
        "idempotency_key": str(uuid.uuid4()),
    }
    token = client.get("/book/").cookies.get("csrftoken")
    headers = {"HTTP_X_CSRFTOKEN": token.value} if token else {}
    return client.post("/api/v1/bookings", json.dumps(body), content_type="application/json", **headers)


CRISIS_PAGE_ADVICE = "call your emergency number or go to the nearest emergency department"


def body_crisis_lines(page: str) -> str:
    """The crisis numbers the page's own body lists (the bar at the top is not counted)."""
    found = re.search(r'<ul class="crisis-lines">(.*?)</ul>', page, re.S)
    return found.group(1) if found else ""


# An acute screen after a routine one, with a booking already made --------------------------------


def test_an_acute_screen_after_a_booking_re_marks_it_tells_the_clinicians_and_blocks_booking(
    frozen, open_clinic, clinician_elsewhere, patient, django_capture_on_commit_callbacks
):
    clinician_elsewhere.on_call = True  # Dr Far takes urgent items; Dr Doc has the booking
    clinician_elsewhere.save()
    adult(patient)  # a routine questionnaire this morning
    starts = ny_starts()
    book_as(patient, starts[0], django_capture_on_commit_callbacks)
    booking = Booking.objects.get()
    assert booking.clinician == open_clinic and not booking.safety_first
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response, intake = fill(client_for(patient), asq=ASQ_YES, asq5="yes")
    assert intake.status == IntakeStatus.STOPPED_ACUTE
    assert response["Location"] == reverse("intake:crisis", args=[intake.public_id])
    # The booking already made is re-marked "safety assessment first", audited.
    booking.refresh_from_db()
    assert booking.safety_first and booking.status == BookingStatus.CONFIRMED
    assert AuditEvent.objects.filter(
        action=Action.BOOKING_REMARKED, subject_id=str(booking.public_id), reason="safety_first"
    ).exists()
    # The booked clinician is told about the booking, the on-call clinician about the screen.
    told = sorted((m.to[0], m.subject.removeprefix("[Mendwell] ")) for m in mail.outbox)
    assert told == [
        (open_clinic.email, "A booking needs your attention"),
        (clinician_elsewhere.email, "Something urgent is waiting for you"),
    ]
    assert all("asq" not in m.body.lower() and "suicid" not in m.body.lower() for m in mail.outbox)
    board = client_for(open_clinic).get(reverse("portal:clinician_home")).content.decode()
    assert "Safety assessment first" in board
    appointment = (
        client_for(open_clinic).get(reverse("visits:appointment", args=[booking.public_id])).content.decode()
    )
    assert "Safety assessment first." in appointment
    # While the acute item waits, no second booking: the confirm page (GET and POST) gives the
    # time back and shows the crisis page; the API refuses with the safety hold.
    client = client_for(patient)
    crisis = reverse("intake:crisis", args=[intake.public_id])
    held = hold(client, starts[4])
    assert held.status_code == 302
    shown = client.get(held["Location"])
    assert shown.status_code == 302 and shown["Location"] == crisis
    assert not Hold.objects.exists()
    held = hold(client, starts[4])
    posted = client.post(held["Location"], {"idempotency_key": str(uuid.uuid4())})
    assert posted.status_code == 302 and posted["Location"] == crisis
    refused = api_book(client, starts[5])
    assert refused.status_code == 403 and refused.json()["code"] == "safety_hold"
    assert list(Booking.objects.all()) == [booking] and not Hold.objects.exists()
    assert UrgentItem.objects.get().acknowledged_at is None


def test_after_an_acute_screen_the_appointment_page_shows_no_older_routine_triage(
    frozen, open_clinic, patient, django_capture_on_commit_callbacks
):
    adult(patient)
    book_as(patient, ny_starts()[0], django_capture_on_commit_callbacks)
    booking = Booking.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        fill(client_for(patient), asq=ASQ_YES, asq5="yes")
    page = (
        client_for(open_clinic).get(reverse("visits:appointment", args=[booking.public_id])).content.decode()
    )
    assert "Safety assessment first." in page
    triage = re.search(r'Triage: <span class="badge badge--(\w+)">([^<]+)</span>', page)
    # The latest screen is acute: the page shows its triage, not the older, milder one.
    assert triage is not None and triage.group(1) == "acute", triage and triage.group(0)
    booking.refresh_from_db()
    assert booking.intake.status == "stopped_acute"


# ASQ question 5 declined: the on-call clinician at once, crisis help for the patient ----------------


def test_declining_question_5_alerts_the_on_call_clinician_at_once_and_the_confirm_page_shows_crisis_help(
    frozen, open_clinic, clinician_elsewhere, patient, django_capture_on_commit_callbacks
):
    clinician_elsewhere.on_call = True
    clinician_elsewhere.save()
    client = client_for(patient)
    held = hold(client, ny_starts()[0])
    confirm_url = held["Location"]
    # A new patient: confirming asks for the questionnaire first, and comes back after it.
    to_intake = client.get(confirm_url)
    assert to_intake.status_code == 302 and "/intake/" in to_intake["Location"]
    client.get(to_intake["Location"])
    with django_capture_on_commit_callbacks(execute=True):
        response, intake = fill(client, asq=ASQ_YES, asq5="declined")
    # Not stopped at the crisis page: the questionnaire is sent and the patient is back to confirm.
    assert intake.status == IntakeStatus.SUBMITTED and response["Location"] == confirm_url
    # The on-call clinician is alerted at once: an urgent (call now) item, an urgent email.
    item = UrgentItem.objects.get()
    assert item.kind == UrgentKind.DECLINED_Q5 and item.acknowledged_at is None
    assert [(m.to, m.subject.removeprefix("[Mendwell] ")) for m in mail.outbox] == [
        ([clinician_elsewhere.email], "Something urgent is waiting for you")
    ]
    board = client_for(clinician_elsewhere).get(reverse("portal:clinician_home")).content.decode()
    assert "ASQ question 5 declined: call now" in board
    # The confirm page shows the crisis numbers in its body, and booking is still allowed.
    page = client.get(confirm_url)
    assert page.status_code == 200
    lines = body_crisis_lines(page.content.decode())
    assert "988" in lines, page.content.decode()
    assert CRISIS_PAGE_ADVICE in page.content.decode()  # the crisis page's own help, not only numbers
    with django_capture_on_commit_callbacks(execute=True):
        done = confirm(client, held)
    booking = Booking.objects.get()
    assert done.status_code == 302 and done["Location"] == reverse(
        "scheduling:booked", args=[booking.public_id]
    )
    assert booking.safety_first and booking.intake == intake
    assert "988" in client.get(done["Location"]).content.decode()


def test_declining_question_5_without_a_booking_shows_crisis_help_on_the_next_page(
    frozen, open_clinic, patient, django_capture_on_commit_callbacks
):
    client = client_for(patient)
    with django_capture_on_commit_callbacks(execute=True):
        response, intake = fill(client, asq=ASQ_YES, asq5="declined")
    assert response["Location"] == reverse("intake:done", args=[intake.public_id])
    page = client.get(response["Location"]).content.decode()
    assert "988" in body_crisis_lines(page) and CRISIS_PAGE_ADVICE in page
    assert f'href="{reverse("scheduling:book")}"' in page  # and may still book
    assert UrgentItem.objects.get().kind == UrgentKind.DECLINED_Q5
    assert len(mail.outbox) == 2  # nobody on call: every active clinician, at once


# The visit page blocked for location keeps what the patient typed ---------------------------------


WHERE_TX = {"jurisdiction": "US-TX", "address": "22 Elm Road, Austin TX 78701", "phone": "+1 512 555 0142"}


@pytest.fixture
def visit_booking(frozen, open_clinic, patient, django_capture_on_commit_callbacks):
    book_as(adult(patient), ny_starts()[0], django_capture_on_commit_callbacks)
    booking = Booking.objects.get()
    frozen.move_to(booking.start - dt.timedelta(minutes=5))
    return booking


def attest_form(page: str) -> tuple[str, str, str]:
    """The jurisdiction selected, the address and the phone the visit page's form shows."""
    selected = re.search(r'<option value="([^"]*)" selected>', page)
    address = re.search(r'<textarea name="address"[^>]*>(.*?)</textarea>', page, re.S)
    phone = re.search(r'<input[^>]*name="phone"[^>]*>', page)
    value = re.search(r'value="([^"]*)"', phone.group(0)) if phone else None
    return (
        selected.group(1) if selected else "",
        address.group(1).strip() if address else "",
        value.group(1) if value else "",
    )


def test_the_visit_page_blocked_for_location_shows_back_the_address_and_phone_typed(visit_booking, patient):
    client = client_for(patient)
    url = reverse("visits:visit", args=[visit_booking.public_id])
    assert attest_form(client.get(url).content.decode()) == ("US-NY", "", "")  # nothing typed yet
    response = client.post(reverse("visits:attest", args=[visit_booking.public_id]), WHERE_TX)
    assert response.status_code == 302
    page = client.get(url).content.decode()
    assert "is not licensed in Texas" in page
    assert attest_form(page) == ("US-TX", WHERE_TX["address"], WHERE_TX["phone"])
    visit = Visit.objects.get()
    assert visit.waiting_since is None and visit.attested_address == WHERE_TX["address"]
    # "Find a time with a doctor licensed in Texas" opens the book page for Texas, not an error.
    find = re.search(r'href="(/book/\?jurisdiction=US-TX)"', page).group(1)
    found = client.get(find)
    assert found.status_code == 200
    assert re.search(r'<option value="US-TX" selected>Texas</option>', found.content.decode())
    # A correction that fails validation (a phone too short) keeps what was typed too.
    again = client.post(
        reverse("visits:attest", args=[visit_booking.public_id]),
        {**WHERE_TX, "jurisdiction": "US-NY", "phone": "12"},
    )
    assert again.status_code == 400
    assert attest_form(again.content.decode()) == ("US-NY", WHERE_TX["address"], "12")


# A licence shortened through the staff form is noticed as a withdrawal is -------------------------


def test_a_licence_shortened_before_a_booked_visit_lists_it_and_offers_another_doctor(
    frozen, open_clinic, staff, patient, django_capture_on_commit_callbacks
):
    adult(patient)
    book_as(patient, ny_starts(start="2026-12-20")[0], django_capture_on_commit_callbacks)
    booking = Booking.objects.get()
    first = booking.clinician
    visit_day = booking.start.astimezone(ZoneInfo("America/New_York")).date()
    second = make_user("second@example.org", "clinician", mfa=True, name="Dr Second")
    license_user(second, "US-NY", staff)
    give_hours(second)
    licence = Licence.objects.get(clinician=first, jurisdiction="US-NY")
    change = reverse("scheduling:change_licence", args=[licence.public_id])
    mail.outbox.clear()
    # Shortened to the visit's own day: it still covers the visit (valid through that day).
    with django_capture_on_commit_callbacks(execute=True):
        assert client_for(staff).post(change, {"expires_on": visit_day.isoformat()}).status_code == 302
    licence.refresh_from_db()
    assert licence.expires_on == visit_day
    assert not CoverageNotice.objects.exists() and mail.outbox == []
    assert "no license covers" not in client_for(staff).get(reverse("portal:staff_home")).content.decode()
    # Shortened to the day before: noticed, exactly as a withdrawal is.
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(staff).post(
            change, {"expires_on": (visit_day - dt.timedelta(days=1)).isoformat()}
        )
    assert response.status_code == 302
    licence.refresh_from_db()
    assert licence.verified_at is not None and licence.expires_on == visit_day - dt.timedelta(days=1)
    assert (
        "no license covers any more (1)"
        in client_for(staff).get(reverse("portal:staff_home")).content.decode()
    )
    assert (
        "no longer covers 1 booking"
        in client_for(first).get(reverse("portal:clinician_home")).content.decode()
    )
    assert AuditEvent.objects.filter(action=Action.COVERAGE_LOST, subject_id=str(booking.public_id)).exists()
    offer = [m for m in mail.outbox if m.to == [patient.email]]
    assert len(offer) == 1 and "another doctor" in offer[0].body.lower()
    move = re.search(r"http://[^/]+(/manage/[\w-]+/move/)", offer[0].body).group(1)
    page = Client().get(move).content.decode()
    assert f"Keep this time with {second.display_name}" in page
    with django_capture_on_commit_callbacks(execute=True):
        moved = Client().post(move)
    booking.refresh_from_db()
    assert moved.status_code == 302 and booking.clinician == second
    assert booking.status == BookingStatus.CONFIRMED and CoverageNotice.objects.count() == 1
    assert "no license covers" not in client_for(staff).get(reverse("portal:staff_home")).content.decode()


# The escalation delay is configurable ------------------------------------------------------------


def test_escalation_follows_the_configured_delay(
    frozen, settings, open_clinic, clinician_elsewhere, staff, patient, django_capture_on_commit_callbacks
):
    settings.URGENT_ESCALATE_AFTER = dt.timedelta(minutes=5)
    fill(client_for(patient), asq=ASQ_YES, asq5="yes")
    item = UrgentItem.objects.get()
    start = item.created_at
    frozen.move_to(start + dt.timedelta(minutes=4, seconds=59))
    assert escalate_urgent() == 0
    assert "card--escalated" not in client_for(staff).get(reverse("portal:staff_home")).content.decode()
    mail.outbox.clear()
    frozen.move_to(start + dt.timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True):
        assert escalate_urgent() == 1
        assert escalate_urgent() == 0
    item.refresh_from_db()
    assert item.escalated_at == start + dt.timedelta(minutes=5)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [open_clinic.email, clinician_elsewhere.email, staff.email]
    )
    assert "card--escalated" in client_for(staff).get(reverse("portal:staff_home")).content.decode()


def test_a_longer_configured_delay_holds_escalation_back(frozen, settings, open_clinic, patient):
    settings.URGENT_ESCALATE_AFTER = dt.timedelta(minutes=30)
    fill(client_for(patient), asq=ASQ_YES, asq5="yes")
    start = UrgentItem.objects.get().created_at
    frozen.move_to(start + dt.timedelta(minutes=29, seconds=59))
    assert escalate_urgent() == 0  # the default 15 minutes are long past
    frozen.move_to(start + dt.timedelta(minutes=30))
    assert escalate_urgent() == 1


def settings_in_a_clean_process(tmp_path: Path, code: str, **env_overrides: str) -> str:
    """Run ``code`` after loading ``clinic.settings`` (not the test settings) in a new process
    whose environment names no DEBUG, DJANGO_ENV or settings module, with its own var directory."""
    dropped = {"DEBUG", "DJANGO_ENV", "DJANGO_SETTINGS_MODULE", "DATABASE_URL", "SECRET_KEY", "STATIC_ROOT"}
    env = {k: v for k, v in os.environ.items() if k not in dropped and not k.startswith("URGENT_")}
    env.update(MENDWELL_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="clinic.settings", **env_overrides)
    prelude = "import django; django.setup(); from django.conf import settings\n"
    result = subprocess.run(
        [sys.executable, "-c", prelude + code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_the_escalation_delay_is_read_from_the_environment_with_a_fifteen_minute_default(tmp_path):
    code = "print(int(settings.URGENT_ESCALATE_AFTER.total_seconds()))"
    assert settings_in_a_clean_process(tmp_path, code) == str(15 * 60)
    assert settings_in_a_clean_process(tmp_path, code, URGENT_ESCALATE_MINUTES="5") == str(5 * 60)


# Demo and production defaults --------------------------------------------------------------------


def test_without_a_debug_variable_debug_is_off_and_static_storage_is_hashed(tmp_path):
    code = "print(settings.DEBUG, settings.STORAGES['staticfiles']['BACKEND'])"
    assert settings_in_a_clean_process(tmp_path, code) == (
        "False whitenoise.storage.CompressedManifestStaticFilesStorage"
    )
    # Only DEBUG=1 turns the debug pages (and unhashed static files) on.
    assert settings_in_a_clean_process(tmp_path, code, DEBUG="1") == (
        "True django.contrib.staticfiles.storage.StaticFilesStorage"
    )


def test_collected_static_files_have_hashed_names_served_with_a_year_long_cache(tmp_path):
    code = (
        "from django.core.management import call_command\n"
        "from django.contrib.staticfiles.storage import staticfiles_storage\n"
        "from django.test import Client\n"
        "call_command('collectstatic', interactive=False, verbosity=0)\n"
        "url = staticfiles_storage.url('css/site.css')\n"
        "hashed = Client().get(url, HTTP_HOST='localhost')\n"
        "plain = Client().get('/static/css/site.css', HTTP_HOST='localhost')\n"
        "print(url, hashed.status_code, hashed['Cache-Control'], sep='|')\n"
        "print(plain.status_code, plain['Cache-Control'], sep='|')\n"
    )
    hashed_line, plain_line = settings_in_a_clean_process(tmp_path, code).splitlines()
    url, status, cache = hashed_line.split("|")
    assert re.fullmatch(r"/static/css/site\.[0-9a-f]{12}\.css", url), url
    assert status == "200"
    directives = {part.strip().split("=")[0]: part.strip() for part in cache.split(",")}
    assert "immutable" in directives and "public" in directives
    assert int(directives["max-age"].split("=")[1]) >= 365 * 24 * 3600
    # The unhashed name may change under the same URL: it is kept only briefly.
    plain_status, plain_cache = plain_line.split("|")
    assert plain_status == "200" and "immutable" not in plain_cache
