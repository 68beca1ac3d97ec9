"""Demo data for the treatment course: a protocol per route and one patient mid-course (a signed
consultation, a plan, its past sessions done with signed records, and two booked). Idempotent;
called by ``seed_demo``.

The numbers come from the clinic's sources (INSTRUMENTS.md, EVIDENCE.md): esketamine 56 or 84 mg
with at least 120 minutes of observation; IV ketamine 0.5 mg/kg (the research regimen);
subcutaneous 0.5-0.9 mg/kg twice weekly for 4 weeks (the KADS trial). Every route is observed for
the esketamine standard of 120 minutes. The sources give no intramuscular or oral dose: those two
demo protocols stay unapproved drafts, with the nearest published range as a placeholder a
clinician must replace, and their routes stay off."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils import timezone

from clinic.accounts.models import User
from clinic.care import actions
from clinic.care.models import LegalBasisKind, Protocol, Route, SessionStatus, TreatmentPlan, TreatmentSession
from clinic.care.models.sessions import (
    CHECKLIST,
    AdverseEvent,
    Observation,
    RemsSubmission,
    SessionRecord,
    VitalSigns,
)
from clinic.measures.demo import WEEKS, give_measures
from clinic.scheduling import availability
from clinic.scheduling.models import AppointmentKind, AppointmentType, Booking, BookingStatus
from clinic.visits.models import ConsultNote

PROTOCOLS = [
    # (name, route, approved, induction sessions, weeks, unit, min, max)
    ("Esketamine nasal spray", Route.INTRANASAL_ESKETAMINE, True, 8, 4, "mg", "56", "84"),
    ("IV ketamine infusion", Route.IV_KETAMINE, True, 6, 3, "mg_per_kg", "0.5", "0.5"),
    ("Subcutaneous ketamine", Route.SUBCUTANEOUS_KETAMINE, True, 8, 4, "mg_per_kg", "0.5", "0.9"),
    (
        "Intramuscular ketamine (draft: set the dose)",
        Route.IM_KETAMINE,
        False,
        8,
        4,
        "mg_per_kg",
        "0.5",
        "0.9",
    ),
    (
        "Oral ketamine at home (draft: set the dose)",
        Route.ORAL_KETAMINE,
        False,
        8,
        4,
        "mg_per_kg",
        "0.5",
        "0.5",
    ),
]


def seed_care(*, staff: User, clinician: User, patient: User) -> None:
    if Protocol.objects.exists():
        return
    versions = {}
    for name, route, approved, count, weeks, unit, low, high in PROTOCOLS:
        if approved:
            actions.do_set_route_enabled(actor=staff, route=route, enabled=True)
        version = actions.do_create_protocol_version(
            actor=staff,
            name=name,
            route=route,
            induction_sessions=count,
            induction_weeks=weeks,
            induction_min_days_between=2,
            dose_unit=unit,
            dose_min=Decimal(low),
            dose_max=Decimal(high),
            observation_minutes=120,
            checkins=["symptoms", "medicines"],
        )
        if approved:
            version = actions.do_approve_protocol(actor=clinician, version=version)
        versions[route] = version
    flexibilities = actions.do_create_legal_basis_rule(
        actor=staff,
        name="DEA telemedicine flexibilities",
        kind=LegalBasisKind.TELEMEDICINE_FLEXIBILITIES,
        in_force_from=None,
        in_force_until=dt.date(2026, 12, 31),
    )
    actions.do_create_legal_basis_rule(
        actor=staff, name="In-person medical evaluation", kind=LegalBasisKind.IN_PERSON_EVALUATION,
        in_force_from=None, in_force_until=None,
    )  # fmt: skip
    if TreatmentPlan.objects.filter(patient=patient).exists():
        return
    now = timezone.now()
    # The course began eleven weeks ago: the measures' demo weeks (``give_measures``) are its own.
    today = now.astimezone(ZoneInfo(patient.time_zone)).date()
    start = today - dt.timedelta(weeks=len(WEEKS))
    done_days = [start + dt.timedelta(days=d) for d in (0, 3, 7, 10, 14, 17, 21, 24)]
    consult = _past_booking(
        patient, clinician, AppointmentKind.CONSULTATION, now - dt.timedelta(weeks=len(WEEKS), days=10)
    )
    note = ConsultNote.objects.create(
        booking=consult,
        author=clinician,
        patient=patient,
        reason="Low mood for two years; two antidepressants without enough benefit",
        plan="Treatment assessment for esketamine",
        decision="suitable",
        created_at=consult.start,
        updated_at=consult.start,
        signed_at=consult.end,
    )
    plan = actions.do_start_plan(
        actor=clinician,
        note=note,
        version=versions[Route.INTRANASAL_ESKETAMINE],
        indication="Treatment-resistant major depressive disorder",
        baseline_source="fresh",
        baseline_phq9=19,
        baseline_gad7=12,
        weight_kg=Decimal("72.0"),
        systolic=126,
        diastolic=80,
        identity_method="photo_id",
    )
    actions.do_sign_treatment_consent(
        patient=patient, plan=plan, typed_name=patient.display_name, version=plan.consent_version
    )
    actions.do_record_legal_basis(actor=clinician, plan=plan, rule=flexibilities)
    actions.do_record_pdmp_check(
        actor=clinician,
        plan=plan,
        state=plan.jurisdiction,
        checked_at=now - dt.timedelta(days=20),
        result_summary="No other controlled-substance prescriptions in the past 12 months",
        attested=True,
    )
    sessions = list(plan.sessions.order_by("number"))
    done = sessions[: max(0, min(len(done_days), len(sessions) - 2))]
    for session, day in zip(done, done_days, strict=False):
        moment = dt.datetime.combine(day, dt.time(10), tzinfo=ZoneInfo(patient.time_zone))
        booking = _past_booking(patient, clinician, AppointmentKind.SESSION_CLINIC, moment)
        # Past sessions are history: written as they ended, not booked now.
        type(session).objects.filter(pk=session.pk).update(booking=booking, status=SessionStatus.DONE)
        _signed_record(session, booking.start, clinician, staff, plan.weight_kg)
    actions.follow_with_checkins(plan, actor=None, via=None)  # the check-ins learn the sessions' days
    give_measures(
        patient,
        clinician=clinician,
        course_ref=plan.public_id,
        sessions=done_days[: len(done)],
        zone=patient.time_zone,
    )
    _book_upcoming(clinician, sessions[len(done) : len(done) + 2], now)


def _signed_record(
    session: TreatmentSession, start: dt.datetime, clinician: User, staff: User, weight: Decimal
) -> None:
    """A past session's signed record, written as history (its rows, then the signature, as the
    triggers require): the readings, 56 mg, the observation and discharge; the second session
    had a mild, transient nausea; staff sent its REMS form two days later. The demo's doses are
    not lines of a register."""
    dosed = start + dt.timedelta(minutes=15)
    per_kg = (Decimal("56") / weight).quantize(Decimal("0.01"))
    record = SessionRecord.objects.create(
        session=session, dose_mg=Decimal("56"), dose_mg_per_kg=per_kg,
        dose_in_range=True, lot_number="DEMO-LOT-1", route=session.plan.protocol_version.route,
        dosed_at=dosed, dosed_by=clinician, no_adverse_events=session.number != 2,
        discharged_at=dosed + dt.timedelta(minutes=125), discharged_by=clinician, observation_minutes=125,
        **{name: True for name, _ in CHECKLIST}, created_at=dosed, updated_at=dosed,
    )  # fmt: skip
    pressures = {"pre_dose": (124, 80, 72), "post_dose": (134, 86, 78), "discharge": (122, 78, 70)}
    for when, minutes in (("pre_dose", -10), ("post_dose", 40), ("discharge", 120)):
        at = dosed + dt.timedelta(minutes=minutes)
        systolic, diastolic, heart_rate = pressures[when]
        VitalSigns.objects.create(
            record=record, when=when, taken_at=at, recorded_at=at, recorded_by=clinician,
            systolic=systolic, diastolic=diastolic, heart_rate=heart_rate, spo2=98,
        )  # fmt: skip
    for when, minutes, moaas, cadss in (("post_dose", 40, 4, 9), ("discharge", 120, 5, 0)):
        at = dosed + dt.timedelta(minutes=minutes)
        Observation.objects.create(
            record=record, when=when, taken_at=at, recorded_at=at, recorded_by=clinician,
            moaas=moaas, cadss_form="short_6", cadss_score=cadss, spo2=98,
        )  # fmt: skip
    if session.number == 2:
        at = dosed + dt.timedelta(minutes=30)
        AdverseEvent.objects.create(
            record=record, kind="nausea_vomiting", severity="mild", serious=False, noted_at=at,
            recorded_at=at, recorded_by=clinician, action_taken="Observed; no medicine needed.",
            outcome="Resolved before discharge.",
        )  # fmt: skip
    SessionRecord.objects.filter(pk=record.pk).update(
        signed_at=dosed + dt.timedelta(minutes=130), signed_by=clinician
    )
    RemsSubmission.objects.create(
        record=record, submitted_by=staff, submitted_at=dosed + dt.timedelta(days=2)
    )


def _book_upcoming(clinician: User, sessions: list, now: dt.datetime) -> None:
    kind = AppointmentType.objects.get(kind=AppointmentKind.SESSION_CLINIC)
    if not sessions:
        return
    found, _ = availability.free_slots(
        jurisdiction=sessions[0].plan.jurisdiction,
        appointment_type=kind,
        start=now,
        end=now + dt.timedelta(days=14),
        clinician_ids=[str(clinician.public_id)],
    )
    days_used: set[dt.date] = set()
    for session in sessions:
        slot = next((s for s in found if s.start.date() not in days_used), None)
        if slot is None:
            return
        days_used.add(slot.start.date())
        # Two days apart at least, as the protocol asks.
        days_used.update(slot.start.date() + dt.timedelta(days=d) for d in (-1, 1))
        try:
            actions.do_book_session(actor=clinician, session=session, start=slot.start)
        except actions.CareError:
            return  # e.g. the demo's legal basis has lapsed: the course page says so


def _past_booking(patient: User, clinician: User, kind: str, start: dt.datetime) -> Booking:
    start = start.replace(hour=15, minute=0, second=0, microsecond=0)
    appointment_type = AppointmentType.objects.get(kind=kind)
    blocked_start, blocked_end = appointment_type.blocked(start)
    return Booking.objects.create(
        patient=patient,
        clinician=clinician,
        appointment_type=appointment_type,
        start=start,
        end=start + appointment_type.duration,
        blocked_start=blocked_start,
        blocked_end=blocked_end,
        jurisdiction="US-NY",
        patient_time_zone=patient.time_zone,
        status=BookingStatus.COMPLETED,
        created_at=start - dt.timedelta(days=2),
        idempotency_key=uuid.uuid4().hex,
        manage_token_hash=uuid.uuid4().hex,
        ics_uid=f"{uuid.uuid4()}@demo.mendwell.example",
    )
