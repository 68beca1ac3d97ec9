"""The registry's one read of the clinical record: every patient who started a treatment plan,
as the plain ``clinic.care.outcomes.Course`` values the pure registry computes on.

Reads in a fixed number of queries whatever the cohort's size (one per table, grouped in Python),
so the nightly computation grows linearly with the number of patients. Dates are the patient's
local dates (their time zone), as the measures' definitions count days.

From each session's record: a session *held for blood pressure* is one whose pre-dose reading was
above the protocol's hold limits and that was not dosed; a dose *outside the protocol range* is
one the record marks so; adverse events keep their kind, severity and seriousness (the record's
kinds are a subset of the registry's closed list), never their typed text.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable

from clinic.accounts.models import PatientProfile
from clinic.care.models import (
    AdverseEvent,
    PlanStatus,
    PreSessionCheckIn,
    SessionStatus,
    TreatmentPlan,
    TreatmentSession,
    VitalSigns,
    VitalsWhen,
)
from clinic.care.models import SessionRecord as SessionRecordRow
from clinic.care.outcomes import AGE_BANDS, AdverseEventRecord, Course, Measure, SessionRecord
from clinic.intake.models import TriageLevel
from clinic.measures.models import CheckIn, CheckInStatus, Schedule

STARTED = [PlanStatus.ACTIVE, PlanStatus.COMPLETED, PlanStatus.STOPPED]


def age_band(birth_date: dt.date | None, on: dt.date) -> str | None:
    """The registry's age band on ``on`` (the plan's start); ``None`` without a date of birth."""
    if birth_date is None:
        return None
    age = on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))
    if age < 40:
        return AGE_BANDS[0]  # the clinic treats adults only: under 18 never starts a plan
    return AGE_BANDS[1] if age < 60 else AGE_BANDS[2]


def _local(moment: dt.datetime, zone: zoneinfo.ZoneInfo) -> dt.date:
    return moment.astimezone(zone).date()


def first_plans(as_of: dt.date) -> list[TreatmentPlan]:
    """Each patient's first started plan (activated on or before ``as_of``)."""
    plans = (
        TreatmentPlan.objects.filter(status__in=STARTED, activated_at__isnull=False)
        .select_related("protocol_version", "patient")
        .only(
            "id",
            "public_id",
            "patient_id",
            "activated_at",
            "baseline_phq9",
            "protocol_version__route",
            "patient__time_zone",
        )  # fmt: skip
        .order_by("patient_id", "activated_at", "id")
    )
    first: dict[int, TreatmentPlan] = {}
    for plan in plans:
        assert plan.activated_at is not None
        if plan.patient_id not in first and plan.activated_at.date() <= as_of:
            first[plan.patient_id] = plan
    return list(first.values())


def collect_courses(as_of: dt.date) -> list[Course]:
    """One ``Course`` per patient who started a treatment plan on or before ``as_of`` (their
    first plan), with its PHQ-9 check-ins, sessions held and acute screens."""
    plans = first_plans(as_of)
    by_id = {plan.pk: plan for plan in plans}
    zones = {plan.pk: zoneinfo.ZoneInfo(plan.patient.time_zone) for plan in plans}
    by_ref = {plan.public_id: plan for plan in plans}
    # Only the date of birth is read (one decryption per patient with a course).
    with_course = {plan.patient_id for plan in plans}
    births = {
        user_id: dt.date.fromisoformat(born) if born else None
        for user_id, born in PatientProfile.objects.values_list("user_id", "date_of_birth")
        if user_id in with_course
    }

    held: dict[int, list[SessionRecord]] = defaultdict(list)
    days: dict[int, tuple[int, dt.date]] = {}  # session id -> (plan id, local day)
    sessions = TreatmentSession.objects.filter(status=SessionStatus.DONE, booking__isnull=False)
    for session_id, plan_id, start in sessions.values_list("id", "plan_id", "booking__start"):
        if plan_id in zones and start is not None:
            days[session_id] = (plan_id, _local(start, zones[plan_id]))
    records: dict[int, int] = {}  # record id -> session id
    dose_outside: set[int] = set()
    not_dosed: set[int] = set()
    for record_id, session_id, in_range, dosed_at in SessionRecordRow.objects.values_list(
        "id", "session_id", "dose_in_range", "dosed_at"
    ):
        if session_id in days:
            records[record_id] = session_id
            if in_range is False:
                dose_outside.add(session_id)
            if dosed_at is None:
                not_dosed.add(session_id)
    above_limits: set[int] = set()
    pre_dose = VitalSigns.objects.filter(when=VitalsWhen.PRE_DOSE)
    for record_id, systolic, diastolic in pre_dose.values_list("record_id", "systolic", "diastolic"):
        reading_of = records.get(record_id)
        if reading_of is not None:
            version = by_id[days[reading_of][0]].protocol_version
            if systolic > version.hold_systolic_above or diastolic > version.hold_diastolic_above:
                above_limits.add(reading_of)
    events: dict[int, list[AdverseEventRecord]] = defaultdict(list)
    for record_id, kind, severity, serious in AdverseEvent.objects.values_list(
        "record_id", "kind", "severity", "serious"
    ):
        if record_id in records:
            events[records[record_id]].append(AdverseEventRecord(kind, severity, serious))
    for session_id, (plan_id, day) in days.items():
        held[plan_id].append(
            SessionRecord(
                day,
                held_for_bp=session_id in above_limits and session_id in not_dosed,
                dose_outside_range=session_id in dose_outside,
                adverse_events=tuple(events.get(session_id, ())),
            )
        )

    acute: dict[int, int] = defaultdict(int)
    pre = PreSessionCheckIn.objects.filter(triage=TriageLevel.ACUTE)
    for plan_id in pre.values_list("session__plan_id", flat=True):
        if plan_id in by_id:
            acute[plan_id] += 1

    schedules = dict(Schedule.objects.values_list("pk", "course_ref"))
    forms: dict[int, list[Measure]] = defaultdict(list)
    answered = CheckIn.objects.filter(status=CheckInStatus.ANSWERED, answered_at__isnull=False).values_list(
        "schedule_id", "answered_at", "phq9_total", "phq9_partial", "triage"
    )
    for schedule_id, at, total, partial, triage in answered:
        plan = by_ref.get(schedules.get(schedule_id))  # type: ignore[arg-type]
        if plan is None or at is None:
            continue
        forms[plan.pk].append(Measure(_local(at, zones[plan.pk]), None if partial else total))
        if triage == TriageLevel.ACUTE:
            acute[plan.pk] += 1

    return list(_courses(plans, zones, births, held, forms, acute))


def _courses(
    plans: Iterable[TreatmentPlan],
    zones: dict[int, zoneinfo.ZoneInfo],
    births: dict[int, dt.date | None],
    held: dict[int, list[SessionRecord]],
    forms: dict[int, list[Measure]],
    acute: dict[int, int],
) -> Iterable[Course]:
    for plan in plans:
        assert plan.activated_at is not None
        started = _local(plan.activated_at, zones[plan.pk])
        band = age_band(births.get(plan.patient_id), started)
        if band is None:
            continue  # no date of birth: a plan cannot start without one, so this is not a course
        sessions = sorted(held.get(plan.pk, []), key=lambda r: r.day)
        yield Course(
            route=plan.protocol_version.route,
            age_band=band,
            first_session=sessions[0].day if sessions else None,
            baseline_phq9=plan.baseline_phq9,
            measures=tuple(sorted(forms.get(plan.pk, []), key=lambda m: m.day)),
            sessions=tuple(sessions),
            acute_screens=acute.get(plan.pk, 0),
        )
