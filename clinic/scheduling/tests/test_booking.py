import datetime as dt
import re

import icalendar
import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from clinic.accounts.models import Licence, Role
from clinic.audit.models import Action, AuditEvent
from clinic.scheduling.models import Booking, BookingStatus, Hold, WaitlistEntry
from tests.support.booking import (
    NOW,
    adult,
    book_as,
    confirm,
    give_hours,
    hold,
    slot_starts,
    with_intake,
)
from tests.support.personas import client_for, make_user

pytestmark = pytest.mark.django_db

CLINICAL_WORDS = ("ketamine", "depression", "psychiat", "suicid")


def ics_of(message) -> icalendar.Calendar:
    (name, content, mimetype) = message.attachments[0]
    assert name == "appointment.ics"
    return icalendar.Calendar.from_ical(content)


def test_slots_are_shown_in_the_patients_zone_with_its_name(frozen, open_clinic):
    response = Client().get("/book/", {"jurisdiction": "US-NY", "tz": "Europe/London"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "Europe/London" in body
    starts = slot_starts(response)
    # 9:00 New York = 14:00 London; 2 hours' notice from 07:00 NY means 09:00 is the first.
    assert starts[0] == "2026-12-01T14:00:00+00:00"
    assert "2:00 PM" in body


def test_only_clinicians_licensed_where_the_patient_will_be_are_offered(
    frozen, open_clinic, clinician_elsewhere
):
    body = Client().get("/book/", {"jurisdiction": "US-CA", "tz": "America/Los_Angeles"}).content.decode()
    assert clinician_elsewhere.display_name in body
    assert open_clinic.display_name not in body
    body = Client().get("/book/", {"jurisdiction": "US-NY", "tz": "America/New_York"}).content.decode()
    assert clinician_elsewhere.display_name not in body


def test_unverified_or_expired_licences_do_not_count(frozen, open_clinic):
    licence = Licence.objects.get(clinician=open_clinic, jurisdiction="US-NY")
    licence.expires_on = dt.date(2026, 12, 3)
    licence.save()
    starts = slot_starts(Client().get("/book/", {"jurisdiction": "US-NY", "tz": "America/New_York"}))
    days = {s[:10] for s in starts}
    assert "2026-12-03" in days and "2026-12-04" not in days  # checked at the slot's date
    Licence.objects.filter(pk=licence.pk).update(verified_at=None, verified_by=None)
    response = Client().get("/book/", {"jurisdiction": "US-NY", "tz": "America/New_York"})
    assert slot_starts(response) == []
    assert "Tell me when times open" in response.content.decode()


def test_waitlist_then_email_when_a_licence_is_verified(
    frozen, open_clinic, staff, django_capture_on_commit_callbacks
):
    response = Client().get("/book/", {"jurisdiction": "US-TX", "tz": "America/Chicago"})
    assert "licensed in Texas yet" in response.content.decode()
    response = Client().post("/book/waitlist/", {"email": "wait@example.org", "jurisdiction": "US-TX"})
    assert response.status_code == 200
    assert WaitlistEntry.objects.filter(jurisdiction="US-TX", notified_at__isnull=True).count() == 1
    licence = Licence.objects.create(
        clinician=open_clinic, jurisdiction="US-TX", number="TX-1", expires_on=dt.date(2028, 1, 1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        client_for(staff).post(reverse("scheduling:verify_licence", args=[licence.public_id]))
    assert [m.to for m in mail.outbox] == [["wait@example.org"]]
    assert "jurisdiction=US-TX" in mail.outbox[0].body
    assert WaitlistEntry.objects.get().notified_at is not None


def test_a_held_slot_disappears_for_others_and_a_second_hold_is_just_taken(frozen, open_clinic):
    first = slot_starts(Client().get("/book/", {"jurisdiction": "US-NY", "tz": "America/New_York"}))[0]
    alice = Client()
    assert hold(alice, first).status_code == 302
    others = slot_starts(Client().get("/book/", {"jurisdiction": "US-NY", "tz": "America/New_York"}))
    assert first not in others
    response = hold(Client(), first)
    assert response.status_code == 409
    assert "just taken" in response.content.decode()
    assert len(slot_starts(response)) > 0  # the next free times are offered
    assert Hold.objects.count() == 1


def test_hold_expires_after_ten_minutes(frozen, open_clinic, patient):
    first = slot_starts(Client().get("/book/", {"jurisdiction": "US-NY", "tz": "America/New_York"}))[3]
    client = client_for(adult(patient))
    held = hold(client, first)
    frozen.shift(dt.timedelta(minutes=11))
    assert first in slot_starts(Client().get("/book/", {"jurisdiction": "US-NY", "tz": "America/New_York"}))
    response = confirm(client, held)
    assert response.status_code == 410
    assert Booking.objects.count() == 0


def test_booking_a_slot_emails_an_invite_without_clinical_words(
    frozen, open_clinic, patient, django_capture_on_commit_callbacks
):
    first = slot_starts(Client().get("/book/", {"jurisdiction": "US-NY", "tz": "America/New_York"}))[0]
    client = Client()
    held = hold(client, first)
    assert "Create an account" in client.get(held["Location"]).content.decode()
    with_intake(patient)
    client.force_login(patient, backend="django.contrib.auth.backends.ModelBackend")
    with django_capture_on_commit_callbacks(execute=True):
        response = confirm(client, held, date_of_birth="1990-05-01")
    assert response.status_code == 302
    booking = Booking.objects.get()
    assert booking.patient == patient and booking.clinician == open_clinic
    assert booking.start.isoformat() == first
    assert booking.blocked_end == booking.end + dt.timedelta(minutes=10)
    assert not Hold.objects.exists()
    assert AuditEvent.objects.filter(action=Action.BOOKING_CREATED, patient=patient).count() == 1
    (message,) = mail.outbox
    cal = ics_of(message)
    assert cal["METHOD"] == "REQUEST"
    (event,) = cal.walk("VEVENT")
    assert event["UID"] == booking.ics_uid and int(event["SEQUENCE"]) == 0
    assert event.decoded("DTSTART") == booking.start
    text = (message.subject + message.body + str(event["SUMMARY"]) + str(event["DESCRIPTION"])).lower()
    assert not any(word in text for word in CLINICAL_WORDS)
    assert "/manage/" in message.body
    assert "9:00 AM" in message.body and "America/New_York" in message.body  # the patient's own zone
    page = client.get(response["Location"]).content.decode()
    assert "You're booked" in page and "Eastern Time (New York)" in page  # the zone as people say it


def test_under_18s_cannot_book_and_are_told_kindly(
    frozen, open_clinic, patient, django_capture_on_commit_callbacks
):
    first = slot_starts(Client().get("/book/", {"jurisdiction": "US-NY", "tz": "America/New_York"}))[0]
    seventeen = (NOW - dt.timedelta(days=365 * 17 + 100)).date().isoformat()
    _, response = book_as(
        with_intake(patient), first, django_capture_on_commit_callbacks, date_of_birth=seventeen
    )
    assert response.status_code == 403
    body = response.content.decode()
    assert "18 and over" in body and "988" in body
    assert Booking.objects.count() == 0
    assert not Hold.objects.exists()  # the time is free again
    assert len(mail.outbox) == 0


def test_eighteenth_birthday_on_the_visit_day_is_old_enough(
    frozen, open_clinic, patient, django_capture_on_commit_callbacks
):
    first = slot_starts(Client().get("/book/", {"jurisdiction": "US-NY", "tz": "America/New_York"}))[0]
    _, response = book_as(
        with_intake(patient), first, django_capture_on_commit_callbacks, date_of_birth="2008-12-01"
    )
    assert response.status_code == 302
    assert Booking.objects.count() == 1


def test_one_future_free_consultation_per_patient(
    frozen, open_clinic, patient, django_capture_on_commit_callbacks
):
    starts = slot_starts(Client().get("/book/", {"jurisdiction": "US-NY", "tz": "America/New_York"}))
    book_as(adult(patient), starts[0], django_capture_on_commit_callbacks)
    _, response = book_as(patient, starts[3], django_capture_on_commit_callbacks)
    assert response.status_code == 409
    assert "already have a free consultation" in response.content.decode()
    assert Booking.objects.count() == 1


def test_double_submitted_confirm_creates_one_booking(frozen, open_clinic, patient):
    first = slot_starts(Client().get("/book/", {"jurisdiction": "US-NY", "tz": "America/New_York"}))[0]
    client = client_for(adult(patient))
    held = hold(client, first)
    url = held["Location"]
    key = re.search(r'name="idempotency_key" value="([^"]+)"', client.get(url).content.decode()).group(1)
    first_try = client.post(url, {"idempotency_key": key})
    second_try = client.post(url, {"idempotency_key": key})
    assert first_try.status_code == 302
    assert second_try.status_code in (302, 404)  # the hold is gone; never a second booking
    assert Booking.objects.count() == 1


@pytest.mark.parametrize(
    "data, expected",
    [
        ({"jurisdiction": "XX-ZZ"}, 400),
        ({"tz": "Mars/Olympus"}, 400),
        ({"start": "not-a-date"}, 400),
        ({"start": "2026-12-02T14:00:00"}, 400),  # no offset
        ({"start": "2026-11-30T14:00:00+00:00"}, 409),  # in the past
        ({"start": "2026-12-02T14:07:00+00:00"}, 409),  # off the grid
        ({"start": "2026-12-02T03:00:00+00:00"}, 409),  # outside hours (22:00 in New York)
        ({"start": "2027-06-01T14:00:00+00:00"}, 409),  # beyond the horizon
        ({"clinician": "not-a-uuid"}, 400),
    ],
)
def test_bad_hold_requests_are_refused_clearly_and_save_nothing(frozen, open_clinic, data, expected):
    payload = {
        "jurisdiction": "US-NY",
        "tz": "America/New_York",
        "start": "2026-12-02T14:00:00+00:00",
        **data,
    }
    response = Client().post("/book/hold/", payload)
    assert response.status_code == expected
    assert Hold.objects.count() == 0


@pytest.mark.parametrize(
    "query",
    [
        {"jurisdiction": "XX-ZZ", "tz": "America/New_York"},
        {"jurisdiction": "US-NY", "tz": "Nowhere/Town"},
        {"jurisdiction": "US-NY", "tz": "America/New_York", "start": "2026-13-45"},
        {"jurisdiction": "US-NY", "tz": "America/New_York", "clinician": "robert'); DROP TABLE"},
    ],
)
def test_bad_slot_queries_get_a_400_page(frozen, open_clinic, query):
    assert Client().get("/book/", query).status_code == 400


def test_bookings_are_private_to_their_patient(
    frozen, open_clinic, patient, other_patient, staff, django_capture_on_commit_callbacks
):
    first = slot_starts(Client().get("/book/", {"jurisdiction": "US-NY", "tz": "America/New_York"}))[0]
    book_as(adult(patient), first, django_capture_on_commit_callbacks)
    booking = Booking.objects.get()
    for name in ("scheduling:booked", "scheduling:booked_ics"):
        url = reverse(name, args=[booking.public_id])
        assert client_for(patient).get(url).status_code == 200
        assert client_for(other_patient).get(url).status_code == 404
        assert client_for(open_clinic).get(url).status_code == 403
        assert client_for(staff).get(url).status_code == 403
        assert Client().get(url).status_code == 302
    # Another browser cannot use someone's hold either.
    second = slot_starts(Client().get("/book/", {"jurisdiction": "US-NY", "tz": "America/New_York"}))[0]
    held = hold(client_for(other_patient), second)
    assert client_for(other_patient).get(held["Location"]).status_code == 404


def manage_token(message) -> str:
    return re.search(r"/manage/([^/\s]+)/", message.body).group(1)


def test_manage_link_cancels_before_the_cut_off(
    frozen, open_clinic, patient, django_capture_on_commit_callbacks
):
    first = slot_starts(Client().get("/book/", {"jurisdiction": "US-NY", "tz": "America/New_York"}))[2]
    book_as(adult(patient), first, django_capture_on_commit_callbacks)
    token = manage_token(mail.outbox[0])
    client = Client()  # the link works without signing in
    assert client.get(f"/manage/{token}/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/manage/{token}/cancel/", {"reason": "feeling better"})
    assert response.status_code == 302
    assert "is cancelled" in client.get(response["Location"]).content.decode()
    booking = Booking.objects.get()
    assert booking.status == BookingStatus.CANCELLED and booking.ics_sequence == 1
    cancel_mail = mail.outbox[-1]
    cal = ics_of(cancel_mail)
    assert cal["METHOD"] == "CANCEL"
    (event,) = cal.walk("VEVENT")
    assert event["UID"] == booking.ics_uid and int(event["SEQUENCE"]) == 1
    assert first in slot_starts(Client().get("/book/", {"jurisdiction": "US-NY", "tz": "America/New_York"}))
    assert Client().get("/manage/not-a-real-token/").status_code == 404


def test_after_the_cut_off_the_manage_page_explains_how_to_reach_the_clinic(
    frozen, open_clinic, patient, django_capture_on_commit_callbacks
):
    first = slot_starts(Client().get("/book/", {"jurisdiction": "US-NY", "tz": "America/New_York"}))[0]
    book_as(adult(patient), first, django_capture_on_commit_callbacks)
    token = manage_token(mail.outbox[0])
    booking = Booking.objects.get()
    frozen.move_to(booking.start - dt.timedelta(hours=1))
    page = Client().get(f"/manage/{token}/").content.decode()
    assert "too close to the start" in page and "contact the clinic" in page
    Client().post(f"/manage/{token}/cancel/")
    assert Booking.objects.get().status == BookingStatus.CONFIRMED


def test_reschedule_moves_the_booking_in_one_step_and_bumps_the_sequence(
    frozen, open_clinic, patient, django_capture_on_commit_callbacks
):
    starts = slot_starts(Client().get("/book/", {"jurisdiction": "US-NY", "tz": "America/New_York"}))
    book_as(adult(patient), starts[0], django_capture_on_commit_callbacks)
    token = manage_token(mail.outbox[0])
    client = Client()
    page = client.get(f"/manage/{token}/reschedule/")
    new_start = slot_starts(page)[4]
    response = client.post(
        f"/manage/{token}/reschedule/",
        {"jurisdiction": "US-NY", "tz": "America/New_York", "start": new_start},
    )
    assert response.status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        client.post(response["Location"])
    booking = Booking.objects.get()
    assert booking.start.isoformat() == new_start and booking.ics_sequence == 1
    (event,) = ics_of(mail.outbox[-1]).walk("VEVENT")
    assert int(event["SEQUENCE"]) == 1 and event["UID"] == booking.ics_uid
    assert starts[0] in slot_starts(
        Client().get("/book/", {"jurisdiction": "US-NY", "tz": "America/New_York"})
    )
    assert AuditEvent.objects.filter(action=Action.BOOKING_RESCHEDULED).count() == 1


def test_any_doctor_goes_to_the_least_loaded_clinician(frozen, staff, django_capture_on_commit_callbacks):
    from tests.support.personas import license_user

    busy_doc = make_user("busy@example.org", Role.CLINICIAN, mfa=True, name="Dr A Busy")
    free_doc = make_user("free@example.org", Role.CLINICIAN, mfa=True, name="Dr B Free")
    for doc in (busy_doc, free_doc):
        license_user(doc, "US-NY", staff)
        give_hours(doc)
    starts = slot_starts(Client().get("/book/", {"jurisdiction": "US-NY", "tz": "America/New_York"}))
    first_patient = adult(make_user("p1@example.org", Role.PATIENT))
    client = client_for(first_patient)
    held = hold(client, starts[0], clinician=str(busy_doc.public_id))
    with django_capture_on_commit_callbacks(execute=True):
        confirm(client, held)
    assert Booking.objects.get().clinician == busy_doc
    # "Any available doctor" for a later time the same day goes to the doctor with fewer bookings.
    second_patient = adult(make_user("p2@example.org", Role.PATIENT))
    book_as(second_patient, starts[4], django_capture_on_commit_callbacks)
    assert Booking.objects.get(patient=second_patient).clinician == free_doc


def test_the_slots_request_uses_a_fixed_number_of_queries(frozen, staff):
    from tests.support.personas import license_user

    def count_for(clinicians: int, days: int) -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            response = Client().get(
                "/api/v1/slots", {"jurisdiction": "US-NY", "start": "2026-12-01", "days": days}
            )
        assert response.status_code == 200
        return len(ctx.captured_queries)

    doc = make_user("q0@example.org", Role.CLINICIAN, mfa=True)
    license_user(doc, "US-NY", staff)
    give_hours(doc)
    Client().get(
        "/api/v1/slots", {"jurisdiction": "US-CA", "start": "2026-12-01", "days": 2}
    )  # warm the cache keys
    small = count_for(1, 1)
    for n in range(1, 12):
        doc = make_user(f"q{n}@example.org", Role.CLINICIAN, mfa=True)
        license_user(doc, "US-NY", staff)
        give_hours(doc)
    large = count_for(12, 30)
    assert small == large
    # A repeated request is served from the cache: no queries for the computation at all.
    cached = Client()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        cached.get("/api/v1/slots", {"jurisdiction": "US-NY", "start": "2026-12-01", "days": 30})
    assert len(ctx.captured_queries) < large
    assert large <= 24  # the computation plus the cache look-ups and writes


def test_a_held_time_stays_bookable_while_the_notice_window_passes(
    frozen, open_clinic, patient, django_capture_on_commit_callbacks
):
    first = slot_starts(Client().get("/book/", {"jurisdiction": "US-NY", "tz": "America/New_York"}))[0]
    assert first == "2026-12-01T14:00:00+00:00"  # exactly two hours' notice at 12:00
    client = client_for(adult(patient))
    held = hold(client, first)
    frozen.shift(dt.timedelta(minutes=8))  # signing in took a while: now under two hours
    with django_capture_on_commit_callbacks(execute=True):
        response = confirm(client, held)
    assert response.status_code == 302
    assert Booking.objects.get().start.isoformat() == first


def test_days_without_free_times_are_still_listed(frozen, clinician):
    give_hours(clinician, days=range(0, 5))  # Monday to Friday
    body = Client().get("/book/", {"jurisdiction": "US-NY", "tz": "America/New_York"}).content.decode()
    assert "Saturday, December 5" in body and "No free times." in body


def test_a_signed_in_patient_reschedules_from_their_account(
    frozen, open_clinic, patient, other_patient, staff, django_capture_on_commit_callbacks
):
    starts = slot_starts(Client().get("/book/", {"jurisdiction": "US-NY", "tz": "America/New_York"}))
    client, _ = book_as(adult(patient), starts[0], django_capture_on_commit_callbacks)
    booking = Booking.objects.get()
    url = reverse("scheduling:my_reschedule", args=[booking.public_id])
    for outsider, status in ((other_patient, 404), (staff, 403), (open_clinic, 403)):
        assert client_for(outsider).get(url).status_code == status
    new_start = slot_starts(client.get(url))[5]
    response = client.post(url, {"jurisdiction": "US-NY", "tz": "America/New_York", "start": new_start})
    assert response.status_code == 302 and "/reschedule/" in response["Location"]
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(response["Location"])
    assert done["Location"] == reverse("visits:my_appointment", args=[booking.public_id])
    booking.refresh_from_db()
    assert booking.start.isoformat() == new_start and booking.ics_sequence == 1
    assert AuditEvent.objects.filter(action=Action.BOOKING_RESCHEDULED, actor=patient).count() == 1
