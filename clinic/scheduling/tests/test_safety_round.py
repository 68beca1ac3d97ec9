"""The safety round: a screen's result follows the patient into every booking path."""

import datetime as dt
import json
import re
import uuid

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse

from clinic.audit.models import Action, AuditEvent
from clinic.intake.models import IntakeResponse, IntakeStatus, UrgentItem, UrgentKind
from clinic.scheduling.models import Booking, BookingStatus, Hold
from tests.support.booking import adult, book_as, confirm, hold, slot_starts
from tests.support.intake import ASQ_NO, fill
from tests.support.personas import client_for

pytestmark = pytest.mark.django_db

ASQ_YES = {**ASQ_NO, "asq2": "yes"}


def ny_starts(client: Client | None = None) -> list[str]:
    page = (client or Client()).get("/book/", {"jurisdiction": "US-NY", "tz": "America/New_York"})
    return slot_starts(page)


def acute_screen(patient) -> IntakeResponse:
    """The patient answers a new questionnaire with ASQ question 5 "yes"."""
    _, intake = fill(client_for(patient), asq=ASQ_YES, asq5="yes")
    assert intake.status == IntakeStatus.STOPPED_ACUTE
    return intake


def acknowledge_all(clinician) -> None:
    for item in UrgentItem.objects.filter(acknowledged_at__isnull=True):
        response = client_for(clinician).post(
            reverse("intake:acknowledge", args=[item.public_id]), {"outcome": "Spoke with them; safe."}
        )
        assert response.status_code == 302


def api_book(client: Client, start: str, key: str | None = None):
    body = {
        "jurisdiction": "US-NY",
        "start": start,
        "time_zone": "America/New_York",
        "idempotency_key": key or str(uuid.uuid4()),
    }
    token = client.get("/book/").cookies.get("csrftoken")
    headers = {"HTTP_X_CSRFTOKEN": token.value} if token else {}
    return client.post("/api/v1/bookings", json.dumps(body), content_type="application/json", **headers)


# An acute screen blocks booking, whatever came before ------------------------------------------


def test_acute_after_routine_blocks_the_confirm_page_and_gives_the_time_back(frozen, open_clinic, patient):
    adult(patient)  # a routine questionnaire from today
    client = client_for(patient)
    start = ny_starts()[0]
    held = hold(client, start)
    intake = acute_screen(patient)
    # The held time is back for others, and confirming leads to the crisis page, not a booking.
    page = client.get(held["Location"])
    assert page.status_code == 302 and page["Location"] == reverse("intake:crisis", args=[intake.public_id])
    assert not Hold.objects.exists() and start in ny_starts()
    # A POST straight to confirm (a stale tab) is refused the same way.
    held = hold(client, start)
    posted = client.post(held["Location"], {"idempotency_key": str(uuid.uuid4())})
    assert posted["Location"] == reverse("intake:crisis", args=[intake.public_id])
    assert not Booking.objects.exists() and not Hold.objects.exists()


def test_acute_after_routine_blocks_the_api(frozen, open_clinic, patient):
    adult(patient)
    acute_screen(patient)
    response = api_book(client_for(patient), ny_starts()[0])
    assert response.status_code == 403 and response.json()["code"] == "safety_hold"
    assert not Booking.objects.exists()


def test_acute_blocks_rescheduling_and_follow_ups(
    frozen, open_clinic, patient, django_capture_on_commit_callbacks
):
    adult(patient)
    starts = ny_starts()
    client, _ = book_as(patient, starts[0], django_capture_on_commit_callbacks)
    booking = Booking.objects.get()
    acute_screen(patient)
    # Reschedule from the account: refused, the booking unchanged.
    pick = reverse("scheduling:my_reschedule", args=[booking.public_id])
    held = client.post(pick, {"jurisdiction": "US-NY", "tz": "America/New_York", "start": starts[3],
                              "clinician": str(open_clinic.public_id)})  # fmt: skip
    assert held.status_code == 302
    moved = client.post(held["Location"])
    booking.refresh_from_db()
    assert booking.start.isoformat() == dt.datetime.fromisoformat(starts[0]).isoformat()
    assert "doctors needs to speak with you" in client.get(moved["Location"]).content.decode()
    # A follow-up booked by the clinician: refused too.
    follow = client_for(open_clinic).post(
        reverse("visits:follow_up", args=[booking.public_id]), {"start": starts[5]}
    )
    assert follow.status_code == 302 and Booking.objects.count() == 1


def test_after_acknowledgement_a_new_questionnaire_is_needed_not_the_older_routine_one(
    frozen, open_clinic, clinician_elsewhere, patient
):
    adult(patient)
    acute_screen(patient)
    acknowledge_all(clinician_elsewhere)
    client = client_for(patient)
    held = hold(client, ny_starts()[0])
    assert "/intake/" in client.get(held["Location"])["Location"]


# The latest screen marks every booking ---------------------------------------------------------


def test_a_later_positive_screen_re_marks_future_bookings_and_tells_their_clinician(
    frozen, open_clinic, patient, django_capture_on_commit_callbacks
):
    adult(patient)
    book_as(patient, ny_starts()[0], django_capture_on_commit_callbacks)
    booking = Booking.objects.get()
    assert not booking.safety_first
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        _, intake = fill(client_for(patient), item9="1")
    booking.refresh_from_db()
    assert intake.triage == "safety_assessment_first"
    assert booking.safety_first and booking.intake == intake
    assert any(m.to == [open_clinic.email] for m in mail.outbox)
    assert AuditEvent.objects.filter(
        action=Action.BOOKING_REMARKED, subject_id=str(booking.public_id)
    ).exists()
    # A later routine screen never wipes the mark out (the safety assessment still comes first).
    with django_capture_on_commit_callbacks(execute=True):
        _, routine = fill(client_for(patient))
    booking.refresh_from_db()
    assert routine.triage == "routine" and booking.safety_first and booking.intake == routine


def test_a_booking_takes_its_triage_from_the_latest_screen(
    frozen, open_clinic, patient, django_capture_on_commit_callbacks
):
    adult(patient)  # routine, this morning
    fill(client_for(patient), item9="2")  # then item 9 = 2
    book_as(patient, ny_starts()[0], django_capture_on_commit_callbacks)
    booking = Booking.objects.get()
    assert booking.safety_first and booking.intake.phq9_item9 == 2


# Same-day follow-up for every positive screen --------------------------------------------------


@pytest.mark.parametrize(
    "answers, kind",
    [
        ({"item9": "1"}, UrgentKind.FOLLOW_UP),
        ({"asq": ASQ_YES, "asq5": "no"}, UrgentKind.FOLLOW_UP),
        ({"asq": {**ASQ_NO, "asq1": "declined"}, "asq5": "no"}, UrgentKind.FOLLOW_UP),
        ({"asq": ASQ_YES, "asq5": "declined"}, UrgentKind.DECLINED_Q5),
    ],
)
def test_every_positive_screen_raises_an_item_for_the_on_call_clinician_booking_or_not(
    frozen, open_clinic, clinician_elsewhere, patient, django_capture_on_commit_callbacks, answers, kind
):
    clinician_elsewhere.on_call = True
    clinician_elsewhere.save()
    with django_capture_on_commit_callbacks(execute=True):
        _, intake = fill(client_for(patient), **answers)
    assert intake.status == IntakeStatus.SUBMITTED and not Booking.objects.exists()
    item = UrgentItem.objects.get()
    assert item.kind == kind and item.patient == patient
    assert [m.to for m in mail.outbox] == [[clinician_elsewhere.email]]
    assert "asq" not in mail.outbox[0].body.lower() and "suicid" not in mail.outbox[0].body.lower()
    board = client_for(clinician_elsewhere).get(reverse("portal:clinician_home")).content.decode()
    assert item.get_kind_display() in board
    # Declining question 5 is acute for alerting, yet the patient may still book (marked).
    if kind == UrgentKind.DECLINED_Q5:
        adult(patient)
        IntakeResponse.objects.filter(pk=intake.pk).update(submitted_at=intake.submitted_at)
    client = client_for(patient)
    with django_capture_on_commit_callbacks(execute=True):
        done = confirm(client, hold(client, ny_starts()[0]), date_of_birth="1988-04-02")
    assert done.status_code == 302 and Booking.objects.get().safety_first


def test_a_routine_screen_raises_nothing(frozen, open_clinic, patient):
    fill(client_for(patient))
    assert not UrgentItem.objects.exists()


def test_acute_items_come_before_follow_ups_and_acknowledging_needs_an_outcome(
    frozen, open_clinic, clinician_elsewhere, patient, other_patient
):
    fill(client_for(other_patient), item9="1")  # a follow-up, first in time
    acute_screen(patient)  # then an acute screen
    board = client_for(open_clinic).get(reverse("portal:clinician_home")).content.decode()
    assert board.index("Acute suicide-risk screen") < board.index("contact the patient today")
    item = UrgentItem.objects.get(kind=UrgentKind.ACUTE_SCREEN)
    url = reverse("intake:acknowledge", args=[item.public_id])
    client_for(open_clinic).post(url, {"outcome": "  "})
    item.refresh_from_db()
    assert item.acknowledged_at is None
    client_for(open_clinic).post(url, {"outcome": "Called, paramedics sent, safe."})
    client_for(open_clinic).post(url, {"outcome": "A second click changes nothing."})
    item.refresh_from_db()
    assert item.acknowledged_by == open_clinic and item.outcome == "Called, paramedics sent, safe."


# The on-call clinician can find and identify the person ----------------------------------------


def test_an_urgent_item_shows_who_and_where_and_the_showing_is_audited(
    frozen, open_clinic, patient, other_patient
):
    acute_screen(patient)
    board = client_for(open_clinic).get(reverse("portal:clinician_home")).content.decode()
    for text in ("Patricia Patient", "2 Apr 1988", "age 38", "+1 212 555 0100", "1 Main St, Albany NY",
                 "Sam Patient", "+1 212 555 0199", "7:00 AM"):  # fmt: skip
        assert text in board, text
    # The showing is audited with the page: one row naming every patient it listed.
    (row,) = AuditEvent.objects.filter(action=Action.DASHBOARD_VIEWED, actor=open_clinic)
    assert str(patient.public_id) in row.patients
    # Not for a clinician who is not on call (when someone is), nor for staff or patients.
    open_clinic.on_call = False
    open_clinic.save()
    other = client_for(other_patient)
    assert "Patricia Patient" not in other.get(reverse("portal:patient_home")).content.decode()


# Escalation --------------------------------------------------------------------------------------


def test_an_unacknowledged_acute_item_is_escalated_once_after_fifteen_minutes(
    open_clinic, clinician_elsewhere, staff, patient, django_capture_on_commit_callbacks
):
    from clinic.intake.tasks import escalate_urgent

    start = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False) as traveller:
        acute_screen(patient)
        item = UrgentItem.objects.get()
        traveller.move_to(start + dt.timedelta(minutes=14, seconds=59))
        assert escalate_urgent() == 0
        mail.outbox.clear()
        traveller.move_to(start + dt.timedelta(minutes=15))
        with django_capture_on_commit_callbacks(execute=True):
            assert escalate_urgent() == 1
            assert escalate_urgent() == 0  # exactly once
        recipients = sorted(m.to[0] for m in mail.outbox)
        assert recipients == sorted([open_clinic.email, clinician_elsewhere.email, staff.email])
        assert all("urgent" in m.subject.lower() and "asq" not in m.body.lower() for m in mail.outbox)
        home = client_for(staff).get(reverse("portal:staff_home")).content.decode()
        assert "card--escalated" in home and "not acknowledged in time" in home
        acknowledge_all(open_clinic)
        assert "card--escalated" not in client_for(staff).get(reverse("portal:staff_home")).content.decode()
    item.refresh_from_db()
    assert item.escalated_at == start + dt.timedelta(minutes=15)


def test_an_acknowledged_item_and_a_follow_up_are_never_escalated(open_clinic, patient, other_patient):
    from clinic.intake.tasks import escalate_urgent

    start = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False) as traveller:
        acute_screen(patient)
        fill(client_for(other_patient), item9="1")
        acknowledge_all_but = UrgentItem.objects.get(kind=UrgentKind.ACUTE_SCREEN)
        client_for(open_clinic).post(
            reverse("intake:acknowledge", args=[acknowledge_all_but.public_id]), {"outcome": "Called, safe."}
        )
        traveller.move_to(start + dt.timedelta(hours=3))
        assert escalate_urgent() == 0


# Licence dates are one rule --------------------------------------------------------------------


def test_an_evening_slot_on_the_expiry_day_is_offered_booked_and_opens(
    open_clinic, patient, django_capture_on_commit_callbacks
):
    from clinic.accounts.models import Licence
    from clinic.scheduling.models import WeeklyHours

    # Dr Doc works evenings in New York; the NY licence ends on 10 December (New York's date).
    WeeklyHours.objects.filter(clinician=open_clinic).update(start=dt.time(18), end=dt.time(22))
    Licence.objects.filter(clinician=open_clinic).update(expires_on=dt.date(2026, 12, 10))
    with time_machine.travel(dt.datetime(2026, 12, 9, 12, 0, tzinfo=dt.UTC), tick=False):
        page = Client().get(
            "/book/", {"jurisdiction": "US-NY", "tz": "America/New_York", "start": "2026-12-10"}
        )
        starts = slot_starts(page)
        # 9:30 PM in New York on the 10th is 02:30 UTC on the 11th: still the 10th where it counts.
        assert "2026-12-11T02:30:00+00:00" in starts
        assert not [s for s in starts if s.startswith("2026-12-11T23")]  # none on the 11th
        adult(patient)
        book_as(patient, "2026-12-11T02:30:00+00:00", django_capture_on_commit_callbacks)
    booking = Booking.objects.get()
    with time_machine.travel(dt.datetime(2026, 12, 11, 2, 25, tzinfo=dt.UTC), tick=False):
        client = client_for(patient)
        client.post(reverse("visits:attest", args=[booking.public_id]),
                    {"jurisdiction": "US-NY", "address": "1 Main St", "phone": "212 555 0100"})  # fmt: skip
        assert booking.visit.waiting_since is not None  # licensed: waiting, not blocked


# Idempotency -------------------------------------------------------------------------------------


def test_the_same_api_request_twice_answers_with_the_same_booking(frozen, open_clinic, patient):
    adult(patient)
    client = client_for(patient)
    key = str(uuid.uuid4())
    first = api_book(client, ny_starts()[0], key)
    second = api_book(client, ny_starts()[0], key)
    assert first.status_code == 201 and second.status_code == 200
    assert first.json()["id"] == second.json()["id"] and Booking.objects.count() == 1


def test_a_repeated_confirm_lands_on_the_same_booking(
    frozen, open_clinic, patient, django_capture_on_commit_callbacks
):
    adult(patient)
    client = client_for(patient)
    held = hold(client, ny_starts()[0])
    page = client.get(held["Location"]).content.decode()
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page).group(1)
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(held["Location"], {"idempotency_key": key})
    second = client.post(held["Location"], {"idempotency_key": key})
    assert first["Location"] == second["Location"] and Booking.objects.count() == 1


# Times that occur twice, the zone picker ---------------------------------------------------------


def test_times_that_occur_twice_carry_their_abbreviation(staff):
    from clinic.scheduling.models import WeeklyHours
    from tests.support.personas import license_user, make_user

    # A London clinician at 05:00-07:00 London time on Sunday 1 November 2026: for a New York
    # patient that is 1:00 AM EDT, 1:30 AM EDT, 1:00 AM EST and 1:30 AM EST.
    doctor = make_user("ldn@example.org", "clinician", mfa=True, zone="Europe/London", name="Dr London")
    license_user(doctor, "US-NY", staff)
    WeeklyHours.objects.create(clinician=doctor, weekday=6, start=dt.time(5), end=dt.time(7))
    with time_machine.travel(dt.datetime(2026, 10, 28, 12, 0, tzinfo=dt.UTC), tick=False):
        page = (
            Client()
            .get("/book/", {"jurisdiction": "US-NY", "tz": "America/New_York", "start": "2026-11-01"})
            .content.decode()
        )
    labels = re.findall(
        r'<button class="slot" type="submit" name="start" value="[^"]+">'
        r'([^<]+)<abbr class="slot__zone">(\w+)</abbr>',
        page,
    )
    assert [(t.strip(), z) for t, z in labels] == [
        ("1:00 AM", "EDT"), ("1:30 AM", "EDT"), ("1:00 AM", "EST"), ("1:30 AM", "EST"),
    ]  # fmt: skip


def test_the_zone_picker_offers_common_zones_first_and_no_legacy_aliases(client, db):
    page = client.get("/book/").content.decode()
    common = page.split('label="Common time zones"', 1)[1].split("</optgroup>", 1)[0]
    assert "Eastern Time (New York)" in common and 'value="UTC"' in common
    assert 'value="US/Eastern"' not in page and 'value="EST5EDT"' not in page
    assert 'value="America/Indiana/Indianapolis"' in page
    # Nothing is preselected for an anonymous visitor: the device's zone, or the person chooses.
    assert re.search(r'<option value="" selected>Choose your time zone</option>', page)


def test_a_link_naming_only_the_state_asks_for_the_zone_instead_of_failing(client, db):
    response = client.get("/book/", {"jurisdiction": "US-TX"})
    assert response.status_code == 200
    assert re.search(r'<option value="US-TX" selected>Texas</option>', response.content.decode())


# Rescheduling shows who --------------------------------------------------------------------------


def test_rescheduling_keeps_the_doctor_shows_who_and_renews_the_manage_link(
    frozen, open_clinic, staff, patient, django_capture_on_commit_callbacks
):
    from tests.support.booking import give_hours
    from tests.support.personas import license_user, make_user

    other = make_user("second@example.org", "clinician", mfa=True, name="Dr Second")
    license_user(other, "US-NY", staff)
    give_hours(other)
    adult(patient)
    _, _ = book_as(patient, ny_starts()[0], django_capture_on_commit_callbacks)
    booking = Booking.objects.get()
    mine = booking.clinician
    someone_else = other if mine == open_clinic else open_clinic
    old_link = re.search(r"/manage/[\w-]+/", mail.outbox[-1].body).group(0)
    client = Client()
    pick = client.get(f"{old_link}reschedule/").content.decode()
    assert mine.display_name in pick and someone_else.display_name not in pick
    anyone = client.get(f"{old_link}reschedule/", {"doctor": "any"}).content.decode()
    assert someone_else.display_name in anyone and 'class="slot__doctor"' in anyone
    new_start = slot_starts(client.get(f"{old_link}reschedule/"))[4]
    choice = {
        "jurisdiction": "US-NY",
        "tz": "America/New_York",
        "start": new_start,
        "clinician": str(mine.public_id),
    }
    held = client.post(f"{old_link}reschedule/", choice)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        moved = client.post(held["Location"])
    booking.refresh_from_db()
    assert booking.clinician == mine and booking.status == BookingStatus.CONFIRMED
    body = mail.outbox[0].body
    new_link = re.search(r"/manage/[\w-]+/", body).group(0)
    assert new_link != old_link and moved["Location"] == new_link
    ics = mail.outbox[0].attachments[0][1]
    assert f"Change or cancel: http://testserver{new_link}" in ics.replace("\r\n ", "") or new_link in ics
    assert client.get(old_link).status_code == 404 and client.get(new_link).status_code == 200
