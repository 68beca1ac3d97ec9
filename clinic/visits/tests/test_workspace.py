import datetime as dt
import json

import pytest
from django.core import mail
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse

from clinic.audit.models import Action, AuditEvent
from clinic.scheduling.models import AppointmentKind, Booking
from clinic.visits.models import ConsultNote, NoteAddendum
from tests.support.booking import adult, book_as, slot_starts
from tests.support.personas import client_for

pytestmark = pytest.mark.django_db

COMPLETE = {
    "identity_method": "photo_id",
    "location_confirmed": "on",
    "others_present": "nobody",
    "reason": "Low mood for a year despite two antidepressants",
    "history_reviewed": "PHQ-9 and history reviewed with the patient",
    "contraindications_reviewed": "No cardiovascular disease; BP to be checked in person",
    "plan": "Refer for in-person assessment",
    "follow_up": "Clinic will call within a week",
    "decision": "suitable",
    "patient_message": (
        "Thank you for talking with me. Our team will call you this week to arrange an in-person assessment."
    ),
}


def make_booking(patient, django_capture_on_commit_callbacks, triage="routine"):
    first = slot_starts(Client().get("/book/", {"jurisdiction": "US-NY", "tz": "America/New_York"}))[0]
    book_as(adult(patient, triage=triage), first, django_capture_on_commit_callbacks)
    return Booking.objects.get(patient=patient)


@pytest.fixture
def booking(frozen, open_clinic, patient, django_capture_on_commit_callbacks):
    return make_booking(patient, django_capture_on_commit_callbacks)


def note_url(name, booking):
    return reverse(f"visits:{name}", args=[booking.public_id])


def test_the_note_autosaves_and_cannot_be_signed_without_the_checklist(booking, open_clinic):
    doctor = client_for(open_clinic)
    response = doctor.post(
        note_url("note_save", booking), {"reason": "Low mood"}, HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 200 and response.json()["saved"] is True
    assert ConsultNote.objects.get().reason == "Low mood"
    doctor.post(note_url("note_save", booking), {**COMPLETE, "identity_method": "", "location_confirmed": ""})
    doctor.post(note_url("note_sign", booking))
    note = ConsultNote.objects.get()
    assert note.signed_at is None
    page = doctor.get(reverse("visits:appointment", args=[booking.public_id])).content.decode()
    assert "Record how you verified the patient" in page and "Confirm the location" in page


def test_a_flagged_visit_needs_the_safety_assessment(
    frozen, open_clinic, patient, django_capture_on_commit_callbacks
):
    booking = make_booking(patient, django_capture_on_commit_callbacks, triage="safety_assessment_first")
    assert booking.safety_first
    doctor = client_for(open_clinic)
    doctor.post(note_url("note_save", booking), COMPLETE)
    doctor.post(note_url("note_sign", booking))
    assert ConsultNote.objects.get().signed_at is None
    doctor.post(
        note_url("note_save", booking),
        {**COMPLETE, "risk_level": "moderate", "safety_plan": "Safety plan agreed; crisis numbers given"},
    )
    doctor.post(note_url("note_sign", booking))
    assert ConsultNote.objects.get().signed_at is not None


def test_not_suitable_needs_a_reason(booking, open_clinic):
    doctor = client_for(open_clinic)
    doctor.post(note_url("note_save", booking), {**COMPLETE, "decision": "not_suitable"})
    doctor.post(note_url("note_sign", booking))
    assert ConsultNote.objects.get().signed_at is None
    doctor.post(
        note_url("note_save", booking),
        {
            **COMPLETE,
            "decision": "not_suitable",
            "decision_reason": "Uncontrolled hypertension; referred to GP",
        },
    )
    doctor.post(note_url("note_sign", booking))
    assert ConsultNote.objects.get().signed_at is not None


def test_signing_tells_the_patient_without_clinical_content_and_the_note_is_permanent(
    booking, open_clinic, patient, django_capture_on_commit_callbacks
):
    doctor = client_for(open_clinic)
    doctor.post(note_url("note_save", booking), COMPLETE)
    with django_capture_on_commit_callbacks(execute=True):
        doctor.post(note_url("note_sign", booking))
    note = ConsultNote.objects.get()
    assert note.is_signed
    assert AuditEvent.objects.filter(action=Action.NOTE_SIGNED, actor=open_clinic, reason="suitable").exists()
    (message,) = [m for m in mail.outbox if "message" in m.subject]
    assert message.to == [patient.email]
    for word in ("suitable", "assessment", "antidepress", "ketamine", "mood"):
        assert word not in message.body.lower()
    # Edits are refused by the code...
    response = doctor.post(
        note_url("note_save", booking), {**COMPLETE, "plan": "changed"}, HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 409
    # ...and by the database.
    with pytest.raises(DatabaseError), transaction.atomic():
        ConsultNote.objects.filter(pk=note.pk).update(plan="rewritten")
    with pytest.raises(DatabaseError), transaction.atomic():
        ConsultNote.objects.filter(pk=note.pk).delete()
    note.refresh_from_db()
    assert note.plan == "Refer for in-person assessment"
    # Corrections are addenda, which are append-only too.
    doctor.post(note_url("note_addendum", booking), {"text": "BP 150/95 reported by patient afterwards"})
    addendum = NoteAddendum.objects.get()
    assert addendum.text.startswith("BP 150/95")
    with pytest.raises(DatabaseError), transaction.atomic():
        NoteAddendum.objects.filter(pk=addendum.pk).update(text="x")
    with connection.cursor() as cursor:
        cursor.execute("SELECT plan FROM visits_consultnote WHERE id = %s", [note.pk])
        assert "Refer" not in cursor.fetchone()[0]  # encrypted at rest


def test_the_patient_reads_the_message_in_the_portal_and_the_read_is_audited(
    booking, open_clinic, patient, other_patient, staff
):
    doctor = client_for(open_clinic)
    doctor.post(note_url("note_save", booking), COMPLETE)
    url = reverse("visits:my_appointment", args=[booking.public_id])
    assert "Your doctor's message" not in client_for(patient).get(url).content.decode()  # not before signing
    doctor.post(note_url("note_sign", booking))
    page = client_for(patient).get(url).content.decode()
    assert (
        "Our team will call you this week" in page
        and "Suitable for an in-person treatment assessment" in page
    )
    assert AuditEvent.objects.filter(action=Action.MESSAGE_READ, actor=patient).count() == 1
    assert client_for(other_patient).get(url).status_code == 404
    assert client_for(staff).get(url).status_code == 403
    assert client_for(open_clinic).get(url).status_code == 403
    assert Client().get(url).status_code == 302


def test_note_pages_refuse_everyone_but_the_booked_clinician(booking, clinician_elsewhere, patient, staff):
    for name in ("note_save", "note_sign", "note_addendum", "no_show"):
        assert client_for(clinician_elsewhere).post(note_url(name, booking), COMPLETE).status_code == 404
        assert client_for(patient).post(note_url(name, booking), COMPLETE).status_code == 403
        assert client_for(staff).post(note_url(name, booking), COMPLETE).status_code == 403
    assert client_for(clinician_elsewhere).get(note_url("follow_up", booking)).status_code == 404
    assert not ConsultNote.objects.filter(reason__isnull=False).exclude(reason="").exists()


def test_no_show_after_the_start_emails_the_patient_kindly(
    booking, open_clinic, frozen, django_capture_on_commit_callbacks
):
    doctor = client_for(open_clinic)
    doctor.post(note_url("no_show", booking), {"by": "patient"})
    assert Booking.objects.get().status == "confirmed"  # not before the start
    frozen.move_to(booking.start + dt.timedelta(minutes=10))
    doctor = client_for(open_clinic)
    with django_capture_on_commit_callbacks(execute=True):
        doctor.post(note_url("no_show", booking), {"by": "patient"})
    booking.refresh_from_db()
    assert booking.status == "no_show" and booking.no_show_by == "patient"
    missed = [m for m in mail.outbox if "missed you" in m.subject.lower()]
    assert len(missed) == 1 and "/book/" in missed[0].body


def test_the_clinician_books_a_follow_up_from_their_own_free_times(
    booking, open_clinic, django_capture_on_commit_callbacks
):
    doctor = client_for(open_clinic)
    page = doctor.get(note_url("follow_up", booking))
    starts = slot_starts(page)
    assert starts
    with django_capture_on_commit_callbacks(execute=True):
        response = doctor.post(note_url("follow_up", booking), {"start": starts[2]})
    assert response.status_code == 302
    follow = Booking.objects.get(appointment_type__kind=AppointmentKind.FOLLOW_UP)
    assert follow.patient == booking.patient and follow.clinician == open_clinic
    assert follow.start.isoformat() == starts[2]
    assert doctor.post(note_url("follow_up", booking), {"start": starts[2]}).status_code == 302
    assert Booking.objects.filter(appointment_type__kind=AppointmentKind.FOLLOW_UP).count() == 1  # not twice
    assert doctor.post(note_url("follow_up", booking), {"start": "soon"}).status_code == 302


def test_the_chart_shows_history_and_each_open_is_audited(
    booking, open_clinic, clinician_elsewhere, staff, patient
):
    doctor = client_for(open_clinic)
    doctor.post(note_url("note_save", booking), COMPLETE)
    doctor.post(note_url("note_sign", booking))
    url = reverse("visits:chart", args=[patient.public_id])
    page = doctor.get(url).content.decode()
    assert "Refer for in-person assessment" in page and "Suitable" in page
    assert (
        AuditEvent.objects.filter(action=Action.CHART_VIEWED, actor=open_clinic, patient=patient).count() == 1
    )
    assert client_for(clinician_elsewhere).get(url).status_code == 302  # to the break-glass page
    assert client_for(staff).get(url).status_code == 403
    assert client_for(patient).get(url).status_code == 403


def test_patients_download_all_their_data_audited(booking, open_clinic, patient, other_patient, staff):
    client_for(open_clinic).post(note_url("note_save", booking), COMPLETE)
    client_for(open_clinic).post(note_url("note_sign", booking))
    response = client_for(patient).get(reverse("visits:my_data"), {"format": "json"})
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment")
    data = json.loads(response.content)
    assert data["account"]["email"] == patient.email
    assert data["appointments"][0]["id"] == str(booking.public_id)
    assert data["notes"][0]["patient_message"].startswith("Thank you")
    html = client_for(patient).get(reverse("visits:my_data")).content.decode()
    assert "Everything we hold about you" in html
    assert AuditEvent.objects.filter(action=Action.DATA_EXPORTED, actor=patient).count() == 2
    other = json.loads(client_for(other_patient).get(reverse("visits:my_data"), {"format": "json"}).content)
    assert other["appointments"] == [] and other["notes"] == []
    assert client_for(staff).get(reverse("visits:my_data")).status_code == 403
    assert client_for(patient).get(reverse("visits:my_data"), {"format": "xml"}).status_code == 404


def test_the_weekly_funnel_counts_and_downloads(booking, open_clinic, staff, patient, frozen):
    from clinic.visits.models import Attendance, Visit

    visit = Visit.objects.create(booking=booking)
    for who, role in ((patient, "patient"), (open_clinic, "clinician")):
        Attendance.objects.create(visit=visit, user=who, role=role, joined_at=booking.start)
    client_for(open_clinic).post(note_url("note_save", booking), COMPLETE)
    client_for(open_clinic).post(note_url("note_sign", booking))
    page = client_for(staff).get(reverse("portal:funnel"), {"week": "2026-12-01"}).content.decode()
    assert "Week of 30 November 2026" in page
    csv_text = (
        client_for(staff)
        .get(reverse("portal:funnel"), {"week": "2026-12-01", "format": "csv"})
        .content.decode()
    )
    rows = [line.split(",") for line in csv_text.strip().splitlines()]
    assert rows[0] == ["week_starting", "stage", "count", "rate_of_previous"]
    counts = {row[1]: int(row[2]) for row in rows[1:]}
    assert counts == {
        "Booking started": 1,
        "Intake done": 0,
        "Booked": 1,
        "Attended": 1,
        "Decision recorded": 1,
    }
    for outsider in (patient, open_clinic):
        assert client_for(outsider).get(reverse("portal:funnel")).status_code == 403


def test_the_appointment_page_shows_the_note_form_attendance_and_audits_reads(booking, open_clinic, patient):
    from clinic.visits.models import Attendance, Visit

    visit = Visit.objects.create(booking=booking, attested_jurisdiction="US-NY")
    Attendance.objects.create(visit=visit, user=patient, role="patient", joined_at=booking.start)
    doctor = client_for(open_clinic)
    page = doctor.get(reverse("visits:appointment", args=[booking.public_id])).content.decode()
    assert (
        'name="identity_method"' in page and 'name="patient_message"' in page and 'name="risk_level"' in page
    )
    assert "Patient joined" in page
    doctor.post(note_url("note_save", booking), COMPLETE)
    doctor.get(reverse("visits:appointment", args=[booking.public_id]))
    assert AuditEvent.objects.filter(action=Action.NOTE_VIEWED, actor=open_clinic).count() == 1
