"""Neighbours of the course's tested paths: the prescriber's licence checked again when the dose
is recorded, and the prescribing record's pharmacy (saved, shown on the course page, encrypted)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.urls import reverse

from clinic.audit.models import Action, AuditEvent
from clinic.care.models import TreatmentPlan
from clinic.care.models.sessions import SessionRecord
from clinic.scheduling import actions as scheduling_actions
from tests.support import care
from tests.support.personas import client_for, license_user
from tests.support.treatment_session import make_session

pytestmark = pytest.mark.django_db

NORMAL = {"systolic": 124, "diastolic": 78, "heart_rate": 72, "spo2": 98}
NO_LICENCE = "You hold no verified licence where this patient is being treated."


@pytest.fixture
def session(frozen, clinician, nurse, patient, staff):
    return make_session(patient=patient, clinician=clinician, staff=staff, nurse=nurse)


def url(name, session):
    return reverse(f"care:{name}", args=[session.public_id])


def raw(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608 (fixed names)
        return cursor.fetchone()[0]


# The licence, again at the dose -------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "allowed"),
    [
        # Staff withdraw the verification after the session was booked.
        (lambda today: {"expires_on": today + dt.timedelta(days=365), "verified": False}, False),
        # It expired yesterday (New York): the session today is not covered.
        (lambda today: {"expires_on": today - dt.timedelta(days=1), "verified": True}, False),
        # It ends at the end of today in New York: this afternoon's session is still covered.
        (lambda today: {"expires_on": today, "verified": True}, True),
    ],
    ids=["withdrawn", "expired", "ends-tonight"],
)
def test_the_licence_is_checked_again_when_the_dose_is_recorded(
    frozen, session, clinician, nurse, staff, change, allowed
):
    # A valid licence elsewhere does not stand in for the one where the patient is treated.
    license_user(clinician, "US-CA", staff)
    client_for(nurse).post(url("session_vitals", session), {"when": "pre_dose", **NORMAL})
    licence = clinician.licences.get(jurisdiction=session.plan.jurisdiction)
    today = dt.date(2026, 12, 1)  # NOW is 07:00 in New York
    scheduling_actions.do_change_licence(actor=staff, licence=licence, **change(today))
    before = SessionRecord.objects.get(session=session).updated_at
    frozen.shift(dt.timedelta(minutes=5))
    doctor = client_for(clinician)
    response = doctor.post(url("session_dose", session), {"dose_mg": "56", "lot_number": "LOT-7731"})
    record = SessionRecord.objects.get(session=session)
    if allowed:
        assert response.status_code == 302
        assert record.dose_mg == 56 and record.dosed_by == clinician
        assert "In observation" in doctor.get(url("session", session)).content.decode()
        return
    assert response.status_code == 409
    assert NO_LICENCE in response.content.decode()
    # Nothing is written: no dose, no lot, no dose time, the row untouched, no "dosed" audit row,
    # and the observation clock has not started.
    assert (record.dose_mg, record.lot_number, record.dosed_at, record.dosed_by) == (None, "", None, None)
    assert record.updated_at == before
    assert not AuditEvent.objects.filter(action=Action.SESSION_DOSED).exists()
    page = doctor.get(url("session", session)).content.decode()
    assert "In observation" not in page


# The pharmacy on the prescribing record ------------------------------------------------------

PHARMACY = "Hudson Street Pharmacy\n41 Hudson St, Albany NY"


def start_through_the_page(clinician, patient, staff, **extra):
    version = care.approved_version(staff, clinician)
    note = care.signed_note(patient, clinician)
    response = client_for(clinician).post(
        reverse("care:plan_start", args=[note.booking.public_id]),
        {
            "version": str(version.public_id),
            "indication": "Depression without response to two medicines",
            "baseline_source": "fresh",
            "baseline_phq9": "17",
            "baseline_gad7": "9",
            "weight_kg": "81.5",
            "systolic": "128",
            "diastolic": "82",
            "identity_method": "photo_id",
            **extra,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return TreatmentPlan.objects.get(patient=patient)


def test_the_pharmacy_is_saved_shown_on_the_course_page_and_encrypted_at_rest(
    frozen, staff, clinician, patient
):
    plan = start_through_the_page(clinician, patient, staff, pharmacy=f"  {PHARMACY}  ")
    assert plan.pharmacy == PHARMACY
    stored = raw("care_treatmentplan", "pharmacy", plan.pk)
    assert stored.startswith("gAAAA") and "Hudson" not in stored and "Albany" not in stored
    page = client_for(clinician).get(reverse("care:course", args=[patient.public_id]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "<dt>Pharmacy</dt><dd>Hudson Street Pharmacy<br>41 Hudson St, Albany NY</dd>" in text
    assert not AuditEvent.objects.filter(reason__contains="Hudson").exists()


def test_without_a_pharmacy_the_course_page_shows_none(frozen, staff, clinician, patient):
    plan = start_through_the_page(clinician, patient, staff)
    assert plan.pharmacy == ""
    text = client_for(clinician).get(reverse("care:course", args=[patient.public_id])).content.decode()
    assert "<dt>Pharmacy</dt>" not in text and "Identity verified by" in text
