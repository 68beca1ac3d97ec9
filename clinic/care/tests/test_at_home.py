"""Sessions at home, supervised over video: the adult staying with the patient is confirmed on
camera before the dose, the patient sends their own readings during the session, and both
appear beside the call, in place of the consultation note a consult has. Every new page and
write against the wrong persona; every read audited; both rows permanent like the record."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.db import DatabaseError, transaction
from django.utils import timezone

from clinic.audit.models import Action, AuditEvent
from clinic.care import session_actions as actions
from clinic.care import session_rules as rules
from clinic.care.models import Route
from clinic.care.models.sessions import HomeReading, SupervisorConfirmation, VitalsWhen
from clinic.visits.models import ConsultNote, Visit
from tests.support.personas import client_for, license_user, make_user
from tests.support.treatment_session import make_session, make_signed_record, protocol_version

pytestmark = pytest.mark.django_db

READING = {"when": "pre_dose", "systolic": "128", "diastolic": "82", "heart_rate": "72", "spo2": ""}


@pytest.fixture
def home(staff, clinician, patient, nurse):
    """Session 1 of an at-home plan, starting now, with a nurse; the patient in the call."""
    version = protocol_version(staff, clinician, route=Route.ORAL_KETAMINE)
    session = make_session(patient=patient, clinician=clinician, staff=staff, nurse=nurse, version=version)
    Visit.objects.create(
        booking=session.booking,
        attested_jurisdiction="US-NY",
        attested_address="1 Main St",
        callback_phone="+12125550100",
        attested_at=timezone.now(),
        waiting_since=timezone.now(),
        admitted_at=timezone.now(),
    )
    return session


@pytest.fixture
def in_clinic(staff, clinician, other_patient):
    # Another day: one clinician's bookings never overlap.
    return make_session(
        patient=other_patient, clinician=clinician, staff=staff, start=timezone.now() + dt.timedelta(days=1)
    )


def _pre_dose(session, actor):
    actions.do_record_vitals(
        actor=actor,
        session=session,
        when=VitalsWhen.PRE_DOSE,
        taken_at=timezone.now(),
        systolic=124,
        diastolic=80,
        heart_rate=70,
        spo2=98,
    )


def _dose(session, actor):
    return actions.do_record_dose(
        actor=actor, session=session, dose_mg=Decimal("60"), lot_number="L1", dosed_at=timezone.now()
    )


# The rules ------------------------------------------------------------------------------------


def test_the_dose_is_refused_until_the_adult_is_confirmed_on_camera(home, clinician):
    _pre_dose(home, clinician)
    with pytest.raises(actions.RecordError, match="adult who stays with the patient"):
        _dose(home, clinician)
    assert actions.record_for(home).dosed_at is None
    actions.do_confirm_supervisor(actor=clinician, session=home, name="  Sam   Adult ")
    assert _dose(home, clinician).dosed_at is not None
    assert SupervisorConfirmation.objects.get().name == "Sam Adult"


def test_the_record_lists_the_adult_until_confirmed_and_only_at_home(home, in_clinic, nurse):
    assert rules.SUPERVISOR_MISSING in actions.missing(actions.record_for(home))
    assert rules.SUPERVISOR_MISSING not in actions.missing(actions.record_for(in_clinic))
    actions.do_confirm_supervisor(actor=nurse, session=home, name="Sam Adult")  # the session's nurse may
    assert rules.SUPERVISOR_MISSING not in actions.missing(actions.record_for(home))


def test_only_those_watching_confirm_and_only_at_home(home, in_clinic, clinician, staff, patient):
    other = make_user("doc2@example.org", "clinician", mfa=True)
    license_user(other, "US-NY", staff)
    for who in (other, staff, patient):
        with pytest.raises(actions.NotAllowed):
            actions.do_confirm_supervisor(actor=who, session=home, name="Sam")
    with pytest.raises(actions.RecordError, match="Only a session at home"):
        actions.do_confirm_supervisor(actor=clinician, session=in_clinic, name="Sam")
    for bad in ("", "   ", "x" * 151):
        with pytest.raises(actions.RecordError):
            actions.do_confirm_supervisor(actor=clinician, session=home, name=bad)
    assert not SupervisorConfirmation.objects.exists()


def test_the_patient_sends_readings_only_while_their_own_session_at_home_is_open(home, in_clinic, patient):
    reading = actions.do_enter_home_reading(
        patient=patient, session=home, when=VitalsWhen.PRE_DOSE, systolic=130, diastolic=85, heart_rate=75
    )
    assert reading.entered_by == patient and reading.spo2 is None
    with pytest.raises(actions.NotAllowed):  # someone else's session, in the clinic
        actions.do_enter_home_reading(
            patient=patient,
            session=in_clinic,
            when=VitalsWhen.PRE_DOSE,
            systolic=130,
            diastolic=85,
            heart_rate=75,
        )
    with time_machine.travel(home.booking.end + dt.timedelta(hours=2)):  # the visit has closed
        with pytest.raises(actions.NotAllowed):
            actions.do_enter_home_reading(
                patient=patient,
                session=home,
                when=VitalsWhen.OTHER,
                systolic=130,
                diastolic=85,
                heart_rate=75,
            )
    with pytest.raises(actions.RecordError, match="top"):
        actions.do_enter_home_reading(
            patient=patient, session=home, when=VitalsWhen.OTHER, systolic=80, diastolic=85, heart_rate=75
        )
    assert HomeReading.objects.count() == 1


# Permanent like the record ------------------------------------------------------------------


def test_confirmations_and_home_readings_are_append_only_and_closed_by_the_signature(
    home, clinician, patient, nurse
):
    confirmed = actions.do_confirm_supervisor(actor=clinician, session=home, name="Sam Adult")
    reading = actions.do_enter_home_reading(
        patient=patient, session=home, when=VitalsWhen.PRE_DOSE, systolic=130, diastolic=85, heart_rate=75
    )
    for row, change in ((confirmed, {"name": "Someone else"}), (reading, {"systolic": 100})):
        with pytest.raises(DatabaseError), transaction.atomic():
            type(row).objects.filter(pk=row.pk).update(**change)
        with pytest.raises(DatabaseError), transaction.atomic():
            type(row).objects.filter(pk=row.pk).delete()
    signed_session = make_session(
        patient=make_user("p3@example.org", "patient"),
        clinician=clinician,
        staff=nurse,
        nurse=nurse,
        version=home.plan.protocol_version,
        start=timezone.now() - dt.timedelta(days=2),
    )
    record = make_signed_record(signed_session, nurse=nurse)
    with pytest.raises(DatabaseError), transaction.atomic():
        HomeReading.objects.create(
            record=record, when="other", systolic=120, diastolic=80, heart_rate=70,
            entered_by=patient, entered_at=timezone.now(),
        )  # fmt: skip
    with pytest.raises(DatabaseError), transaction.atomic():
        SupervisorConfirmation.objects.create(
            record=record, name="Late", confirmed_by=clinician, confirmed_at=timezone.now()
        )


# Beside the call ----------------------------------------------------------------------------


def test_the_clinicians_call_shows_the_supervision_pane_not_a_consultation_note(home, clinician):
    page = client_for(clinician).get(f"/visits/{home.booking.public_id}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Supervised session at home" in html and "Confirm on camera" in html
    assert "Consultation note" not in html and 'id="note-form"' not in html
    assert not ConsultNote.objects.filter(booking=home.booking).exists()
    assert AuditEvent.objects.filter(
        action=Action.SESSION_RECORD_VIEWED, actor=clinician, reason="supervision pane"
    ).exists()


def test_the_patients_call_shows_their_readings_form_and_no_dose(home, patient, clinician):
    _pre_dose(home, clinician)
    actions.do_confirm_supervisor(actor=clinician, session=home, name="Sam Adult")
    _dose(home, clinician)
    html = client_for(patient).get(f"/visits/{home.booking.public_id}/").content.decode()
    assert "Your supervised session" in html and "Send my reading" in html
    assert " mg" not in html and "60" not in html.split("Your readings", 1)[1]


def test_a_reading_sent_in_place_appears_in_the_clinicians_pane(home, patient, clinician):
    sent = client_for(patient).post(
        f"/me/sessions/{home.public_id}/reading/", {**READING, "spo2": "97"}, HTTP_X_PANE="1"
    )
    assert sent.status_code == 200 and "128/82" in sent.content.decode()
    pane = client_for(clinician).get(f"/care/sessions/{home.public_id}/supervision/")
    assert pane.status_code == 200 and "128/82" in pane.content.decode()
    row = AuditEvent.objects.get(action=Action.SESSION_HOME_READING)
    assert row.actor == patient and row.reason == "pre_dose"


def test_without_javascript_the_forms_go_back_to_the_call_or_the_record(home, patient, clinician):
    call = f"/visits/{home.booking.public_id}/"
    assert client_for(patient).post(f"/me/sessions/{home.public_id}/reading/", READING)["Location"] == call
    doctor = client_for(clinician)
    url = f"/care/sessions/{home.public_id}/supervisor/"
    assert doctor.post(url, {"name": "Sam Adult", "back": "call"})["Location"] == call
    record = doctor.post(url, {"name": "Pat Second", "back": "record"})["Location"]
    assert record == f"/care/sessions/{home.public_id}/"
    assert "Pat Second" in doctor.get(record).content.decode()


def test_bad_readings_and_names_get_a_400_and_change_nothing(home, patient, clinician):
    url = f"/me/sessions/{home.public_id}/reading/"
    client = client_for(patient)
    for bad in (
        {**READING, "systolic": "80"},  # below the bottom number
        {**READING, "systolic": "9999"},
        {**READING, "heart_rate": "abc"},
        {**READING, "when": "later"},
        {**READING, "spo2": "140"},
    ):
        assert client.post(url, bad).status_code == 400
        assert client.post(url, bad, HTTP_X_PANE="1").status_code == 400
    assert (
        client_for(clinician).post(f"/care/sessions/{home.public_id}/supervisor/", {"name": ""}).status_code
        == 400
    )
    assert not HomeReading.objects.exists() and not SupervisorConfirmation.objects.exists()


def test_the_wrong_persona_gets_404_or_403(home, in_clinic, patient, other_patient, clinician, staff, nurse):
    other_doc = make_user("doc2@example.org", "clinician", mfa=True)
    license_user(other_doc, "US-NY", staff)
    reading = f"/me/sessions/{home.public_id}/reading/"
    pane = f"/care/sessions/{home.public_id}/supervision/"
    confirm = f"/care/sessions/{home.public_id}/supervisor/"
    for who in (other_patient, clinician, staff, nurse, other_doc):
        assert client_for(who).post(reading, READING).status_code == 404, who
    for who in (patient, other_patient, staff, other_doc):
        assert client_for(who).get(pane).status_code == 404, who
        assert client_for(who).post(confirm, {"name": "X"}).status_code == 404, who
    assert client_for(nurse).get(pane).status_code == 200  # the session's nurse watches too
    # In the clinic there is nothing to send from home.
    assert (
        client_for(other_patient).post(f"/me/sessions/{in_clinic.public_id}/reading/", READING).status_code
        == 403
    )
    from django.test import Client

    for url in (reading, pane, confirm):
        response = Client().post(url) if url != pane else Client().get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not HomeReading.objects.exists() and not SupervisorConfirmation.objects.exists()


def test_a_session_bookings_appointment_page_is_its_record_never_a_consultation_note(
    home, in_clinic, clinician
):
    client = client_for(clinician)
    for session in (home, in_clinic):
        response = client.get(f"/clinician/appointments/{session.booking.public_id}/")
        assert response.status_code == 302
        assert response["Location"] == f"/care/sessions/{session.public_id}/"
    assert not ConsultNote.objects.filter(booking__in=[home.booking, in_clinic.booking]).exists()
