"""The session record through the site: who records what, the hold rule and the dose range, the
observation clock and the discharge, signing only when complete, and the REMS form."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse

from clinic.audit.models import READ_ACTIONS, Action, AuditEvent
from clinic.care import outcomes
from clinic.care.models import Route, SessionStatus
from clinic.care.models.sessions import AdverseEventKind, SessionRecord, Severity, VitalSigns
from clinic.register.models import Entry
from tests.support.personas import client_for, make_nurse
from tests.support.register import stocked_site
from tests.support.treatment_session import make_session, make_signed_record, protocol_version

pytestmark = pytest.mark.django_db

NORMAL = {"systolic": 124, "diastolic": 78, "heart_rate": 72, "spo2": 98}
CHECK = {"moaas": 5, "cadss_form": "short_6", "cadss_score": 2, "spo2": 97}
CHECKLIST = {
    "alert_oriented": "on",
    "vitals_in_range": "on",
    "escort_present": "on",
    "told_not_to_drive": "on",
}


@pytest.fixture
def session(frozen, clinician, nurse, patient, staff):
    return make_session(patient=patient, clinician=clinician, staff=staff, nurse=nurse)


def url(name, session):
    return reverse(f"care:{name}", args=[session.public_id])


def record(session) -> SessionRecord:
    return SessionRecord.objects.get(session=session)


def raw(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608 (fixed names)
        return cursor.fetchone()[0]


def pass_time(frozen, session, minutes, *clients):
    """Minutes go by with the session page open: it polls, so nobody is signed out for idling."""
    for _ in range(minutes):
        frozen.shift(dt.timedelta(minutes=1))
        if _ % 10 == 9 or _ == minutes - 1:
            for client in clients:
                assert client.get(url("session_status", session)).status_code == 200


def dose(doctor, session, mg="56", **extra):
    return doctor.post(url("session_dose", session), {"dose_mg": mg, "lot_number": "LOT-7731", **extra})


def complete_until_discharge(frozen, session, clinician, nurse):
    """Pre-dose vitals, the dose, the 40-minute reading and checks, up to 120 minutes."""
    doctor, nursing = client_for(clinician), client_for(nurse)
    assert nursing.post(url("session_vitals", session), {"when": "pre_dose", **NORMAL}).status_code == 302
    assert dose(doctor, session).status_code == 302
    pass_time(frozen, session, 40, doctor, nursing)
    assert nursing.post(url("session_vitals", session), {"when": "post_dose", **NORMAL}).status_code == 302
    assert (
        nursing.post(url("session_observation", session), {"when": "post_dose", **CHECK}).status_code == 302
    )
    pass_time(frozen, session, 75, doctor, nursing)
    assert nursing.post(url("session_vitals", session), {"when": "discharge", **NORMAL}).status_code == 302
    assert (
        nursing.post(url("session_observation", session), {"when": "discharge", **CHECK}).status_code == 302
    )
    assert doctor.post(url("session_no_adverse_events", session)).status_code == 302
    return doctor, nursing


def test_a_whole_session_is_recorded_by_the_nurse_and_the_prescriber_and_signed(
    frozen, session, clinician, nurse
):
    doctor, nursing = client_for(clinician), client_for(nurse)
    page = nursing.get(url("session", session))
    assert page.status_code == 200 and "Pre-dose vital signs" in page.content.decode()
    nursing.post(url("session_vitals", session), {"when": "pre_dose", **NORMAL})
    # The nurse records no dose; the prescriber does, and the clock starts.
    assert dose(nursing, session).status_code == 403 and record(session).dose_mg is None
    assert dose(doctor, session).status_code == 302
    r = record(session)
    assert r.dose_mg == Decimal("56") and r.dose_mg_per_kg == Decimal("0.80") and r.dose_in_range
    assert r.route == Route.INTRANASAL_ESKETAMINE and r.dosed_by == clinician
    session.refresh_from_db()
    assert session.status == SessionStatus.IN_PROGRESS
    # The 40-minute reading is asked from minute 40.
    pass_time(frozen, session, 39, doctor, nursing)
    assert nursing.get(url("session_status", session)).json()["post_dose_due"] is False
    pass_time(frozen, session, 1, doctor, nursing)
    status = nursing.get(url("session_status", session)).json()
    assert status["post_dose_due"] is True and status["minutes"] == 40 and status["minimum"] == 120
    page = nursing.get(url("session", session)).content.decode()
    assert "In observation: <strong><span data-clock-minutes>40</span> of 120 minutes</strong>" in page
    # A late reading keeps its real time (typed in the nurse's zone, New York).
    nursing.post(
        url("session_vitals", session), {"when": "post_dose", **NORMAL, "taken_at": "2026-12-01T07:39"}
    )
    late = VitalSigns.objects.get(when="post_dose")
    assert late.taken_at == dt.datetime(2026, 12, 1, 12, 39, tzinfo=dt.UTC)
    nursing.post(url("session_observation", session), {"when": "post_dose", **CHECK})
    pass_time(frozen, session, 79, doctor, nursing)
    nursing.post(url("session_vitals", session), {"when": "discharge", **NORMAL})
    nursing.post(url("session_observation", session), {"when": "discharge", **CHECK})
    # Discharge is refused at 119 minutes, and allowed at 120.
    assert nursing.post(url("session_discharge", session), CHECKLIST).status_code == 409
    assert record(session).discharged_at is None
    pass_time(frozen, session, 1, doctor, nursing)
    # Signing before it is complete is refused with what is missing.
    refused = doctor.post(url("session_sign", session))
    assert refused.status_code == 409 and "Discharge" in refused.content.decode()
    assert nursing.post(url("session_discharge", session), CHECKLIST).status_code == 302
    r = record(session)
    assert r.observation_minutes == 120 and r.discharged_by == nurse
    assert nursing.get(url("session_status", session)).json()["missing"] == ["Adverse events (or none)"]
    # The nurse cannot sign, nor say there were no adverse events.
    assert nursing.post(url("session_no_adverse_events", session)).status_code == 403
    doctor.post(url("session_no_adverse_events", session))
    assert nursing.post(url("session_sign", session)).status_code == 403
    assert doctor.post(url("session_sign", session)).status_code == 302
    r = record(session)
    assert r.is_signed and r.signed_by == clinician
    session.refresh_from_db()
    assert session.status == SessionStatus.DONE
    # Signed: nothing more is recorded; corrections are addenda, by the prescriber.
    assert nursing.post(url("session_vitals", session), {"when": "other", **NORMAL}).status_code == 409
    assert doctor.post(url("session_addendum", session), {"text": "Lot re-checked: 7731"}).status_code == 302
    assert "Lot re-checked: 7731" in doctor.get(url("session", session)).content.decode()
    assert AuditEvent.objects.filter(action=Action.SESSION_SIGNED, actor=clinician).count() == 1


def test_a_reading_above_the_limit_holds_the_dose_until_the_prescriber_writes_why(
    frozen, session, clinician, nurse
):
    doctor = client_for(clinician)
    client_for(nurse).post(url("session_vitals", session), {"when": "pre_dose", **NORMAL, "systolic": 141})
    page = doctor.get(url("session", session)).content.decode()
    assert "Systolic 141 is above 140" in page
    refused = dose(doctor, session)
    assert refused.status_code == 409 and "write why the dose is given" in refused.content.decode()
    assert record(session).dosed_at is None
    assert dose(doctor, session, hold_reason="Repeat 138/88 after rest; discussed").status_code == 302
    r = record(session)
    assert r.hold_reason == "Repeat 138/88 after rest; discussed"
    stored = raw("care_sessionrecord", "hold_reason", r.pk)
    assert stored.startswith("gAAAA") and "rest" not in stored
    assert not AuditEvent.objects.filter(reason__contains="rest").exists()


def test_140_over_90_itself_does_not_hold_the_dose(frozen, session, clinician, nurse):
    client_for(nurse).post(
        url("session_vitals", session), {"when": "pre_dose", **NORMAL, "systolic": 140, "diastolic": 90}
    )
    assert dose(client_for(clinician), session).status_code == 302


def test_a_dose_outside_the_range_needs_a_reason_and_is_flagged(frozen, session, clinician, nurse):
    doctor = client_for(clinician)
    client_for(nurse).post(url("session_vitals", session), {"when": "pre_dose", **NORMAL})
    refused = dose(doctor, session, mg="85")
    assert refused.status_code == 409 and "outside the protocol" in refused.content.decode()
    assert dose(doctor, session, mg="85", dose_reason="Titration agreed").status_code == 302
    r = record(session)
    assert r.dose_in_range is False and r.dose_reason == "Titration agreed"
    assert "Outside the protocol's range" in doctor.get(url("session", session)).content.decode()


def test_a_range_in_mg_per_kg_is_checked_against_the_plans_weight(frozen, clinician, nurse, patient, staff):
    version = protocol_version(
        staff,
        clinician,
        Route.IV_KETAMINE,
        dose_unit="mg_per_kg",
        dose_min=Decimal("0.5"),
        dose_max=Decimal("0.75"),
        observation_minutes=60,
    )
    session = make_session(
        patient=patient,
        clinician=clinician,
        staff=staff,
        nurse=nurse,
        version=version,
        weight_kg=Decimal("80"),
    )
    client_for(nurse).post(url("session_vitals", session), {"when": "pre_dose", **NORMAL})
    assert dose(client_for(clinician), session, mg="61").status_code == 409  # 0.7625 mg/kg
    assert dose(client_for(clinician), session, mg="60").status_code == 302  # 0.75 mg/kg
    assert record(session).dose_mg_per_kg == Decimal("0.75")


def test_bad_input_is_a_400_with_a_message_and_changes_nothing(frozen, session, nurse):
    nursing = client_for(nurse)
    response = nursing.post(url("session_vitals", session), {"when": "pre_dose", **NORMAL, "spo2": "101"})
    assert response.status_code == 400 and "Some answers are not valid" in response.content.decode()
    response = nursing.post(url("session_vitals", session), {"when": "pre_dose", **NORMAL, "diastolic": 130})
    assert response.status_code == 400
    response = nursing.post(
        url("session_vitals", session), {"when": "pre_dose", **NORMAL, "taken_at": "2027-01-01T09:00"}
    )
    assert response.status_code == 409 and "still to come" in response.content.decode()
    assert not VitalSigns.objects.exists()


def test_adverse_events_are_recorded_with_their_kind_severity_and_outcome(frozen, session, clinician, nurse):
    doctor, nursing = complete_until_discharge(frozen, session, clinician, nurse)
    # Already said "none": an event recorded afterwards undoes that.
    event = {
        "kind": "nausea_vomiting",
        "severity": "mild",
        "serious": "no",
        "action_taken": "Antiemetic offered",
        "outcome": "Resolved",
    }
    assert nursing.post(url("session_adverse_event", session), event).status_code == 302
    r = record(session)
    assert not r.no_adverse_events and r.adverse_events.get().outcome == "Resolved"
    page = doctor.get(url("session", session)).content.decode()
    assert "Nausea or vomiting" in page and "Antiemetic offered" in page
    assert doctor.post(url("session_no_adverse_events", session)).status_code == 409


def test_the_adverse_event_kinds_and_severities_are_the_outcomes_registrys():
    assert set(AdverseEventKind.values) <= set(outcomes.AE_KINDS)
    assert set(Severity.values) == set(outcomes.SEVERITIES)


# Who sees a session --------------------------------------------------------------------------

PAGES = ("session", "session_status")
WRITES = (
    "session_vitals",
    "session_observation",
    "session_dose",
    "session_adverse_event",
    "session_no_adverse_events",
    "session_discharge",
    "session_sign",
    "session_addendum",
)


def test_nobody_else_reaches_the_session(frozen, session, patient, other_patient, clinician_elsewhere, staff):
    other_nurse = make_nurse(staff, email="nurse2@example.org")
    before = AuditEvent.objects.filter(action__in=READ_ACTIONS).count()
    for person in (patient, other_patient, clinician_elsewhere, staff, other_nurse, None):
        client = client_for(person)
        for name in PAGES:
            code = client.get(url(name, session)).status_code
            assert code in (302, 403, 404), (person, name, code)
            if person is not None:
                assert code in (403, 404), (person, name, code)
        for name in WRITES:
            code = client.post(url(name, session), {"when": "pre_dose", **NORMAL}).status_code
            assert code in ((302,) if person is None else (403, 404)), (person, name, code)
    assert not SessionRecord.objects.exists()
    assert AuditEvent.objects.filter(action__in=READ_ACTIONS).count() == before


def test_reading_the_session_page_is_audited(frozen, session, nurse):
    client_for(nurse).get(url("session", session), HTTP_X_REQUEST_ID="s1")
    row = AuditEvent.objects.get(request_id="s1")
    assert row.action == Action.SESSION_RECORD_VIEWED and row.patient == session.plan.patient
    assert row.reason == "nurse"


# The REMS monitoring form --------------------------------------------------------------------


def test_the_rems_form_is_filled_from_the_record_and_staff_mark_it_submitted(
    frozen, session, clinician, nurse, staff
):
    doctor, nursing = complete_until_discharge(frozen, session, clinician, nurse)
    pass_time(frozen, session, 5, doctor, nursing)
    nursing.post(url("session_discharge", session), CHECKLIST)
    assert client_for(staff).get(url("rems_form", session)).status_code == 404  # not signed yet
    doctor.post(url("session_sign", session))
    page = doctor.get(url("session", session)).content.decode()
    assert "REMS monitoring form: <strong>due in 7 days</strong>" in page
    form = client_for(staff).get(url("rems_form", session), HTTP_X_REQUEST_ID="r1")
    text = form.content.decode()
    assert form.status_code == 200 and "LOT-7731" in text and "56 mg" in text and "120 minutes" in text
    assert AuditEvent.objects.get(request_id="r1").action == Action.REMS_FORM_VIEWED
    assert "Due in 7 days" in client_for(staff).get(reverse("care:rems_due")).content.decode()
    # Only staff mark it; the nurse never sees it.
    assert doctor.post(url("rems_submitted", session)).status_code == 403
    assert nursing.get(url("rems_form", session)).status_code == 404
    frozen.shift(dt.timedelta(days=2))
    doctor = client_for(clinician)
    assert "due in 5 days" in doctor.get(url("session", session)).content.decode()
    client_for(staff).post(url("rems_submitted", session))
    page = doctor.get(url("session", session)).content.decode()
    assert "submitted by Sam Staff on" in page
    assert AuditEvent.objects.filter(action=Action.REMS_SUBMITTED, actor=staff).count() == 1


def test_a_session_that_is_not_esketamine_has_no_rems_form(frozen, clinician, nurse, patient, staff):
    version = protocol_version(staff, clinician, Route.IM_KETAMINE, observation_minutes=120)
    session = make_session(patient=patient, clinician=clinician, staff=staff, nurse=nurse, version=version)
    doctor, nursing = complete_until_discharge(frozen, session, clinician, nurse)
    pass_time(frozen, session, 5, doctor, nursing)
    nursing.post(url("session_discharge", session), CHECKLIST)
    assert doctor.post(url("session_sign", session)).status_code == 302
    assert client_for(staff).get(url("rems_form", session)).status_code == 404
    assert "REMS" not in doctor.get(url("session", session)).content.decode()


# The controlled-substance register ------------------------------------------------------------


def test_signing_writes_the_administration_to_the_lots_register(frozen, session, clinician, nurse, staff):
    site, lot = stocked_site(staff, quantity="500")
    doctor, nursing = client_for(clinician), client_for(nurse)
    nursing.post(url("session_vitals", session), {"when": "pre_dose", **NORMAL})
    # With a register the lot is chosen from it, never typed.
    assert dose(doctor, session).status_code == 400
    assert (
        doctor.post(url("session_dose", session), {"dose_mg": "56", "register_lot": lot.pk}).status_code
        == 302
    )
    assert record(session).lot_number == lot.lot_number
    pass_time(frozen, session, 40, doctor, nursing)
    nursing.post(url("session_vitals", session), {"when": "post_dose", **NORMAL})
    nursing.post(url("session_observation", session), {"when": "post_dose", **CHECK})
    pass_time(frozen, session, 80, doctor, nursing)
    nursing.post(url("session_vitals", session), {"when": "discharge", **NORMAL})
    nursing.post(url("session_observation", session), {"when": "discharge", **CHECK})
    nursing.post(url("session_discharge", session), CHECKLIST)
    doctor.post(url("session_no_adverse_events", session))
    assert not Entry.objects.filter(session_ref=session.public_id).exists()
    assert doctor.post(url("session_sign", session)).status_code == 302
    entry = Entry.objects.get(session_ref=session.public_id)
    assert entry.lot == lot and entry.change_mg == Decimal("-56") and entry.balance_mg == Decimal("444")
    assert entry.patient == session.plan.patient and entry.recorded_by == clinician


def test_a_dose_the_register_refuses_refuses_the_signature(frozen, session, clinician, nurse, staff):
    site, lot = stocked_site(staff, quantity="50")
    doctor, nursing = client_for(clinician), client_for(nurse)
    nursing.post(url("session_vitals", session), {"when": "pre_dose", **NORMAL})
    doctor.post(url("session_dose", session), {"dose_mg": "56", "register_lot": lot.pk})
    pass_time(frozen, session, 40, doctor, nursing)
    nursing.post(url("session_vitals", session), {"when": "post_dose", **NORMAL})
    nursing.post(url("session_observation", session), {"when": "post_dose", **CHECK})
    pass_time(frozen, session, 80, doctor, nursing)
    nursing.post(url("session_vitals", session), {"when": "discharge", **NORMAL})
    nursing.post(url("session_observation", session), {"when": "discharge", **CHECK})
    nursing.post(url("session_discharge", session), CHECKLIST)
    doctor.post(url("session_no_adverse_events", session))
    refused = doctor.post(url("session_sign", session))
    assert refused.status_code == 409 and "The register refused the dose" in refused.content.decode()
    assert not record(session).is_signed
    assert not Entry.objects.filter(session_ref=session.public_id).exists()


# The day views -------------------------------------------------------------------------------


def test_the_day_views_show_who_is_in_observation_and_for_how_long(frozen, session, clinician, nurse, staff):
    doctor, nursing = client_for(clinician), client_for(nurse)
    nursing.post(url("session_vitals", session), {"when": "pre_dose", **NORMAL})
    assert "Not dosed yet" in nursing.get(reverse("portal:nurse_home")).content.decode()
    dose(doctor, session)
    pass_time(frozen, session, 43, doctor, nursing)
    line = "In observation: 43 of 120 minutes"
    assert line in doctor.get(reverse("portal:clinician_home")).content.decode()
    page = nursing.get(reverse("portal:nurse_home"), HTTP_X_REQUEST_ID="n1").content.decode()
    assert line in page and "Pat Patient" in page
    assert AuditEvent.objects.get(request_id="n1").patients == [str(session.plan.patient.public_id)]
    day = client_for(staff).get(reverse("scheduling:day"), {"date": "2026-12-01"}).content.decode()
    assert line in day
    # Another nurse's day lists nobody.
    other = make_nurse(staff, email="nurse3@example.org")
    assert "Pat Patient" not in client_for(other).get(reverse("portal:nurse_home")).content.decode()


# The course page shows what each record holds --------------------------------------------------


def test_the_course_page_shows_each_records_reading_dose_adverse_events_and_the_rems_form_due(
    frozen, session, clinician, nurse, patient, staff
):
    course = reverse("care:course", args=[patient.public_id])
    before = client_for(clinician).get(course).content.decode()
    assert "None recorded in this course." in before and "REMS monitoring forms" not in before
    make_signed_record(
        session,
        nurse=nurse,
        adverse_events=({"kind": "nausea_vomiting", "severity": "moderate", "serious": False},),
    )
    response = client_for(clinician).get(course, HTTP_X_REQUEST_ID="courserecords")
    text = re.sub(r"\s+", " ", response.content.decode())
    assert response.status_code == 200
    assert "BP 122/80 · HR 70 · SpO₂ 98%" in text  # the pre-dose reading, not a later one
    assert "Dose 56 mg (0.8 mg/kg)" in text and "outside the protocol" not in text
    assert "1 adverse event" in text and "Nausea or vomiting" in text and "Moderate" in text
    assert "REMS monitoring forms" in text and "due by" in text
    # Still one read, audited once, for the whole page.
    assert AuditEvent.objects.filter(request_id="courserecords").count() == 1
    # A nurse reads no course page.
    assert client_for(make_nurse(staff, email="n2@example.org")).get(course).status_code == 403
