"""The rest of the safety and trust round: licences that stop covering a booking, a signed note
completing the appointment, crisis numbers that follow the patient, emails that name the clinic,
one definition of flags and bands."""

import datetime as dt
import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from clinic.accounts.models import Licence, PatientProfile
from clinic.audit.models import Action, AuditEvent
from clinic.content.models import CrisisLine
from clinic.scheduling.actions import notice_uncovered
from clinic.scheduling.models import Booking, BookingStatus, CoverageNotice
from tests.support.booking import adult, book_as, give_hours, slot_starts
from tests.support.intake import fill
from tests.support.personas import client_for, license_user, make_user

pytestmark = pytest.mark.django_db


def first_ny_start() -> str:
    return slot_starts(Client().get("/book/", {"jurisdiction": "US-NY", "tz": "America/New_York"}))[0]


# A licence that stops covering booked visits is noticed -----------------------------------------


def test_a_withdrawn_licence_lists_the_booking_and_offers_the_patient_another_doctor(
    frozen, open_clinic, staff, patient, django_capture_on_commit_callbacks
):
    adult(patient)
    book_as(patient, first_ny_start(), django_capture_on_commit_callbacks)
    booking = Booking.objects.get()
    first = booking.clinician
    second = make_user("second@example.org", "clinician", mfa=True, name="Dr Second")
    license_user(second, "US-NY", staff)
    give_hours(second)
    licence = Licence.objects.get(clinician=first, jurisdiction="US-NY")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(staff).post(
            reverse("scheduling:change_licence", args=[licence.public_id]),
            {"expires_on": licence.expires_on.isoformat(), "withdraw": "1"},
        )
    assert response.status_code == 302
    licence.refresh_from_db()
    assert licence.verified_at is None
    # Listed for staff and for the clinician; the patient is emailed a one-click offer.
    assert (
        "no license covers any more (1)"
        in client_for(staff).get(reverse("portal:staff_home")).content.decode()
    )
    assert (
        "no longer covers 1 booking"
        in client_for(first).get(reverse("portal:clinician_home")).content.decode()
    )
    offer = [m for m in mail.outbox if m.to == [patient.email]]
    assert len(offer) == 1 and "another doctor" in offer[0].body.lower()
    move = re.search(r"http://[^/]+(/manage/[\w-]+/move/)", offer[0].body).group(1)
    assert notice_uncovered() == 0  # noticed once, however often the sweep runs
    page = Client().get(move).content.decode()
    assert f"Keep this time with {second.display_name}" in page
    with django_capture_on_commit_callbacks(execute=True):
        moved = Client().post(move)
    booking.refresh_from_db()
    assert booking.clinician == second and booking.status == BookingStatus.CONFIRMED
    assert moved.status_code == 302 and "/manage/" in moved["Location"]
    assert CoverageNotice.objects.count() == 1
    assert "no license covers" not in client_for(staff).get(reverse("portal:staff_home")).content.decode()


def test_an_expiry_that_comes_within_the_horizon_is_noticed_by_the_sweep(
    frozen, open_clinic, patient, django_capture_on_commit_callbacks
):
    adult(patient)
    start = slot_starts(
        Client().get("/book/", {"jurisdiction": "US-NY", "tz": "America/New_York", "start": "2026-12-20"})
    )[0]
    book_as(patient, start, django_capture_on_commit_callbacks)
    booking = Booking.objects.get()
    Licence.objects.filter(clinician=booking.clinician).update(expires_on=dt.date(2026, 12, 15))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert notice_uncovered() == 1
    assert [m.to for m in mail.outbox] == [[patient.email]]
    assert AuditEvent.objects.filter(action=Action.COVERAGE_LOST, subject_id=str(booking.public_id)).exists()


def test_a_covered_booking_is_never_noticed(frozen, open_clinic, patient, django_capture_on_commit_callbacks):
    adult(patient)
    book_as(patient, first_ny_start(), django_capture_on_commit_callbacks)
    assert notice_uncovered() == 0 and not CoverageNotice.objects.exists()


# A signed note completes the appointment ---------------------------------------------------------


def sign_note(clinician, booking) -> None:
    client = client_for(clinician)
    client.post(
        reverse("visits:note_save", args=[booking.public_id]),
        {
            "identity_method": "photo_id",
            "location_confirmed": "on",
            "others_present": "nobody",
            "reason": "Consult",
            "plan": "Assessment",
            "decision": "suitable",
            "patient_message": "We will call you about an assessment.",
            "risk_level": "low",
            "safety_plan": "Plan agreed",
        },  # fmt: skip
    )
    response = client.post(reverse("visits:note_sign", args=[booking.public_id]))
    assert response.status_code == 302


def test_signing_the_note_completes_the_booking_and_the_patient_sees_the_message_at_once(
    frozen, open_clinic, patient, django_capture_on_commit_callbacks
):
    adult(patient)
    client, _ = book_as(patient, first_ny_start(), django_capture_on_commit_callbacks)
    booking = Booking.objects.get()
    frozen.move_to(booking.start + dt.timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True):
        sign_note(booking.clinician, booking)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.COMPLETED
    client = client_for(patient)  # the booking session has idled out since
    home = client.get(reverse("portal:patient_home")).content.decode()
    assert "Your doctor has left you a message" in home or "your doctor left a message" in home
    assert "Join your video visit" not in home
    appointment = client.get(reverse("visits:my_appointment", args=[booking.public_id])).content.decode()
    assert "We will call you about an assessment." in appointment
    refused = client.post(reverse("visits:my_cancel", args=[booking.public_id]))
    booking.refresh_from_db()
    assert refused.status_code == 302 and booking.status == BookingStatus.COMPLETED
    # Its time stays taken for the day's cap and its slot: nothing is offered over it.
    assert AuditEvent.objects.filter(
        action=Action.BOOKING_COMPLETED, subject_id=str(booking.public_id)
    ).exists()


# Crisis numbers follow the patient ---------------------------------------------------------------


def test_the_crisis_bar_shows_the_patients_country_like_the_page(patient):
    CrisisLine.objects.get_or_create(
        country="GB", name="Samaritans", number="116 123", defaults={"tel": "116123"}
    )
    PatientProfile.objects.update_or_create(user=patient, defaults={"country": "GB"})
    client = client_for(patient)
    for url in (reverse("portal:patient_home"), reverse("content:crisis")):
        page = client.get(url).content.decode()
        bar = page.split('class="crisis-bar"', 1)[1].split("</div>", 1)[0]
        assert "116 123" in bar and "988" not in bar, url
    anonymous = Client().get("/").content.decode().split('class="crisis-bar"', 1)[1].split("</div>", 1)[0]
    assert "988" in anonymous


# Emails that name the clinic ---------------------------------------------------------------------


def test_the_sign_up_code_email_names_the_clinic(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("account_signup"), {"email": "new@example.org", "password1": "a-long-pass-phrase-77"}
        )
    message = mail.outbox[-1]
    assert "Mendwell" in message.subject and "Mendwell" in message.body
    assert "on ." not in message.body and "register an account on" not in message.body
    assert re.search(r"\n\s*[A-Z0-9]{4}-[A-Z0-9]{4}\s*\n", message.body)  # the code itself


# One definition of flags; bands as people read them ----------------------------------------------


def test_the_dashboard_and_the_appointment_agree_on_flags_and_show_band_labels(
    frozen, open_clinic, patient, django_capture_on_commit_callbacks
):
    from tests.support.intake import section

    conditions = (
        {**section("conditions"), "high_blood_pressure": "yes"}
        if "high_blood_pressure" in section("conditions")
        else {**section("conditions"), next(iter(section("conditions"))): "yes"}
    )
    client = client_for(patient)
    _, intake = fill(client, conditions=conditions)
    intake.phq9_total, intake.phq9_band = 17, "moderately_severe"
    intake.save()
    adult_profile = PatientProfile.objects.get(user=patient)
    assert adult_profile.date_of_birth
    book_as(patient, first_ny_start(), django_capture_on_commit_callbacks)
    booking = Booking.objects.get()
    board = client_for(booking.clinician).get(reverse("portal:clinician_home")).content.decode()
    page = (
        client_for(booking.clinician)
        .get(reverse("visits:appointment", args=[booking.public_id]))
        .content.decode()
    )
    assert "Moderately severe" in board and "moderatelysevere" not in board + page
    listed = re.search(r"Flags for your judgment \((\d+)\)", page)
    assert listed and int(listed.group(1)) == intake.flag_count == 1


def test_the_visit_link_of_a_completed_appointment_leads_to_its_record(
    frozen, open_clinic, patient, other_patient, django_capture_on_commit_callbacks
):
    adult(patient)
    book_as(patient, first_ny_start(), django_capture_on_commit_callbacks)
    booking = Booking.objects.get()
    frozen.move_to(booking.start + dt.timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True):
        sign_note(booking.clinician, booking)
    url = reverse("visits:visit", args=[booking.public_id])
    assert client_for(booking.clinician).get(url)["Location"] == reverse(
        "visits:appointment", args=[booking.public_id]
    )
    assert client_for(patient).get(url)["Location"] == reverse(
        "visits:my_appointment", args=[booking.public_id]
    )
    assert client_for(other_patient).get(url).status_code == 404
