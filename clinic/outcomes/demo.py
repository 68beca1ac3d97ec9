"""A synthetic demo cohort for the registry, clearly labelled: patients named "Demo cohort
patient N" at ``demo-cohort.mendwell.example``, each with a signed consultation, a treatment plan on
one route, its sessions held and its PHQ-9 check-ins, then a snapshot marked as demo data.

Plausible, not real: most courses are IV ketamine or esketamine; an induction of twice-weekly
sessions, then maintenance every two to four weeks; a PHQ-9 weekly during induction and every two
to four weeks after; some patients respond, some of them relapse, some stop answering, a few forms
are partial. Everything is written with ``bulk_create`` (a few hundred patients in seconds; the
benchmark makes 10,000).
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from clinic.accounts.models import PatientProfile, Role, User
from clinic.care.models import (
    BaselineSource,
    DoseUnit,
    PlanStatus,
    Protocol,
    ProtocolVersion,
    Route,
    SessionPhase,
    SessionStatus,
    TreatmentPlan,
    TreatmentSession,
)
from clinic.care.outcomes import ROUTES
from clinic.measures.models import CheckIn, CheckInStatus, Schedule
from clinic.outcomes.actions import do_compute_snapshot
from clinic.outcomes.models import RegistrySnapshot, Trigger
from clinic.scheduling.models import AppointmentKind, AppointmentType, Booking, BookingStatus
from clinic.visits.models import ConsultNote, Decision

DOMAIN = "demo-cohort.mendwell.example"
UNUSABLE = "!"  # noqa: S105  (Django's unusable password: these accounts never sign in)
ZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles")
ROUTE_WEIGHTS = (45, 5, 10, 2, 38)
# Doses per route for the demo protocols (mg/kg, except esketamine in mg): the KADS and standard
# IV ranges of EVIDENCE.md, and esketamine's 56 or 84 mg of INSTRUMENTS.md.
DOSES = {
    Route.IV_KETAMINE: (DoseUnit.MG_PER_KG, "0.5", "0.5"),
    Route.IM_KETAMINE: (DoseUnit.MG_PER_KG, "0.5", "0.9"),
    Route.SUBCUTANEOUS_KETAMINE: (DoseUnit.MG_PER_KG, "0.5", "0.9"),
    Route.ORAL_KETAMINE: (DoseUnit.MG_PER_KG, "0.5", "0.9"),
    Route.INTRANASAL_ESKETAMINE: (DoseUnit.MG, "56", "84"),
}


def _versions(author: User, now: dt.datetime) -> dict[str, ProtocolVersion]:
    """An approved version per route the clinic treats with: its own approved protocols when it has
    any (the demo clinic's routes without an approved protocol get no demo patients), else a
    labelled demo one for every route."""
    found: dict[str, ProtocolVersion] = {}
    approved = {v.route: v for v in ProtocolVersion.objects.filter(approved_at__isnull=False).order_by("-id")}
    if approved:
        return approved
    for route in ROUTES:
        unit, low, high = DOSES[Route(route)]
        protocol = Protocol.objects.create(
            name=f"Demo protocol ({Route(route).label})", route=route, created_by=author, created_at=now
        )
        version = ProtocolVersion.objects.create(
            protocol=protocol,
            number=1,
            route=route,
            induction_sessions=8,
            induction_weeks=4,
            maintenance_sessions=12,
            maintenance_interval_days=14,
            dose_unit=unit,
            dose_min=Decimal(low),
            dose_max=Decimal(high),
            observation_minutes=120,
            created_by=author,
            created_at=now,
            approved_by=author,
            approved_at=now,
        )
        found[route] = version
    return found


def _booking(patient: User, clinician: User, kind: AppointmentType, start: dt.datetime, zone: str) -> Booking:
    end = start + dt.timedelta(minutes=kind.duration_minutes)
    key = uuid.uuid4().hex
    return Booking(
        patient=patient,
        clinician=clinician,
        appointment_type=kind,
        start=start,
        end=end,
        blocked_start=start,
        blocked_end=end,
        jurisdiction="US-NY",
        patient_time_zone=zone,
        status=BookingStatus.COMPLETED,
        created_at=start - dt.timedelta(days=3),
        idempotency_key=key,
        manage_token_hash=key,
        ics_uid=f"{key}@{DOMAIN}",
    )


def _trajectory(rng: random.Random, baseline: int, weeks: int) -> list[tuple[int, int | None]]:
    """(day after the first session, PHQ-9 or None for a partial form), until the patient stops."""
    responder = rng.random() < 0.55
    relapses = responder and rng.random() < 0.35
    stop_after = rng.choice((4, 8, 12, 20, 30, 60, 200))  # weeks until they stop answering
    floor = rng.randint(2, 8) if responder else rng.randint(baseline // 2 + 1, baseline)
    points, day, week = [], 0, 0
    while week < min(weeks, stop_after):
        week += 1 if week < 4 else rng.choice((2, 3, 4))
        day = 7 * week + rng.randint(-2, 2)
        progress = min(1.0, week / 6)
        score = baseline - (baseline - floor) * progress
        if relapses and week > 16:
            score = min(27, floor + (week - 16) * 0.8)
        value = max(0, min(27, round(score + rng.gauss(0, 2))))
        points.append((day, None if rng.random() < 0.03 else value))
    return points


def create_cohort(n: int, *, seed: int = 2026, now: dt.datetime | None = None) -> int:
    """Create ``n`` demo patients with their courses (bulk inserts); how many were created."""
    rng = random.Random(seed)
    now = now or timezone.now()
    # Their own clinician, inactive (never offered, never signs in): the demo clinicians' lists and
    # dashboards stay as the tour describes them.
    clinician = User.objects.filter(email=f"cohort.clinician@{DOMAIN}").first()
    if clinician is None:
        clinician = User.objects.create_user(
            f"cohort.clinician@{DOMAIN}",
            None,
            role=Role.CLINICIAN,
            display_name="Demo cohort clinician",
            is_active=False,
        )
    consult_type, _ = AppointmentType.objects.get_or_create(
        kind=AppointmentKind.CONSULTATION, defaults={"name": "Free consultation"}
    )
    session_type, _ = AppointmentType.objects.get_or_create(
        kind=AppointmentKind.FOLLOW_UP, defaults={"name": "Follow-up"}
    )
    versions = _versions(clinician, now)
    routes = [r for r in ROUTES if r in versions]
    weights = [w for r, w in zip(ROUTES, ROUTE_WEIGHTS, strict=True) if r in versions]
    taken = User.objects.filter(email__endswith=f"@{DOMAIN}", role=Role.PATIENT).count()
    people: list[dict[str, Any]] = []
    for i in range(taken, taken + n):
        days_ago = rng.randint(10, 560)
        people.append(
            {
                "i": i,
                "zone": rng.choice(ZONES),
                "route": rng.choices(routes, weights=weights)[0],
                "age": rng.choices(
                    (rng.randint(18, 39), rng.randint(40, 59), rng.randint(60, 82)), (40, 45, 15)
                )[0],
                "first": now - dt.timedelta(days=days_ago, hours=rng.randint(0, 6)),
                "days": days_ago,
                "baseline": rng.randint(10, 25),
            }
        )
    with transaction.atomic():
        users = User.objects.bulk_create(
            User(
                email=f"cohort.{p['i']:05d}@{DOMAIN}",
                password=UNUSABLE,
                role=Role.PATIENT,
                display_name=f"Demo cohort patient {p['i'] + 1}",
                time_zone=p["zone"],
                date_joined=p["first"] - dt.timedelta(days=14),
            )
            for p in people
        )
        PatientProfile.objects.bulk_create(
            PatientProfile(
                user=u,
                legal_name=f"Demo cohort patient {p['i'] + 1}",
                preferred_name="Demo",
                date_of_birth=(
                    p["first"].date() - dt.timedelta(days=int(365.25 * p["age"]) + 40)
                ).isoformat(),
            )
            for u, p in zip(users, people, strict=True)
        )
        consults = Booking.objects.bulk_create(
            _booking(u, clinician, consult_type, p["first"] - dt.timedelta(days=10), p["zone"])
            for u, p in zip(users, people, strict=True)
        )
        notes = ConsultNote.objects.bulk_create(
            ConsultNote(
                booking=b,
                author=clinician,
                patient=u,
                created_at=b.start,
                updated_at=b.end,
                signed_at=b.end,
                decision=Decision.SUITABLE,
            )
            for b, u in zip(consults, users, strict=True)
        )
        plans = TreatmentPlan.objects.bulk_create(
            TreatmentPlan(
                patient=u,
                clinician=clinician,
                consult_note=note,
                protocol_version=versions[p["route"]],
                status=PlanStatus.ACTIVE if p["days"] < 365 else PlanStatus.COMPLETED,
                jurisdiction="US-NY",
                indication="Demo cohort: synthetic course",
                baseline_phq9=p["baseline"],
                baseline_gad7=min(21, p["baseline"] - 3),
                baseline_source=BaselineSource.FRESH,
                weight_kg=Decimal(rng.randint(55, 110)),
                systolic=rng.randint(110, 138),
                diastolic=rng.randint(68, 88),
                consent_version="1",
                created_at=p["first"] - dt.timedelta(days=7),
                activated_at=p["first"] - dt.timedelta(days=2),
            )
            for u, p, note in zip(users, people, notes, strict=True)
        )
        session_rows: list[tuple[TreatmentPlan, int, dt.datetime]] = []
        checkins: list[tuple[int, User, dt.datetime, int | None]] = []
        schedules = []
        for u, p, plan in zip(users, people, plans, strict=True):
            day, number = 0, 0
            while day < p["days"] and number < 20:  # all in the past: nothing on today's lists
                number += 1
                session_rows.append((plan, number, p["first"] + dt.timedelta(days=day)))
                day += 3 if number < 8 else rng.choice((14, 21, 28))
            schedules.append(
                Schedule(
                    course_ref=plan.public_id,
                    patient=u,
                    zone=p["zone"],
                    induction_start=p["first"].date(),
                    created_at=p["first"],
                    updated_at=p["first"],
                )
            )
            for offset, score in _trajectory(rng, p["baseline"], p["days"] // 7):
                checkins.append((len(schedules) - 1, u, p["first"] + dt.timedelta(days=offset), score))
        bookings = Booking.objects.bulk_create(
            _booking(plan.patient, clinician, session_type, start, plan.patient.time_zone)
            for plan, _, start in session_rows
        )
        TreatmentSession.objects.bulk_create(
            TreatmentSession(
                plan=plan,
                booking=booking,
                number=number,
                phase=SessionPhase.INDUCTION if number <= 8 else SessionPhase.MAINTENANCE,
                status=SessionStatus.DONE,
                created_at=start - dt.timedelta(days=7),
            )
            for (plan, number, start), booking in zip(session_rows, bookings, strict=True)
        )
        saved = Schedule.objects.bulk_create(schedules)
        CheckIn.objects.bulk_create(
            CheckIn(
                schedule=saved[index],
                patient=u,
                instruments=["phq9"],
                due_on=at.date(),
                send_after=at - dt.timedelta(hours=6),
                closes_at=at + dt.timedelta(days=3),
                status=CheckInStatus.ANSWERED,
                answered_at=at,
                phq9_total=score,
                phq9_partial=score is None,
                created_at=at - dt.timedelta(days=7),
            )
            for index, u, at, score in checkins
            if at <= now
        )
    return n


def seed(n: int = 300) -> RegistrySnapshot | None:
    """seed_demo's call: the demo cohort once (a second run adds nothing), then a demo snapshot."""
    if User.objects.filter(email__endswith=f"@{DOMAIN}").exists():
        return None
    create_cohort(n)
    return do_compute_snapshot(trigger=Trigger.DEMO)
