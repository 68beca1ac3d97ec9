"""The clinician's consult screen (the visit page, for its clinician), the waiting patient's
panel, signing in place, the note's CSRF token, and who the patient is on the appointment page."""

import datetime as dt
import json

import pytest
from django.test import Client
from django.urls import reverse

from clinic.accounts.models import PatientProfile
from clinic.audit.models import Action, AuditEvent
from clinic.intake.models import IntakeResponse
from clinic.scheduling.models import Booking
from clinic.visits.actions import NOTE_FIELDS
from clinic.visits.forms import NOTE_SECTIONS
from clinic.visits.models import ConsultNote
from tests.support.booking import adult, book_as, slot_starts
from tests.support.personas import client_for

pytestmark = pytest.mark.django_db

WHERE = {"jurisdiction": "US-NY", "address": "1 Main St\nAlbany NY 12207", "phone": "212 555 0100"}
COMPLETE = {
    "identity_method": "dob_address",
    "location_confirmed": "on",
    "others_present": "nobody",
    "reason": "Low mood for a year",
    "plan": "Refer for in-person assessment",
    "decision": "suitable",
    "patient_message": "Our team will call you this week to arrange an in-person assessment.",
}
ANSWERS = {
    "high_blood_pressure": "yes",
    "med_benzodiazepines": "yes",
    "medicines_list": "Sertraline 100 mg",
    "antidepressants_tried": "2",
}


@pytest.fixture
def booking(frozen, open_clinic, patient, django_capture_on_commit_callbacks):
    first = slot_starts(Client().get("/book/", {"jurisdiction": "US-NY", "tz": "America/New_York"}))[0]
    book_as(adult(patient, born=dt.date(1990, 5, 1)), first, django_capture_on_commit_callbacks)
    PatientProfile.objects.filter(user=patient).update(
        legal_name="Patricia Anne Patient", preferred_name="Pat", home_address="9 Elm Road\nTroy NY"
    )
    IntakeResponse.objects.filter(patient=patient).update(
        answers_json=json.dumps(ANSWERS), phq9_band="moderately_severe", phq9_total=17
    )
    booking = Booking.objects.get()
    frozen.move_to(booking.start - dt.timedelta(minutes=5))
    return booking


def url(name, booking):
    return reverse(f"visits:{name}", args=[booking.public_id])


def audits(action, **filters):
    return AuditEvent.objects.filter(action=action, **filters).count()


def test_the_note_sections_cover_every_note_field_once():
    names = [name for _, fields in NOTE_SECTIONS for name in fields]
    assert sorted(names) == sorted(NOTE_FIELDS) and len(names) == len(set(names))


def test_the_consult_screen_puts_the_patient_the_call_and_the_note_in_one_page(booking, patient, open_clinic):
    client_for(patient).post(url("attest", booking), WHERE)
    before = {a: audits(a, actor=open_clinic) for a in (Action.BOOKING_VIEWED, Action.INTAKE_VIEWED)}
    page = client_for(open_clinic).get(url("visit", booking)).content.decode()
    # Who: legal name, date of birth and age, home address; where now and the call-back.
    who = ("Pat", "Patricia Anne Patient", "1 May 1990", "age 36", "9 Elm Road")
    where = ("1 Main St, Albany NY 12207", 'href="tel:212 555 0100"', "New York (licensed)")
    for text in (*who, *where):
        assert text in page, text
    # The questionnaire: scores with readable bands, the flag and the medicines.
    for text in (
        "PHQ-9",
        "Moderately severe",
        "GAD-7",
        "High blood pressure",
        "Benzodiazepines",
        "Sertraline 100 mg",
    ):
        assert text in page, text
    # The camera check, the Admit button, the call (hidden until admitted) and the note form.
    for marker in (
        'id="self-view"',
        'id="admit"',
        'id="call"',
        'id="hang-up"',
        "data-autosave",
        "data-sign-in-place",
    ):
        assert marker in page, marker
    assert "Learn</a>" not in page and 'class="crisis-bar"' not in page  # the clinician's own header
    assert 'href="/crisis/"' in page  # the crisis lines one small link away
    assert audits(Action.BOOKING_VIEWED, actor=open_clinic, reason="consult screen") == 1
    assert audits(Action.INTAKE_VIEWED, actor=open_clinic) == before[Action.INTAKE_VIEWED] + 1


def test_a_flagged_visit_puts_the_safety_assessment_first(frozen, open_clinic, patient, booking):
    Booking.objects.filter(pk=booking.pk).update(safety_first=True)
    page = client_for(open_clinic).get(url("visit", booking)).content.decode()
    assert "flagged: needed before signing" in page
    assert page.index('id="note-safety"') < page.index('id="note-note"')
    Booking.objects.filter(pk=booking.pk).update(safety_first=False)
    IntakeResponse.objects.update(triage="routine")
    page = client_for(open_clinic).get(url("visit", booking)).content.decode()
    assert "flagged: needed before signing" not in page
    assert page.index('id="note-safety"') > page.index('id="note-message"')  # still there, at the end


def test_only_the_booked_clinician_gets_the_consult_screen_and_the_panel(
    booking, patient, other_patient, clinician_elsewhere, staff
):
    client_for(patient).post(url("attest", booking), WHERE)
    for who in (other_patient, clinician_elsewhere, staff, patient):
        assert client_for(who).get(url("patient_panel", booking)).status_code == 404, who.role
    for who in (other_patient, clinician_elsewhere, staff):
        assert client_for(who).get(url("visit", booking)).status_code == 404, who.role
    assert Client().get(url("patient_panel", booking)).status_code == 302
    # The patient gets their own page, not the consult screen.
    page = client_for(patient).get(url("visit", booking)).content.decode()
    assert "You're in the waiting room" in page and "data-autosave" not in page and "Patricia" not in page


def test_the_panel_follows_the_patient_and_its_read_is_audited(booking, patient, open_clinic):
    doctor = client_for(open_clinic)
    page = doctor.get(url("patient_panel", booking)).content.decode()
    assert "has not arrived yet" in page and "1 Main St" not in page
    assert audits(Action.BOOKING_VIEWED, reason="visit status") == 0  # nothing personal shown yet
    client_for(patient).post(url("attest", booking), {**WHERE, "jurisdiction": "US-TX"})
    page = doctor.get(url("patient_panel", booking)).content.decode()
    assert "where you hold no verified license" in page and "Texas" in page and 'data-blocked="1"' in page
    assert "1 Main St, Albany NY 12207" in page
    client_for(patient).post(url("attest", booking), WHERE)
    page = doctor.get(url("patient_panel", booking)).content.decode()
    assert "Pat is waiting" in page and "New York (licensed)" in page and 'data-waiting="1"' in page
    assert audits(Action.BOOKING_VIEWED, actor=open_clinic, reason="visit status") == 2


def test_admitting_by_script_answers_with_the_time(booking, patient, open_clinic):
    client_for(patient).post(url("attest", booking), WHERE)
    response = client_for(open_clinic).post(url("admit", booking), HTTP_ACCEPT="application/json")
    assert response.status_code == 200 and response.json()["admitted"] is True
    assert dt.datetime.fromisoformat(response.json()["admitted_at"]) == dt.datetime.now(dt.UTC)
    again = client_for(open_clinic).post(url("admit", booking), HTTP_ACCEPT="application/json")
    assert again.json()["admitted_at"] == response.json()["admitted_at"]  # a second click changes nothing
    assert audits(Action.VISIT_ADMITTED) == 1


def test_signing_in_place_answers_what_is_missing_then_signs_once(
    booking, open_clinic, other_patient, clinician_elsewhere
):
    doctor = client_for(open_clinic)
    doctor.post(url("note_save", booking), {"reason": "Low mood"}, HTTP_ACCEPT="application/json")
    refused = doctor.post(url("note_sign", booking), HTTP_ACCEPT="application/json")
    assert refused.status_code == 409 and refused.json()["signed"] is False
    assert "Record how you verified the patient's identity." in refused.json()["problems"]
    assert ConsultNote.objects.get().signed_at is None
    doctor.post(url("note_save", booking), COMPLETE, HTTP_ACCEPT="application/json")
    signed = doctor.post(url("note_sign", booking), HTTP_ACCEPT="application/json")
    assert signed.status_code == 200 and signed.json()["signed"] is True
    again = doctor.post(url("note_sign", booking), HTTP_ACCEPT="application/json")
    assert again.json()["signed_at"] == signed.json()["signed_at"]
    assert audits(Action.NOTE_SIGNED) == 1
    assert (
        client_for(clinician_elsewhere)
        .post(url("note_sign", booking), HTTP_ACCEPT="application/json")
        .status_code
        == 404
    )
    assert client_for(other_patient).post(url("note_sign", booking)).status_code == 403


def test_a_fresh_csrf_token_only_for_the_notes_own_clinician(
    booking, open_clinic, clinician_elsewhere, patient
):
    response = client_for(open_clinic).get(url("note_token", booking))
    assert response.status_code == 200 and len(response.json()["csrf"]) == 64
    assert client_for(clinician_elsewhere).get(url("note_token", booking)).status_code == 404
    assert client_for(patient).get(url("note_token", booking)).status_code == 403
    assert Client().get(url("note_token", booking)).status_code == 302
    # The token it gives is one the server accepts for the note.
    doctor = Client(enforce_csrf_checks=True)
    doctor.force_login(open_clinic, backend="django.contrib.auth.backends.ModelBackend")
    stale = doctor.post(url("note_save", booking), {"reason": "x", "csrfmiddlewaretoken": "stale" * 8})
    assert stale.status_code == 403
    token = doctor.get(url("note_token", booking)).json()["csrf"]
    data = {"reason": "Saved after signing in again", "csrfmiddlewaretoken": token}
    saved = doctor.post(url("note_save", booking), data, HTTP_ACCEPT="application/json")
    assert saved.status_code == 200 and ConsultNote.objects.get().reason == "Saved after signing in again"


def test_a_signed_out_autosave_is_sent_to_sign_in_and_saves_nothing(booking, open_clinic):
    response = Client().post(url("note_save", booking), {"reason": "lost?"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not ConsultNote.objects.filter(reason="lost?").exists()


def test_the_appointment_page_shows_who_and_offers_the_visit_only_before_signing(booking, open_clinic):
    doctor = client_for(open_clinic)
    page = doctor.get(reverse("visits:appointment", args=[booking.public_id])).content.decode()
    assert "Patricia Anne Patient" in page and "born 1 May 1990 (age 36)" in page and "9 Elm Road" in page
    assert "Open the visit" in page
    assert audits(Action.BOOKING_VIEWED, actor=open_clinic, reason="appointment") == 1
    doctor.post(url("note_save", booking), COMPLETE)
    doctor.post(url("note_sign", booking))
    page = doctor.get(reverse("visits:appointment", args=[booking.public_id])).content.decode()
    assert "Signed" in page and "Open the visit" not in page


def test_the_chart_shows_date_of_birth_age_and_address(booking, open_clinic):
    page = (
        client_for(open_clinic)
        .get(reverse("visits:chart", args=[booking.patient.public_id]))
        .content.decode()
    )
    assert "1 May 1990 · age 36" in page and "9 Elm Road" in page
    assert audits(Action.CHART_VIEWED, actor=open_clinic) == 1


def test_the_clinicians_closed_page_points_to_the_appointment(booking, open_clinic, frozen):
    frozen.move_to(booking.end + dt.timedelta(hours=2))
    page = client_for(open_clinic).get(url("visit", booking)).content.decode()
    assert "This visit has closed" in page and "book another time" not in page
    assert reverse("visits:appointment", args=[booking.public_id]) in page


def test_with_jitsi_both_pages_embed_the_room_once_admitted(booking, patient, open_clinic, settings):
    settings.VIDEO_PROVIDER = "jitsi"
    settings.JITSI_DOMAIN, settings.JITSI_APP_ID, settings.JITSI_APP_SECRET = "meet.example", "app", "k" * 32
    client_for(patient).post(url("attest", booking), WHERE)
    client_for(open_clinic).post(url("admit", booking))
    for who in (patient, open_clinic):
        page = client_for(who).get(url("visit", booking)).content.decode()
        assert 'data-provider="jitsi"' in page and 'id="jitsi"' in page and 'id="remote"' not in page
        assert "https://meet.example/external_api.js" in page
