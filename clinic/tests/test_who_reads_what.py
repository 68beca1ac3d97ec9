"""The README's "Who reads what" table, line by line, through the pages and the API.

Staff and a clinician without a relationship are checked on every GET page of their role in
the URL map (a new page is checked the day it is added): none shows the patient's health data.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from clinic.accounts.models import Role
from clinic.scheduling.actions import do_add_time_off
from clinic.tests.test_audit_walk import pages
from tests.support.personas import client_for, license_user, make_user
from tests.support.register import administer, stocked_site
from tests.support.scenario import ADDRESS, PATIENT_CANCEL_REASON, PHONE, Story, tell

pytestmark = pytest.mark.django_db

TIME_OFF_NOTE = "fertility clinic appointment"
# Health data of the story's patient, and what anyone typed about them.
HEALTH_DATA = {
    "legal name": "Patricia Patient",
    "phone": PHONE,
    "address": ADDRESS,
    "triage": "Safety assessment first",
    "triage (routine)": "Routine",
    "PHQ-9 band": "mild",
    "note": "Low mood for a year",
    "doctor's message": "Thank you for talking with me today.",
    "patient's cancel reason": PATIENT_CANCEL_REASON,
    "time-off note": TIME_OFF_NOTE,
}


@pytest.fixture
def story(
    frozen, open_clinic, clinician_elsewhere, patient, staff, django_capture_on_commit_callbacks
) -> Story:
    told = tell(frozen, patient, open_clinic, clinician_elsewhere, staff, django_capture_on_commit_callbacks)
    do_add_time_off(
        clinician=open_clinic,
        start=told.booking.start + dt.timedelta(days=10),
        end=told.booking.start + dt.timedelta(days=11),
        note=TIME_OFF_NOTE,
    )
    return told


def body(client: Client, url: str, **params: str) -> str:
    response = client.get(url, params)
    assert response.status_code == 200, f"{url}: {response.status_code}"
    return response.content.decode()


def role_pages(role: Role, story: Story) -> list[str]:
    """Every GET page of ``role`` in the URL map, with the story's ids."""
    values = story.kwargs()
    urls = []
    for page in pages():
        if role in getattr(page.view, "roles", ()) and all(arg in values for arg in page.converters):
            urls.append(reverse(page.name, kwargs={arg: values[arg] for arg in page.converters}))
    return urls


def shown(text: str) -> list[str]:
    return [what for what, value in HEALTH_DATA.items() if value in text]


def test_public_pages_free_times_and_doctors_names_for_everyone(story):
    for client in (Client(), client_for(story.patient), client_for(story.clinician), client_for(story.staff)):
        assert "988" in body(client, "/crisis/")
        page = body(client, "/book/", jurisdiction="US-NY", tz="America/New_York")
        assert story.clinician.display_name in page
    assert Client().get("/api/v1/slots", {"jurisdiction": "US-NY", "start": "2026-12-01"}).status_code == 200


def test_an_appointment_time_doctor_and_status_by_role(story, other_patient):
    when = story.booking.start.astimezone(dt.UTC)
    token = re.search(r"/manage/([^/\s]+)/", str(mail.outbox[0].body)).group(1)  # type: ignore[union-attr]
    # Visitor: only with the emailed link, and it shows no health data.
    manage = body(Client(), reverse("scheduling:manage", args=[token]))
    assert story.clinician.display_name in manage and "Confirmed" in manage
    assert not shown(manage)
    # The patient: their own.
    mine = body(client_for(story.patient), reverse("visits:my_appointment", args=[story.booking.public_id]))
    assert story.clinician.display_name in mine
    assert (
        client_for(other_patient)
        .get(reverse("visits:my_appointment", args=[story.booking.public_id]))
        .status_code
        == 404
    )
    # The clinician: their own bookings.
    assert (
        client_for(story.clinician)
        .get(reverse("visits:appointment", args=[story.booking.public_id]))
        .status_code
        == 200
    )
    assert (
        client_for(story.other_clinician)
        .get(reverse("visits:appointment", args=[story.booking.public_id]))
        .status_code
        == 404
    )
    # Staff: every booking on the day view, with doctor, time, place and status.
    day = body(client_for(story.staff), reverse("scheduling:day"), date=when.date().isoformat())
    assert story.clinician.display_name in day and "US-NY" in day and "Confirmed" in day
    assert story.patient.display_name in day  # who the patient is, for coordination


def test_staff_see_a_neutral_clinician_review_marker_and_the_clinician_sees_the_flag(story):
    day = body(client_for(story.staff), reverse("scheduling:day"))
    assert "Clinician review" in day
    assert not shown(day), shown(day)
    appointment = body(
        client_for(story.clinician), reverse("visits:appointment", args=[story.booking.public_id])
    )
    assert "Safety assessment first" in appointment


def test_staff_pages_show_none_of_the_patients_health_data(story):
    staff = client_for(story.staff)
    urls = role_pages(Role.STAFF, story)
    assert reverse("scheduling:day") in urls and reverse("portal:audit_log") in urls
    days = [story.booking.start.date(), story.cancelled.start.date()]
    urls += [f"{reverse('scheduling:day')}?date={day.isoformat()}" for day in days]
    for url in urls:
        response = staff.get(url)
        if response.status_code != 200:
            continue
        text = response.content.decode()
        assert not shown(text), f"{url} shows {shown(text)} to staff"
    # Nor the clinical pages themselves.
    for name, arg in (
        ("visits:appointment", story.booking.public_id),
        ("visits:chart", story.patient.public_id),
        ("visits:patient_intake", story.patient.public_id),
        ("visits:visit", story.booking.public_id),
    ):
        assert staff.get(reverse(name, args=[arg])).status_code in (403, 404)
    assert staff.get(reverse("intake:mine")).status_code == 403


def test_a_clinician_without_a_relationship_reads_nothing_of_the_patient(story, staff):
    # The booked clinician is on call, so the urgent call-back is theirs, not everyone's.
    type(story.clinician).objects.filter(pk=story.clinician.pk).update(on_call=True)
    stranger = make_user("third@example.org", Role.CLINICIAN, mfa=True, name="Dr Third")
    license_user(stranger, "US-NY", staff)
    client = client_for(stranger)
    for url in role_pages(Role.CLINICIAN, story):
        response = client.get(url)
        text = response.content.decode() if response.status_code == 200 else ""
        assert not shown(text), f"{url} shows {shown(text)} to a stranger"
    assert client.get(reverse("visits:patient_intake", args=[story.patient.public_id])).status_code == 403


def test_the_booked_clinician_reads_profile_intake_place_and_notes_not_the_patients_cancel_reason(story):
    doctor = client_for(story.clinician)
    chart = body(doctor, reverse("visits:chart", args=[story.patient.public_id]))
    assert "Patricia Patient" in chart and PHONE in chart and "Refer for an in-person assessment" in chart
    appointment = body(doctor, reverse("visits:appointment", args=[story.booking.public_id]))
    assert "mild" in appointment.lower() and "Low mood for a year" in appointment
    visit = body(doctor, reverse("visits:visit", args=[story.booking.public_id]))
    assert ADDRESS in visit and PHONE in visit
    for url in role_pages(Role.CLINICIAN, story):
        response = doctor.get(url)
        if response.status_code == 200:
            assert PATIENT_CANCEL_REASON not in response.content.decode(), url
    assert TIME_OFF_NOTE in body(doctor, reverse("scheduling:availability"))


def test_the_patient_reads_their_own_record_and_download(story):
    client = client_for(story.patient)
    mine = body(client, reverse("intake:mine"))
    assert "mild" in mine.lower()
    appointment = body(client, reverse("visits:my_appointment", args=[story.booking.public_id]))
    assert "Thank you for talking with me today." in appointment
    assert "Low mood for a year" not in appointment  # the note itself is the clinician's
    download = body(client, reverse("visits:my_data"), format="json")
    assert PATIENT_CANCEL_REASON in download and "Low mood for a year" in download
    api = client.get("/api/v1/bookings").content.decode()
    assert PATIENT_CANCEL_REASON not in api


def test_the_clinics_cancel_reason_goes_to_the_patient_staff_see_who_cancelled(
    story, django_capture_on_commit_callbacks
):
    staff = client_for(story.staff)
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(
            reverse("scheduling:staff_cancel", args=[story.booking.public_id]), {"reason": "Dr Doc is ill"}
        )
    assert "Dr Doc is ill" in mail.outbox[-1].body
    day = body(staff, reverse("scheduling:day"))
    assert "by the clinic" in day and "Dr Doc is ill" not in day
    later = body(staff, reverse("scheduling:day"), date=story.cancelled.start.date().isoformat())
    assert "by the patient" in later and PATIENT_CANCEL_REASON not in later


def test_break_glass_reasons_contact_messages_audit_log_and_funnel_are_for_staff(story):
    staff = client_for(story.staff)
    assert "Covering the on-call line" in body(staff, reverse("visits:break_glass_review"))
    assert "Is this treatment right for me?" in body(
        staff, reverse("content:inbox_message", args=[story.contact.public_id])
    )
    body(staff, reverse("portal:audit_log"))
    body(staff, reverse("portal:funnel"))
    for other in (story.patient, story.clinician):
        client = client_for(other)
        for name, args in (
            ("visits:break_glass_review", []),
            ("content:inbox_message", [story.contact.public_id]),
            ("portal:audit_log", []),
            ("portal:funnel", []),
        ):
            assert client.get(reverse(name, args=args)).status_code == 403, (name, other)
    assert Client().get(reverse("content:inbox_message", args=[uuid.uuid4()])).status_code == 302


def test_the_register_names_the_patient_of_each_dose_to_staff_only(story):
    site, lot = stocked_site(story.staff)
    administer(site, lot, patient=story.patient, clinician=story.clinician)
    page = body(client_for(story.staff), reverse("register:lot", args=[lot.public_id]))
    assert "Patient: Pat Patient" in page
    assert not shown(page), shown(page)  # who was given a dose, never their intake or profile
    for person in (story.patient, story.clinician, story.other_clinician):
        for name, arg in (("register:lot", lot.public_id), ("register:export", site.public_id)):
            assert client_for(person).get(reverse(name, args=[arg])).status_code == 403
