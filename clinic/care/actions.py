"""Every write of the treatment course's first half: protocols and routes, starting a plan, its
reviews, consent and prescribing record, booking sessions, and the pre-session check-in.

Each action is one transaction with its audit row; emails go after commit (through the actions
of ``scheduling`` and ``intake`` they call). A refusal is a ``CareError`` with a message for the
person who asked, and changes nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from clinic.accounts.models import Role, User
from clinic.audit.actions import Via, audit_record
from clinic.audit.models import Action
from clinic.care import consent
from clinic.care.models import (
    ALWAYS_ASKED,
    ALWAYS_ASKED_AT_HOME,
    BaselineSource,
    CheckInStatus,
    ContraindicationReview,
    DoseUnit,
    IdentityMethod,
    LegalBasisKind,
    LegalBasisRecord,
    LegalBasisRule,
    PdmpCheck,
    PlanStatus,
    PreSessionCheckIn,
    PreSessionItem,
    Protocol,
    ProtocolVersion,
    Route,
    RouteSetting,
    SessionPhase,
    SessionStatus,
    TreatmentConsentSignature,
    TreatmentPlan,
    TreatmentSession,
    is_at_home,
    local_date,
    plan_may_schedule,
)
from clinic.care.models.protocols import ESKETAMINE_MIN_OBSERVATION_MINUTES
from clinic.intake import actions as intake_actions
from clinic.intake import scoring
from clinic.intake.models import IntakeResponse, UrgentKind
from clinic.measures import actions as measures_actions
from clinic.measures.models import Schedule
from clinic.scheduling import actions as booking_actions
from clinic.scheduling.models import AppointmentKind, AppointmentType, Booking, BookingStatus
from clinic.visits.access import access_reason
from clinic.visits.models import ConsultNote, Decision

# The check-in before a session opens this long before it starts.
CHECKIN_OPENS_BEFORE = dt.timedelta(hours=48)
NOTE_MIN = 3


class CareError(Exception):
    def __init__(self, message: str, reasons: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.reasons = reasons or []


def _need(user: User, role: Role) -> None:
    if user.role != role:
        raise CareError(f"Only a {role.label.lower()} can do this.")


# Protocols and routes (staff write, a clinician approves) -----------------------------------------


def protocol_problems(
    *,
    route: str,
    induction_sessions: int,
    induction_weeks: int,
    maintenance_sessions: int,
    maintenance_interval_days: int | None,
    dose_min: Decimal,
    dose_max: Decimal,
    observation_minutes: int,
    checkins: list[str],
) -> list[str]:
    """Why a protocol version cannot be saved (empty: it can). The database holds the same rules
    as checks; this says them in words first."""
    problems = []
    if route not in Route.values:
        problems.append("Choose a route.")
    if induction_sessions < 1 or induction_weeks < 1:
        problems.append("Induction needs at least one session over at least one week.")
    if maintenance_sessions > 0 and not maintenance_interval_days:
        problems.append("Say how many days apart maintenance sessions are.")
    if dose_min <= 0 or dose_max < dose_min:
        problems.append("The dose range needs a lowest dose above 0 and a highest dose at least as high.")
    if observation_minutes < 1:
        problems.append("Set the minimum observation time.")
    if route == Route.INTRANASAL_ESKETAMINE and observation_minutes < ESKETAMINE_MIN_OBSERVATION_MINUTES:
        problems.append(
            f"Esketamine needs at least {ESKETAMINE_MIN_OBSERVATION_MINUTES} minutes of observation (label)."
        )
    unknown = set(checkins) - set(PreSessionItem.values)
    if unknown:
        problems.append("Unknown check-in items: " + ", ".join(sorted(unknown)))
    return problems


def _checkins_for(route: str, chosen: list[str]) -> list[str]:
    """The chosen items, with those always asked added, in the fixed order of ``PreSessionItem``."""
    required = set(ALWAYS_ASKED) | (set(ALWAYS_ASKED_AT_HOME) if is_at_home(route) else set())
    wanted = set(chosen) | required
    return [item for item in PreSessionItem.values if item in wanted]


@transaction.atomic
def do_create_protocol_version(
    *,
    actor: User,
    protocol: Protocol | None = None,
    name: str = "",
    route: str = "",
    induction_sessions: int,
    induction_weeks: int,
    induction_min_days_between: int = 1,
    maintenance_sessions: int = 0,
    maintenance_interval_days: int | None = None,
    dose_unit: str,
    dose_min: Decimal,
    dose_max: Decimal,
    observation_minutes: int,
    hold_systolic_above: int | None = None,
    hold_diastolic_above: int | None = None,
    hold_heart_rate_above: int | None = None,
    hold_spo2_below: int | None = None,
    checkins: list[str] | None = None,
    via: Via | None = None,
) -> ProtocolVersion:
    """A new version, waiting for a clinician's approval. Without ``protocol`` a new protocol
    is created (``name``, ``route``); a version of an existing one keeps its route."""
    _need(actor, Role.STAFF)
    now = timezone.now()
    if protocol is None:
        if not name.strip():
            raise CareError("Give the protocol a name.")
        if route not in Route.values:
            raise CareError("Choose a route.")
    else:
        protocol = Protocol.objects.select_for_update().get(pk=protocol.pk)
        route = protocol.route
    if dose_unit not in DoseUnit.values:
        raise CareError("Choose the dose unit.")
    chosen = checkins or []
    problems = protocol_problems(
        route=route,
        induction_sessions=induction_sessions,
        induction_weeks=induction_weeks,
        maintenance_sessions=maintenance_sessions,
        maintenance_interval_days=maintenance_interval_days,
        dose_min=dose_min,
        dose_max=dose_max,
        observation_minutes=observation_minutes,
        checkins=chosen,
    )
    if problems:
        raise CareError(" ".join(problems), problems)
    if protocol is None:
        protocol = Protocol.objects.create(name=name.strip(), route=route, created_by=actor, created_at=now)
    number = (protocol.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    limits: dict[str, Any] = {}
    if hold_systolic_above is not None:
        limits["hold_systolic_above"] = hold_systolic_above
    if hold_diastolic_above is not None:
        limits["hold_diastolic_above"] = hold_diastolic_above
    version = ProtocolVersion.objects.create(
        protocol=protocol,
        number=number,
        route=route,
        induction_sessions=induction_sessions,
        induction_weeks=induction_weeks,
        induction_min_days_between=induction_min_days_between,
        maintenance_sessions=maintenance_sessions,
        maintenance_interval_days=maintenance_interval_days
        if maintenance_sessions
        else maintenance_interval_days,
        dose_unit=dose_unit,
        dose_min=dose_min,
        dose_max=dose_max,
        observation_minutes=observation_minutes,
        hold_heart_rate_above=hold_heart_rate_above,
        hold_spo2_below=hold_spo2_below,
        checkins=_checkins_for(route, chosen),
        created_by=actor,
        created_at=now,
        **limits,
    )
    audit_record(action=Action.PROTOCOL_CREATED, actor=actor, subject=version, via=via, reason=route)
    return version


@transaction.atomic
def do_approve_protocol(*, actor: User, version: ProtocolVersion, via: Via | None = None) -> ProtocolVersion:
    """A clinician approves a version: from then on it is fixed and new plans start on it."""
    _need(actor, Role.CLINICIAN)
    version = ProtocolVersion.objects.select_for_update().get(pk=version.pk)
    if version.is_approved:
        raise CareError("This version is already approved.")
    version.approved_by = actor
    version.approved_at = timezone.now()
    version.save(update_fields=["approved_by", "approved_at"])
    audit_record(action=Action.PROTOCOL_APPROVED, actor=actor, subject=version, via=via, reason=version.route)
    return version


@transaction.atomic
def do_set_route_enabled(*, actor: User, route: str, enabled: bool, via: Via | None = None) -> RouteSetting:
    """Staff turn a route on or off for the clinic. Plans already running keep going; a route
    turned off cannot start new plans."""
    _need(actor, Role.STAFF)
    if route not in Route.values:
        raise CareError("Unknown route.")
    setting, _ = RouteSetting.objects.select_for_update().get_or_create(route=route)
    setting.enabled = enabled
    setting.changed_by = actor
    setting.changed_at = timezone.now()
    setting.save()
    audit_record(
        action=Action.ROUTE_CHANGED,
        actor=actor,
        subject_type="care.route",
        subject_id=route,
        via=via,
        reason="on" if enabled else "off",
    )
    return setting


def route_enabled(route: str) -> bool:
    return RouteSetting.objects.filter(route=route, enabled=True).exists()


@transaction.atomic
def do_create_legal_basis_rule(
    *,
    actor: User,
    name: str,
    kind: str,
    in_force_from: dt.date | None,
    in_force_until: dt.date | None,
    via: Via | None = None,
) -> LegalBasisRule:
    """Staff configure a basis for prescribing and the dates it is in force."""
    _need(actor, Role.STAFF)
    if not name.strip():
        raise CareError("Name the legal basis.")
    if kind not in LegalBasisKind.values:
        raise CareError("Choose the kind of legal basis.")
    if in_force_from and in_force_until and in_force_until < in_force_from:
        raise CareError("The end date is before the start date.")
    rule = LegalBasisRule.objects.create(
        name=name.strip(),
        kind=kind,
        in_force_from=in_force_from,
        in_force_until=in_force_until,
        created_by=actor,
        created_at=timezone.now(),
    )
    audit_record(action=Action.LEGAL_BASIS_RULE_CREATED, actor=actor, subject=rule, via=via, reason=kind)
    return rule


# Starting a plan -------------------------------------------------------------------------------


def course_access(clinician: User, patient: User) -> str | None:
    """Why a clinician may see and act on a patient's course (a fixed code for the audit row),
    or None: the plan is theirs, or they have a relationship with the patient (``visits.access``:
    a booking with them, on call for their urgent item, or break-glass)."""
    if clinician.role != Role.CLINICIAN:
        return None
    if TreatmentPlan.objects.filter(patient=patient, clinician=clinician).exists():
        return "plan clinician"
    return access_reason(clinician, patient.pk)


def intake_flags(intake: IntakeResponse | None) -> list[str]:
    """The checklist flags a patient answered "yes" on their intake, in form order."""
    if intake is None:
        return []
    try:
        return [flag.key for flag in scoring.checklist_flags(intake.answers)]
    except scoring.ScoringError:
        return []


@transaction.atomic
def do_start_plan(
    *,
    actor: User,
    note: ConsultNote,
    version: ProtocolVersion,
    indication: str,
    baseline_source: str,
    baseline_phq9: int | None = None,
    baseline_gad7: int | None = None,
    weight_kg: Decimal,
    systolic: int,
    diastolic: int,
    identity_method: str = "",
    pharmacy: str = "",
    via: Via | None = None,
) -> TreatmentPlan:
    """Start a plan from a signed consultation whose decision was "suitable for treatment
    assessment": the planned sessions are laid out, one review row per intake flag waits for
    the clinician, and the treatment consent waits for the patient."""
    _need(actor, Role.CLINICIAN)
    note = ConsultNote.objects.select_related("booking", "booking__intake").get(pk=note.pk)
    patient = note.patient
    version = ProtocolVersion.objects.get(pk=version.pk)
    if not note.is_signed:
        raise CareError("Sign the consultation note first.")
    if note.decision != Decision.SUITABLE:
        raise CareError("A plan starts only from a consultation that found the patient suitable.")
    if course_access(actor, patient) is None:
        raise CareError("You have no relationship with this patient.")
    if not version.is_approved:
        raise CareError("This protocol version is not approved yet.")
    if not route_enabled(version.route):
        raise CareError("The clinic does not offer this route at present.")
    if TreatmentPlan.objects.filter(patient=patient).open().exists():
        raise CareError("This patient already has an open treatment plan.")
    if not indication.strip():
        raise CareError("Write the indication.")
    if identity_method and identity_method not in IdentityMethod.values:
        raise CareError("Choose how identity was verified.")
    intake = note.booking.intake
    if baseline_source == BaselineSource.INTAKE:
        if intake is None or intake.phq9_total is None or intake.gad7_total is None:
            raise CareError("The intake has no PHQ-9 and GAD-7 scores: take them fresh.")
        baseline_phq9, baseline_gad7 = intake.phq9_total, intake.gad7_total
    elif baseline_source == BaselineSource.FRESH:
        if baseline_phq9 is None or baseline_gad7 is None:
            raise CareError("Enter the fresh PHQ-9 and GAD-7 totals.")
        if not (0 <= baseline_phq9 <= 27 and 0 <= baseline_gad7 <= 21):
            raise CareError("PHQ-9 totals are 0-27 and GAD-7 totals 0-21.")
        intake = None
    else:
        raise CareError("Say where the baseline scores come from.")
    if weight_kg <= 0:
        raise CareError("Enter the weight in kilograms.")
    if systolic <= 0 or diastolic <= 0:
        raise CareError("Enter the blood pressure.")
    now = timezone.now()
    plan = TreatmentPlan.objects.create(
        patient=patient,
        clinician=actor,
        consult_note=note,
        protocol_version=version,
        jurisdiction=note.booking.jurisdiction,
        indication=indication.strip(),
        baseline_phq9=baseline_phq9,
        baseline_gad7=baseline_gad7,
        baseline_source=baseline_source,
        baseline_intake=intake,
        weight_kg=weight_kg,
        systolic=systolic,
        diastolic=diastolic,
        consent_version=consent.CURRENT_VERSION,
        identity_method=identity_method,
        pharmacy=pharmacy.strip(),
        created_at=now,
    )
    for key in intake_flags(note.booking.intake):
        ContraindicationReview.objects.create(plan=plan, flag_key=key)
    phases = [SessionPhase.INDUCTION] * version.induction_sessions + [
        SessionPhase.MAINTENANCE
    ] * version.maintenance_sessions
    TreatmentSession.objects.bulk_create(
        TreatmentSession(plan=plan, number=n, phase=phase, created_at=now)
        for n, phase in enumerate(phases, 1)
    )
    audit_record(
        action=Action.PLAN_STARTED, actor=actor, subject=plan, patient=patient, via=via, reason=version.route
    )
    return plan


def _maybe_activate(plan: TreatmentPlan, *, actor: User, via: Via | None) -> None:
    """A preparing plan becomes active (bookable, the legal basis and PDMP allowing) once every
    flag is reviewed and the patient has signed the consent."""
    if plan.status != PlanStatus.PREPARING or plan.open_reviews() or plan.consent_signature() is None:
        return
    plan.status = PlanStatus.ACTIVE
    plan.activated_at = timezone.now()
    plan.save(update_fields=["status", "activated_at"])
    audit_record(action=Action.PLAN_ACTIVATED, actor=actor, subject=plan, patient=plan.patient, via=via)
    follow_with_checkins(plan, actor=actor, via=via)


def session_dates(plan: TreatmentPlan) -> list[dt.date]:
    """The local dates (the patient's zone) of the plan's booked sessions, cancelled ones left out."""
    zone = ZoneInfo(plan.patient.time_zone)
    return sorted(
        s.booking.start.astimezone(zone).date()
        for s in plan.sessions.select_related("booking")
        if s.booking is not None and s.status != SessionStatus.CANCELLED
    )


def follow_with_checkins(plan: TreatmentPlan, *, actor: User | None, via: Via | None) -> None:
    """The course's check-ins (``clinic.measures``, one layer down) follow its sessions: scheduled
    when the plan becomes active, moved whenever a session is booked or cancelled."""
    dates = session_dates(plan)
    if Schedule.objects.filter(course_ref=plan.public_id).exists():
        measures_actions.do_reschedule(
            course_ref=plan.public_id, sessions=dates, last_session=None, actor=actor, via=via
        )
        return
    today = timezone.now().astimezone(ZoneInfo(plan.patient.time_zone)).date()
    measures_actions.do_schedule_course(
        patient=plan.patient,
        course_ref=plan.public_id,
        induction_start=min([today, *dates]),
        sessions=dates,
        last_session=None,
        zone=plan.patient.time_zone,
        clinician=plan.clinician,
        actor=actor,
        via=via,
    )


def _own_plan(actor: User, plan: TreatmentPlan) -> TreatmentPlan:
    _need(actor, Role.CLINICIAN)
    plan = TreatmentPlan.objects.select_for_update().get(pk=plan.pk)
    if plan.clinician_id != actor.pk:
        raise CareError("Only the plan's clinician can do this.")
    return plan


@transaction.atomic
def do_review_contraindication(
    *, actor: User, plan: TreatmentPlan, flag_key: str, note: str, via: Via | None = None
) -> ContraindicationReview:
    """Mark one intake flag reviewed, with the clinician's note (encrypted)."""
    plan = _own_plan(actor, plan)
    review = plan.contraindication_reviews.select_for_update().filter(flag_key=flag_key).first()
    if review is None:
        raise CareError("That flag is not on this plan.")
    if len(note.strip()) < NOTE_MIN:
        raise CareError("Write what you reviewed and concluded.")
    review.note = note.strip()
    review.reviewed_by = actor
    review.reviewed_at = timezone.now()
    review.save(update_fields=["note", "reviewed_by", "reviewed_at"])
    audit_record(
        action=Action.CONTRAINDICATION_REVIEWED,
        actor=actor,
        subject=plan,
        patient=plan.patient,
        via=via,
        reason=flag_key,
    )
    _maybe_activate(plan, actor=actor, via=via)
    return review


@transaction.atomic
def do_sign_treatment_consent(
    *, patient: User, plan: TreatmentPlan, typed_name: str, version: str, via: Via | None = None
) -> TreatmentConsentSignature:
    """The patient signs the plan's consent in their own account: typed name, time, version."""
    plan = TreatmentPlan.objects.select_for_update().get(pk=plan.pk)
    if plan.patient_id != patient.pk:
        raise CareError("This is not your plan.")
    if plan.status not in (PlanStatus.PREPARING, PlanStatus.ACTIVE):
        raise CareError("This plan is closed.")
    if version != plan.consent_version:
        raise CareError("The consent has changed since you opened it. Please read it again.")
    if len(typed_name.strip()) < 2:
        raise CareError("Type your full name to sign.")
    if plan.consent_signature() is not None:
        raise CareError("You have already signed this consent.")
    signature = TreatmentConsentSignature.objects.create(
        plan=plan, patient=patient, version=version, typed_name=typed_name.strip(), signed_at=timezone.now()
    )
    audit_record(
        action=Action.TREATMENT_CONSENT_SIGNED,
        actor=patient,
        subject=plan,
        patient=patient,
        via=via,
        reason=version,
    )
    _maybe_activate(plan, actor=patient, via=via)
    return signature


@transaction.atomic
def do_record_pdmp_check(
    *,
    actor: User,
    plan: TreatmentPlan,
    state: str,
    checked_at: dt.datetime,
    result_summary: str,
    attested: bool,
    via: Via | None = None,
) -> PdmpCheck:
    """Record a PDMP check (recorded here, done in the state's own system)."""
    plan = _own_plan(actor, plan)
    if not attested:
        raise CareError("Attest that you checked the state's prescription-monitoring program.")
    if checked_at.tzinfo is None:
        raise CareError("Give the time of the check with its time zone.")
    if checked_at > timezone.now() + dt.timedelta(minutes=5):
        raise CareError("The check cannot be in the future.")
    if not state:
        raise CareError("Choose the state checked.")
    if not result_summary.strip():
        raise CareError("Summarize what the check showed.")
    check = PdmpCheck.objects.create(
        plan=plan,
        state=state,
        checked_at=checked_at.astimezone(dt.UTC),
        result_summary=result_summary.strip(),
        attested=True,
        checked_by=actor,
        recorded_at=timezone.now(),
    )
    audit_record(
        action=Action.PDMP_RECORDED, actor=actor, subject=plan, patient=plan.patient, via=via, reason=state
    )
    return check


@transaction.atomic
def do_record_legal_basis(
    *,
    actor: User,
    plan: TreatmentPlan,
    rule: LegalBasisRule,
    evaluated_on: dt.date | None = None,
    evaluated_by: User | None = None,
    via: Via | None = None,
) -> LegalBasisRecord:
    """Record the basis the plan's prescribing rests on. An in-person evaluation names its date
    and clinician."""
    plan = _own_plan(actor, plan)
    if rule.kind == LegalBasisKind.IN_PERSON_EVALUATION:
        if evaluated_on is None or evaluated_by is None:
            raise CareError("Give the date of the in-person evaluation and who did it.")
        if evaluated_by.role != Role.CLINICIAN:
            raise CareError("The in-person evaluation is a clinician's.")
        if evaluated_on > timezone.now().date() + dt.timedelta(days=1):
            raise CareError("The evaluation cannot be in the future.")
    record = LegalBasisRecord.objects.create(
        plan=plan,
        rule=rule,
        evaluated_on=evaluated_on,
        evaluated_by=evaluated_by,
        recorded_by=actor,
        recorded_at=timezone.now(),
    )
    audit_record(
        action=Action.LEGAL_BASIS_RECORDED,
        actor=actor,
        subject=plan,
        patient=plan.patient,
        via=via,
        reason=rule.kind,
    )
    return record


# Sessions --------------------------------------------------------------------------------------


def session_kind(plan: TreatmentPlan) -> AppointmentKind:
    """The appointment type a plan's sessions are booked as: at home over video only for the
    at-home route (never esketamine: ``AT_HOME_ROUTES``), otherwise in clinic."""
    return AppointmentKind.SESSION_HOME if plan.at_home else AppointmentKind.SESSION_CLINIC


@transaction.atomic
def do_book_session(
    *,
    actor: User,
    session: TreatmentSession,
    start: dt.datetime,
    jurisdiction: str | None = None,
    via: Via | None = None,
) -> Booking:
    """Book one planned session in one of the clinician's free slots of the session type. Refused
    with the reasons of ``plan_may_schedule`` on the session's local date, when the slot is
    taken or the clinician is not licensed where the patient will be for the whole session."""
    _need(actor, Role.CLINICIAN)
    session = (
        TreatmentSession.objects.select_for_update(of=("self",))
        .select_related("plan", "booking")
        .get(pk=session.pk)
    )
    plan = session.plan
    if plan.clinician_id != actor.pk:
        raise CareError("Only the plan's clinician books its sessions.")
    if session.status != SessionStatus.SCHEDULED or session.booking is not None:
        raise CareError("This session is already booked or over.")
    if start.tzinfo is None:
        raise CareError("Choose one of the times shown.")
    where = jurisdiction or plan.jurisdiction
    reasons = plan_may_schedule(plan, local_date(start, where), jurisdiction=where)
    if reasons:
        raise CareError(" ".join(r.label for r in reasons), [str(r) for r in reasons])
    kind = session_kind(plan)
    appointment_type = AppointmentType.objects.get(kind=kind)
    if appointment_type.duration_minutes < plan.protocol_version.observation_minutes:
        raise CareError("The session's appointment type is shorter than the protocol's observation time.")
    try:
        booking = booking_actions.do_book_follow_up(
            clinician=actor,
            patient=plan.patient,
            start=start,
            jurisdiction=where,
            patient_time_zone=plan.patient.time_zone,
            kind=kind,
            via=via,
        )
    except booking_actions.BookingError as exc:
        raise CareError(exc.message) from None
    session.booking = booking
    session.save(update_fields=["booking"])
    follow_with_checkins(plan, actor=actor, via=via)
    audit_record(
        action=Action.SESSION_BOOKED,
        actor=actor,
        subject=session,
        patient=plan.patient,
        via=via,
        reason=str(kind),
    )
    return booking


def _replan(session: TreatmentSession) -> TreatmentSession:
    """A cancelled session is kept on the timeline; a new planned one of the same phase takes its
    place at the end."""
    last = session.plan.sessions.aggregate(n=Max("number"))["n"] or 0
    return TreatmentSession.objects.create(
        plan=session.plan, number=last + 1, phase=session.phase, created_at=timezone.now()
    )


@transaction.atomic
def do_cancel_session(
    *,
    actor: User,
    session: TreatmentSession,
    reason_code: str,
    via: Via | None = None,
    by_clinic: bool = True,
) -> TreatmentSession:
    session = (
        TreatmentSession.objects.select_for_update(of=("self",))
        .select_related("plan", "booking")
        .get(pk=session.pk)
    )
    if session.status not in (SessionStatus.SCHEDULED,):
        raise CareError("Only a session still to come can be cancelled.")
    # Cancelled first: the booking's own cancellation (below) then finds nothing left to do here.
    session.status = SessionStatus.CANCELLED
    session.save(update_fields=["status"])
    if session.booking is not None and session.booking.status == BookingStatus.CONFIRMED:
        booking_actions.do_cancel(actor=actor, booking=session.booking, via=via, by_clinic=by_clinic)
    _replan(session)
    if session.plan.status == PlanStatus.ACTIVE:
        follow_with_checkins(session.plan, actor=actor, via=via)
    audit_record(
        action=Action.SESSION_CANCELLED,
        actor=actor,
        subject=session,
        patient=session.plan.patient,
        via=via,
        reason=reason_code,
    )
    return session


def follow_cancelled_booking(*, booking: Booking, actor: User | None, via: Via | None) -> None:
    """A session's booking was cancelled outside the course (by the patient, staff, the manage
    link): the session leaves the timeline as cancelled, a new one is planned in its place and the
    check-ins follow. Runs inside the cancellation's transaction (``scheduling.signals``)."""
    _follow_lost_booking(
        booking, SessionStatus.CANCELLED, Action.SESSION_CANCELLED, "booking_cancelled", actor, via
    )


def follow_missed_booking(*, booking: Booking, actor: User | None, via: Via | None) -> None:
    """A session's booking was marked a no-show: the session is missed (the course's timeline
    says so), a new one is planned in its place and the check-ins follow. A session whose record
    was begun is left as it is: someone was there. Runs inside the marking's transaction."""
    _follow_lost_booking(booking, SessionStatus.MISSED, Action.SESSION_MISSED, "no_show", actor, via)


def _follow_lost_booking(
    booking: Booking, status: SessionStatus, action: Action, reason: str, actor: User | None, via: Via | None
) -> None:
    session = (
        TreatmentSession.objects.select_for_update(of=("self",))
        .select_related("plan", "plan__patient")
        .filter(booking=booking, status=SessionStatus.SCHEDULED)
        .first()
    )
    if session is None:
        return
    session.status = status
    session.save(update_fields=["status"])
    _replan(session)
    if session.plan.status == PlanStatus.ACTIVE:
        follow_with_checkins(session.plan, actor=actor, via=via)
    audit_record(
        action=action,
        actor=actor,
        subject=session,
        patient=session.plan.patient,
        via=via,
        reason=reason,
    )


# The pre-session check-in ------------------------------------------------------------------------


def checkin_open(session: TreatmentSession, now: dt.datetime | None = None) -> bool:
    """A check-in can be answered from ``CHECKIN_OPENS_BEFORE`` the booked start until it."""
    now = now or timezone.now()
    if session.booking is None or session.status != SessionStatus.SCHEDULED:
        return False
    return session.booking.start - CHECKIN_OPENS_BEFORE <= now < session.booking.start


def due_checkins(patient: User, now: dt.datetime | None = None) -> list[TreatmentSession]:
    now = now or timezone.now()
    sessions = TreatmentSession.objects.for_patient(patient).filter(
        status=SessionStatus.SCHEDULED,
        booking__status=BookingStatus.CONFIRMED,
        booking__start__gt=now,
        booking__start__lte=now + CHECKIN_OPENS_BEFORE,
    )
    return [
        s
        for s in sessions.select_related("booking")
        if not PreSessionCheckIn.objects.filter(session=s).exists()
    ]


@transaction.atomic
def do_submit_checkin(
    *, patient: User, session: TreatmentSession, answers: dict[str, Any], via: Via | None = None
) -> PreSessionCheckIn:
    """Score and triage the check-in with the intake's rules (``intake.scoring``):

    - acute (ASQ 5 yes): the session is cancelled, an acute urgent item raised (the on-call
      clinician alerted at once; every booking path stops until it is acknowledged) and the
      check-in is stopped: the page shows the crisis page next;
    - ASQ 5 declined: the on-call clinician is told to call now; the session stays booked, marked
      "safety assessment first";
    - any other positive: a same-day follow-up item, the booking marked and its clinician told.
    """
    session = (
        TreatmentSession.objects.select_for_update(of=("self",))
        .select_related("plan", "booking")
        .get(pk=session.pk)
    )
    if session.plan.patient_id != patient.pk:
        raise CareError("This is not your session.")
    if PreSessionCheckIn.objects.filter(session=session).exists():
        raise CareError("You have already answered this check-in.")
    if not checkin_open(session):
        raise CareError("This check-in is not open.")
    try:
        asq = scoring.score_asq(answers)
    except scoring.IncompleteError as exc:
        raise CareError("Please answer every question: " + ", ".join(exc.missing)) from None
    except scoring.InvalidAnswerError as exc:
        raise CareError(f"An answer is not one of the choices ({exc.key}).") from None
    items = session.plan.protocol_version.checkins
    missing = [key for key in _typed_items(items) if str(answers.get(key, "")).strip() == ""]
    if missing:
        raise CareError("Please answer every question: " + ", ".join(missing))
    level = scoring.triage_asq(asq)
    now = timezone.now()
    stopped = level == scoring.Triage.ACUTE
    checkin = PreSessionCheckIn.objects.create(
        session=session,
        patient=patient,
        status=CheckInStatus.STOPPED_ACUTE if stopped else CheckInStatus.SUBMITTED,
        asq_result=str(asq.result),
        triage=str(level),
        created_at=now,
        submitted_at=now,
    )
    checkin.set_answers(answers)
    checkin.save(update_fields=["answers_json"])
    audit_record(
        action=Action.CHECKIN_SUBMITTED,
        actor=patient,
        subject=session,
        patient=patient,
        via=via,
        reason=str(level),
    )
    booking = session.booking
    assert booking is not None  # checkin_open
    if stopped:
        intake_actions.do_raise_urgent(
            patient=patient, kind=UrgentKind.ACUTE_SCREEN, reason="pre_session_checkin", via=via
        )
        do_cancel_session(actor=patient, session=session, reason_code="acute_checkin", via=via)
    elif asq.q5_declined:
        intake_actions.do_raise_urgent(
            patient=patient, kind=UrgentKind.DECLINED_Q5, reason="pre_session_checkin", via=via
        )
        _mark_safety_first(booking)
    elif level == scoring.Triage.SAFETY_FIRST:
        intake_actions.do_raise_urgent(
            patient=patient, kind=UrgentKind.FOLLOW_UP, reason="pre_session_checkin", via=via
        )
        _mark_safety_first(booking)
        transaction.on_commit(lambda: intake_actions.notify_booked_clinician(booking))
    return checkin


# The typed answers each check-in item asks for (ASQ answers are checked by its scoring).
TYPED_ITEMS = {
    PreSessionItem.SYMPTOMS: ("symptoms",),
    PreSessionItem.MEDICINES: ("medicines",),
    PreSessionItem.HOME_BP: ("home_systolic", "home_diastolic"),
    PreSessionItem.COMPANION: ("companion",),
}


def _typed_items(items: list[str]) -> list[str]:
    return [key for item in items for key in TYPED_ITEMS.get(PreSessionItem(item), ())]


def _mark_safety_first(booking: Booking) -> None:
    Booking.objects.filter(pk=booking.pk).update(safety_first=True)
