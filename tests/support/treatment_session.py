"""A treatment session ready to be recorded, built straight in the database (the plan's own pages
are tested where they are built): an approved esketamine protocol version, an active plan from
a signed consultation, a booking with the prescriber and a session with a nurse."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from django.utils import timezone

from clinic.accounts.models import User
from clinic.care.models import (
    DoseUnit,
    Protocol,
    ProtocolVersion,
    Route,
    SessionPhase,
    TreatmentPlan,
    TreatmentSession,
)
from clinic.care.models.sessions import CHECKLIST, AdverseEvent, Observation, SessionRecord, VitalSigns
from clinic.scheduling.availability import schedule_changed
from clinic.scheduling.models import AppointmentKind, AppointmentType, Booking
from clinic.visits.models import ConsultNote

# Esketamine as INSTRUMENTS.md gives it: 56 or 84 mg, at least 2 hours' observation, hold above
# 140/90 (the protocol's defaults).
ESKETAMINE = {
    "dose_unit": DoseUnit.MG,
    "dose_min": Decimal("56"),
    "dose_max": Decimal("84"),
    "observation_minutes": 120,
}


def protocol_version(
    staff: User, clinician: User, route: str = Route.INTRANASAL_ESKETAMINE, **fields
) -> ProtocolVersion:
    now = timezone.now()
    protocol = Protocol.objects.create(
        name=f"Protocol {route}", route=route, created_by=staff, created_at=now
    )
    values = {
        **ESKETAMINE,
        "induction_sessions": 8,
        "induction_weeks": 4,
        **fields,
    }
    return ProtocolVersion.objects.create(
        protocol=protocol,
        number=1,
        route=route,
        created_by=staff,
        created_at=now,
        approved_by=clinician,
        approved_at=now,
        **values,
    )


def _booking(patient: User, clinician: User, start: dt.datetime, kind: str, minutes: int) -> Booking:
    appointment_type, _ = AppointmentType.objects.get_or_create(
        kind=kind,
        defaults={"name": "Treatment session", "duration_minutes": minutes, "patient_bookable": False},
    )
    token = uuid.uuid4().hex
    booking = Booking.objects.create(
        patient=patient,
        clinician=clinician,
        appointment_type=appointment_type,
        start=start,
        end=start + dt.timedelta(minutes=minutes),
        blocked_start=start,
        blocked_end=start + dt.timedelta(minutes=minutes),
        jurisdiction="US-NY",
        patient_time_zone="America/New_York",
        created_at=timezone.now(),
        idempotency_key=token,
        manage_token_hash=token,
        ics_uid=f"{token}@test",
    )
    schedule_changed([clinician])  # written past the actions: the free times must hear of it
    return booking


def make_session(
    *,
    patient: User,
    clinician: User,
    staff: User,
    nurse: User | None = None,
    version: ProtocolVersion | None = None,
    weight_kg: Decimal = Decimal("70"),
    start: dt.datetime | None = None,
) -> TreatmentSession:
    """Session 1 of an active plan, booked with ``clinician`` from ``start`` (default: now)."""
    start = start or timezone.now()
    version = version or protocol_version(staff, clinician)
    consult = _booking(patient, clinician, start - dt.timedelta(days=7), AppointmentKind.CONSULTATION, 20)
    note = ConsultNote.objects.create(
        booking=consult,
        author=clinician,
        patient=patient,
        decision="suitable",
        created_at=start - dt.timedelta(days=7),
        updated_at=start - dt.timedelta(days=7),
        signed_at=start - dt.timedelta(days=7),
    )
    plan = TreatmentPlan.objects.create(
        patient=patient,
        clinician=clinician,
        consult_note=note,
        protocol_version=version,
        status="active",
        jurisdiction="US-NY",
        indication="Treatment-resistant depression",
        baseline_phq9=18,
        baseline_gad7=12,
        baseline_source="fresh",
        weight_kg=weight_kg,
        systolic=124,
        diastolic=80,
        consent_version="1",
        created_at=start - dt.timedelta(days=6),
        activated_at=start - dt.timedelta(days=5),
    )
    kind = AppointmentKind.SESSION_HOME if version.at_home else AppointmentKind.SESSION_CLINIC
    booking = _booking(patient, clinician, start, kind, 150)
    return TreatmentSession.objects.create(
        plan=plan,
        booking=booking,
        number=1,
        phase=SessionPhase.INDUCTION,
        nurse=nurse,
        created_at=timezone.now(),
    )


def make_signed_record(
    session: TreatmentSession, *, nurse: User, adverse_events: tuple[dict, ...] = ()
) -> SessionRecord:
    """A complete, signed record of ``session`` that ended an hour ago, written straight in the
    database (the rows first, the signature last, as the triggers require); ``adverse_events``
    are AdverseEvent fields (kind, severity, serious) noted 30 minutes after the dose."""
    clinician = session.booking.clinician if session.booking else session.plan.clinician
    dosed = timezone.now() - dt.timedelta(hours=3)
    record = SessionRecord.objects.create(
        session=session,
        dose_mg=Decimal("56"),
        dose_mg_per_kg=Decimal("0.80"),
        dose_in_range=True,
        lot_number="LOT-1",
        route=session.plan.protocol_version.route,
        dosed_at=dosed,
        dosed_by=clinician,
        no_adverse_events=not adverse_events,
        discharged_at=dosed + dt.timedelta(minutes=125),
        discharged_by=nurse,
        observation_minutes=125,
        **{name: True for name, _ in CHECKLIST},
        created_at=dosed,
        updated_at=dosed,
    )
    readings = {"systolic": 122, "diastolic": 80, "heart_rate": 70, "spo2": 98, "recorded_by": nurse}
    for when, minutes in (("pre_dose", -10), ("post_dose", 40), ("discharge", 120)):
        at = dosed + dt.timedelta(minutes=minutes)
        VitalSigns.objects.create(record=record, when=when, taken_at=at, recorded_at=at, **readings)
    for when, minutes in (("post_dose", 40), ("discharge", 120)):
        at = dosed + dt.timedelta(minutes=minutes)
        check = {"moaas": 5, "cadss_form": "short_6", "cadss_score": 1, "spo2": 98, "recorded_by": nurse}
        Observation.objects.create(record=record, when=when, taken_at=at, recorded_at=at, **check)
    for event in adverse_events:
        at = dosed + dt.timedelta(minutes=30)
        AdverseEvent.objects.create(
            record=record, noted_at=at, recorded_at=at, recorded_by=nurse,
            action_taken="Observed; settled by itself.", outcome="Resolved.", **event,
        )  # fmt: skip
    SessionRecord.objects.filter(pk=record.pk).update(
        signed_at=dosed + dt.timedelta(minutes=130), signed_by=clinician
    )
    record.refresh_from_db()
    return record


def attend(session: TreatmentSession, *, nurse: User, start: dt.datetime | None = None) -> TreatmentSession:
    """Give a planned session (e.g. the story's) a booking with its plan's clinician and a nurse."""
    plan = session.plan
    booking = _booking(
        plan.patient, plan.clinician, start or timezone.now(), AppointmentKind.SESSION_CLINIC, 150
    )
    TreatmentSession.objects.filter(pk=session.pk).update(booking=booking, nurse=nurse)
    session.refresh_from_db()
    return session
