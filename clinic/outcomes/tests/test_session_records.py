"""The session record in the registry and in the FHIR export: vital signs with their LOINC codes,
the dose, adverse events; held for blood pressure and doses outside the range counted."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from clinic.care import fhir
from clinic.care.models import AdverseEvent, SessionRecord, TreatmentSession, VitalSigns, VitalsWhen
from clinic.outcomes import demo
from clinic.outcomes.extract import collect_courses
from clinic.outcomes.fhir_export import export_bundle

pytestmark = pytest.mark.django_db


def record(
    session: TreatmentSession, nurse, *, systolic: int, dosed: bool, in_range: bool = True
) -> SessionRecord:
    assert session.booking is not None
    start = session.booking.start
    row = SessionRecord.objects.create(
        session=session,
        dose_mg=Decimal("35.00") if dosed else None,
        dose_in_range=in_range if dosed else None,
        dosed_at=start + dt.timedelta(minutes=10) if dosed else None,
        created_at=start,
        updated_at=start,
    )
    VitalSigns.objects.create(
        record=row,
        when=VitalsWhen.PRE_DOSE,
        taken_at=start,
        systolic=systolic,
        diastolic=82,
        heart_rate=76,
        spo2=98,
        recorded_by=nurse,
        recorded_at=start,
    )
    return row


def test_session_records_reach_the_registry_and_the_fhir_export(clinician):
    demo.create_cohort(1)
    first, second, third = TreatmentSession.objects.select_related("booking", "plan__patient")[:3]
    dosed = record(first, clinician, systolic=128, dosed=True)
    record(second, clinician, systolic=172, dosed=False)  # held back for blood pressure
    record(third, clinician, systolic=130, dosed=True, in_range=False)
    AdverseEvent.objects.create(
        record=dosed,
        kind="dissociation",
        severity="moderate",
        serious=False,
        action_taken="Typed by the nurse",
        outcome="Resolved",
        noted_at=first.booking.start + dt.timedelta(minutes=30),
        recorded_by=clinician,
        recorded_at=first.booking.start + dt.timedelta(minutes=31),
    )
    (course,) = collect_courses(timezone.now().date())
    by_day = {s.day: s for s in course.sessions}
    assert sum(s.held_for_bp for s in course.sessions) == 1
    assert sum(s.dose_outside_range for s in course.sessions) == 1
    events = [e for s in by_day.values() for e in s.adverse_events]
    assert [(e.kind, e.severity, e.serious) for e in events] == [("dissociation", "moderate", False)]

    bundle = export_bundle(first.plan.patient)
    fhir.validate_bundle(bundle)
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds.count("MedicationAdministration") == 2 and kinds.count("AdverseEvent") == 1
    codes = {
        o["code"]["coding"][0]["code"]: o
        for o in (e["resource"] for e in bundle["entry"])
        if o["resourceType"] == "Observation"
    }
    assert {"85354-9", "8867-4", "59408-5"} <= set(codes)
    components = {
        c["code"]["coding"][0]["code"]: c["valueQuantity"]["value"] for c in codes["85354-9"]["component"]
    }
    assert set(components) == {"8480-6", "8462-4"}
    assert "Typed by the nurse" not in str(bundle)
    (event,) = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "AdverseEvent"]
    assert event["suspectEntity"][0]["instance"]["reference"] == f"urn:uuid:{dosed.public_id}"
