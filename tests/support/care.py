"""Helpers for the treatment course's tests: an approved protocol of an enabled route, a signed
"suitable" consultation, and a plan ready to book (reviews done, consent signed, legal basis
and PDMP check recorded), all made through the actions."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from django.utils import timezone

from clinic.accounts.models import User
from clinic.care import actions
from clinic.care.models import LegalBasisKind, LegalBasisRule, ProtocolVersion, Route, TreatmentPlan
from clinic.scheduling.models import AppointmentKind, AppointmentType, Booking
from clinic.visits.models import ConsultNote

ESKETAMINE = {
    "induction_sessions": 8,
    "induction_weeks": 4,
    "dose_unit": "mg",
    "dose_min": Decimal("56"),
    "dose_max": Decimal("84"),
    "observation_minutes": 120,
}
PER_KG = {
    "induction_sessions": 6,
    "induction_weeks": 3,
    "dose_unit": "mg_per_kg",
    "dose_min": Decimal("0.5"),
    "dose_max": Decimal("1.0"),
    "observation_minutes": 60,
}


def approved_version(
    staff: User, clinician: User, *, route: str = Route.INTRANASAL_ESKETAMINE, **values: Any
) -> ProtocolVersion:
    actions.do_set_route_enabled(actor=staff, route=route, enabled=True)
    fields = {**(ESKETAMINE if route == Route.INTRANASAL_ESKETAMINE else PER_KG), **values}
    version = actions.do_create_protocol_version(actor=staff, name=f"Protocol {route}", route=route, **fields)
    return actions.do_approve_protocol(actor=clinician, version=version)


def signed_note(patient: User, clinician: User, *, decision: str = "suitable", signed: bool = True,
                start: dt.datetime | None = None, intake: Any = None) -> ConsultNote:  # fmt: skip
    """A past consultation of ``patient`` with ``clinician`` (in New York) and its note."""
    start = start or timezone.now() - dt.timedelta(days=2)
    booking = Booking.objects.create(
        patient=patient,
        clinician=clinician,
        appointment_type=AppointmentType.objects.get(kind=AppointmentKind.CONSULTATION),
        start=start,
        end=start + dt.timedelta(minutes=20),
        blocked_start=start,
        blocked_end=start + dt.timedelta(minutes=30),
        jurisdiction="US-NY",
        patient_time_zone="America/New_York",
        status="completed" if signed else "confirmed",
        created_at=start - dt.timedelta(days=1),
        idempotency_key=uuid.uuid4().hex,
        manage_token_hash=uuid.uuid4().hex,
        ics_uid=f"{uuid.uuid4()}@test",
        intake=intake,
    )
    now = timezone.now()
    return ConsultNote.objects.create(
        booking=booking,
        author=clinician,
        patient=patient,
        reason="Low mood for a year",
        decision=decision if signed else "",
        created_at=now,
        updated_at=now,
        signed_at=now if signed else None,
    )


def start_plan(clinician: User, note: ConsultNote, version: ProtocolVersion, **values: Any) -> TreatmentPlan:
    fields: dict[str, Any] = {
        "indication": "Major depressive disorder, two adequate trials without response",
        "baseline_source": "fresh",
        "baseline_phq9": 18,
        "baseline_gad7": 11,
        "weight_kg": Decimal("70.0"),
        "systolic": 124,
        "diastolic": 78,
        "identity_method": "photo_id",
        **values,
    }
    return actions.do_start_plan(actor=clinician, note=note, version=version, **fields)


def basis_rule(
    staff: User, *, until: dt.date | None = dt.date(2026, 12, 31), name: str = ""
) -> LegalBasisRule:
    return actions.do_create_legal_basis_rule(
        actor=staff,
        name=name or "DEA telemedicine flexibilities",
        kind=LegalBasisKind.TELEMEDICINE_FLEXIBILITIES,
        in_force_from=None,
        in_force_until=until,
    )


def recheck_pdmp(clinician: User, plan: TreatmentPlan, state: str) -> None:
    """A new PDMP check (checks are permanent rows: a renewal is a new one)."""
    actions.do_record_pdmp_check(
        actor=clinician,
        plan=plan,
        state=state,
        checked_at=timezone.now(),
        result_summary="Checked",
        attested=True,
    )


def ready_plan(
    patient: User,
    clinician: User,
    staff: User,
    *,
    route: str = Route.INTRANASAL_ESKETAMINE,
    until: dt.date | None = None,
    pdmp_at: dt.datetime | None = None,
) -> TreatmentPlan:
    """A plan that may book: consent signed, flags reviewed, legal basis and PDMP recorded."""
    version = approved_version(staff, clinician, route=route)
    plan = start_plan(clinician, signed_note(patient, clinician), version)
    for key in plan.open_reviews():
        actions.do_review_contraindication(
            actor=clinician, plan=plan, flag_key=key, note="Reviewed, not a bar"
        )
    actions.do_sign_treatment_consent(
        patient=patient, plan=plan, typed_name="Pat Patient", version=plan.consent_version
    )
    rule = basis_rule(staff, until=until or (timezone.now() + dt.timedelta(days=400)).date())
    actions.do_record_legal_basis(actor=clinician, plan=plan, rule=rule)
    actions.do_record_pdmp_check(
        actor=clinician,
        plan=plan,
        state="US-NY",
        checked_at=pdmp_at or timezone.now(),
        result_summary="No other controlled prescriptions in 12 months",
        attested=True,
    )
    return TreatmentPlan.objects.get(pk=plan.pk)
