"""Writing a session record: who may write what, and each write as one audited transaction.

The prescriber is the clinician the session is booked with: only they record the dose, say
there were no adverse events, sign and add addenda. The session's nurse and the prescriber
record readings, observations, adverse events and the discharge. Nobody else reaches a
session at all (``sessions_for``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from clinic.accounts.models import Role, User
from clinic.audit.actions import Via, audit_record
from clinic.audit.models import Action
from clinic.care import session_rules as rules
from clinic.care.models import DoseUnit, ProtocolVersion, Route, SessionStatus, TreatmentSession
from clinic.care.models.sessions import (
    CHECKLIST,
    AdverseEvent,
    AdverseEventKind,
    CadssForm,
    HomeReading,
    Observation,
    ObservedWhen,
    RemsSubmission,
    SessionAddendum,
    SessionRecord,
    Severity,
    SupervisorConfirmation,
    VitalSigns,
    VitalsWhen,
)
from clinic.register import actions as register_actions
from clinic.register.models import Lot
from clinic.visits.access import WindowState, window_state

DOSE_FIELDS = (
    "dose_mg",
    "dose_mg_per_kg",
    "dose_in_range",
    "dose_reason",
    "hold_reason",
    "lot_number",
    "register_lot",
    "route",
    "sedating_comedications",
    "dosed_at",
    "dosed_by",
)
# The REMS monitoring form is due within 7 days of the session (issue 14).
REMS_DEADLINE = dt.timedelta(days=7)


class RecordError(Exception):
    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.problems = problems or []


class NotAllowed(RecordError):
    """The person's part in the session does not include this write (a 403)."""


# Who ------------------------------------------------------------------------------------------


def sessions_for(user: User) -> QuerySet[TreatmentSession]:
    """The sessions a person is scheduled with: the booked clinician's and the nurse's. Empty for
    patients, staff and anyone else, so every lookup through it is a 404 for them."""
    if not user.is_authenticated or user.role == Role.PATIENT:
        return TreatmentSession.objects.none()
    return TreatmentSession.objects.filter(Q(booking__clinician=user) | Q(nurse=user)).select_related(
        "plan", "plan__patient", "plan__protocol_version", "booking", "booking__clinician", "nurse"
    )


def is_prescriber(user: User, session: TreatmentSession) -> bool:
    booking = session.booking
    return user.role == Role.CLINICIAN and booking is not None and booking.clinician_id == user.pk


def is_session_nurse(user: User, session: TreatmentSession) -> bool:
    return user.role == Role.NURSE and session.nurse_id is not None and session.nurse_id == user.pk


def can_record_vitals(user: User, session: TreatmentSession) -> bool:
    """Readings, observations, adverse events and the discharge: the session's nurse or its
    prescriber."""
    return is_prescriber(user, session) or is_session_nurse(user, session)


def _require_prescriber(user: User, session: TreatmentSession) -> None:
    if not is_prescriber(user, session):
        raise NotAllowed("Only the prescribing clinician can do this.")


def _require_recorder(user: User, session: TreatmentSession) -> None:
    if not can_record_vitals(user, session):
        raise NotAllowed("Only the session's nurse or its prescribing clinician can record this.")


# Reading the record ---------------------------------------------------------------------------


def version_of(session: TreatmentSession) -> ProtocolVersion:
    return session.plan.protocol_version


def limits_of(version: ProtocolVersion) -> rules.HoldLimits:
    return rules.HoldLimits(
        systolic_max=version.hold_systolic_above,
        diastolic_max=version.hold_diastolic_above,
        heart_rate_max=version.hold_heart_rate_above,
        spo2_min=version.hold_spo2_below,
    )


def record_for(session: TreatmentSession) -> SessionRecord:
    now = timezone.now()
    record, _ = SessionRecord.objects.get_or_create(
        session=session, defaults={"created_at": now, "updated_at": now}
    )
    return record


def latest_vitals(record: SessionRecord, when: str) -> VitalSigns | None:
    return record.vitals.filter(when=when).order_by("-taken_at", "-id").first()


def reading_of(vitals: VitalSigns) -> rules.Reading:
    return rules.Reading(
        systolic=vitals.systolic, diastolic=vitals.diastolic, heart_rate=vitals.heart_rate, spo2=vitals.spo2
    )


def checklist_of(record: SessionRecord) -> list[tuple[str, str, bool]]:
    return [(name, label, bool(getattr(record, name))) for name, label in CHECKLIST]


def state_of(record: SessionRecord) -> rules.RecordState:
    version = version_of(record.session)
    pre = latest_vitals(record, VitalsWhen.PRE_DOSE)
    observed = set(record.observations.values_list("when", flat=True))
    taken = set(record.vitals.values_list("when", flat=True))
    return rules.RecordState(
        pre_dose=reading_of(pre) if pre else None,
        limits=limits_of(version),
        hold_reason=record.hold_reason,
        dose_mg=record.dose_mg,
        dose_in_range=record.dose_in_range,
        dose_reason=record.dose_reason,
        lot_number=record.lot_number,
        route=record.route,
        dosed_at=record.dosed_at,
        post_dose_vitals=VitalsWhen.POST_DOSE in taken,
        discharge_vitals=VitalsWhen.DISCHARGE in taken,
        post_dose_observation=ObservedWhen.POST_DOSE in observed,
        discharge_observation=ObservedWhen.DISCHARGE in observed,
        adverse_events_answered=record.no_adverse_events or record.adverse_events.exists(),
        discharged_at=record.discharged_at,
        discharged_by=record.discharged_by_id is not None,
        checklist={label: done for _, label, done in checklist_of(record)},
        minimum_minutes=version.observation_minutes,
        at_home=version.at_home,
        supervisor_confirmed=record.supervisors.exists(),
    )


def missing(record: SessionRecord) -> list[str]:
    return rules.missing_before_signing(state_of(record))


@dataclass(frozen=True)
class Clock:
    dosed_at: dt.datetime | None
    minutes: int
    minimum: int
    ended: bool

    @property
    def may_discharge(self) -> bool:
        return self.dosed_at is not None and self.minutes >= self.minimum


def clock_of(record: SessionRecord, now: dt.datetime | None = None) -> Clock:
    """The observation clock: it stops at the discharge."""
    now = now or timezone.now()
    minimum = version_of(record.session).observation_minutes
    if record.dosed_at is None:
        return Clock(None, 0, minimum, ended=False)
    end = record.discharged_at or now
    return Clock(
        record.dosed_at,
        rules.minutes_observed(record.dosed_at, end),
        minimum,
        record.discharged_at is not None,
    )


def is_esketamine(session: TreatmentSession) -> bool:
    return version_of(session).route == Route.INTRANASAL_ESKETAMINE


@dataclass(frozen=True)
class RemsStatus:
    due_by: dt.datetime
    days_left: int
    submitted_by: User | None
    submitted_at: dt.datetime | None

    @property
    def overdue_days(self) -> int:
        return max(0, -self.days_left)


def rems_status(record: SessionRecord, now: dt.datetime | None = None) -> RemsStatus | None:
    """For a signed esketamine record: when its monitoring form is due, and whether (by whom,
    when) staff marked it submitted. None for any other record."""
    if not record.is_signed or not is_esketamine(record.session):
        return None
    now = now or timezone.now()
    session_day = record.dosed_at or record.signed_at
    assert session_day is not None
    due_by = session_day + REMS_DEADLINE
    submission = RemsSubmission.objects.filter(record=record).select_related("submitted_by").first()
    days_left = (due_by.date() - now.date()).days
    if submission is None:
        return RemsStatus(due_by, days_left, None, None)
    return RemsStatus(due_by, days_left, submission.submitted_by, submission.submitted_at)


def rems_forms_waiting() -> int:
    """Signed esketamine records whose monitoring form no staff member has marked submitted."""
    return SessionRecord.objects.filter(
        signed_at__isnull=False, route=Route.INTRANASAL_ESKETAMINE, rems_submission__isnull=True
    ).count()


# Writes ---------------------------------------------------------------------------------------


def _open_record(session: TreatmentSession) -> SessionRecord:
    """The record, locked for this transaction, refusing writes once it is signed."""
    record = SessionRecord.objects.select_for_update().get(pk=record_for(session).pk)
    if record.is_signed:
        raise RecordError("The record is signed: add an addendum instead.")
    if session.status == SessionStatus.SCHEDULED:
        TreatmentSession.objects.filter(pk=session.pk).update(status=SessionStatus.IN_PROGRESS)
        session.status = SessionStatus.IN_PROGRESS
    return record


def _touch(record: SessionRecord, *fields: str) -> None:
    record.updated_at = timezone.now()
    record.save(update_fields=[*fields, "updated_at"])


def _not_future(at: dt.datetime) -> None:
    # A late reading keeps its real, earlier time; a time still to come is a typing slip.
    if at > timezone.now() + dt.timedelta(minutes=1):
        raise RecordError("That time is still to come: enter the time the reading was taken.")


def _audit(
    action: Action, actor: User, session: TreatmentSession, subject: object, via: Via | None, reason: str = ""
) -> None:
    audit_record(
        action=action,
        actor=actor,
        subject=subject,  # type: ignore[arg-type]
        patient=session.plan.patient,
        via=via,
        reason=reason,
    )


@transaction.atomic
def do_record_vitals(
    *,
    actor: User,
    session: TreatmentSession,
    when: VitalsWhen,
    taken_at: dt.datetime,
    systolic: int,
    diastolic: int,
    heart_rate: int,
    spo2: int,
    via: Via | None = None,
) -> VitalSigns:
    _require_recorder(actor, session)
    record = _open_record(session)
    _not_future(taken_at)
    if when != VitalsWhen.PRE_DOSE and record.dosed_at is None and when != VitalsWhen.OTHER:
        raise RecordError("Record the dose first: this reading is taken after dosing.")
    if when == VitalsWhen.PRE_DOSE and record.dosed_at is not None:
        raise RecordError("The dose is recorded: a later reading is not a pre-dose one.")
    if systolic <= diastolic:
        raise RecordError("Systolic pressure must be higher than diastolic.")
    vitals = VitalSigns.objects.create(
        record=record,
        when=when,
        taken_at=taken_at,
        systolic=systolic,
        diastolic=diastolic,
        heart_rate=heart_rate,
        spo2=spo2,
        recorded_by=actor,
        recorded_at=timezone.now(),
    )
    _touch(record)
    _audit(Action.SESSION_VITALS, actor, session, vitals, via, reason=when)
    return vitals


@transaction.atomic
def do_record_observation(
    *,
    actor: User,
    session: TreatmentSession,
    when: ObservedWhen,
    taken_at: dt.datetime,
    moaas: int,
    cadss_form: CadssForm,
    cadss_score: int,
    spo2: int,
    respiratory_event: bool,
    respiratory_note: str = "",
    via: Via | None = None,
) -> Observation:
    _require_recorder(actor, session)
    record = _open_record(session)
    _not_future(taken_at)
    if record.dosed_at is None:
        raise RecordError("Record the dose first: sedation and dissociation are observed after dosing.")
    if respiratory_event and not respiratory_note.strip():
        raise RecordError("Describe the respiratory event.")
    observation = Observation.objects.create(
        record=record,
        when=when,
        taken_at=taken_at,
        moaas=moaas,
        cadss_form=cadss_form,
        cadss_score=cadss_score,
        spo2=spo2,
        respiratory_event=respiratory_event,
        respiratory_note=respiratory_note.strip(),
        recorded_by=actor,
        recorded_at=timezone.now(),
    )
    _touch(record)
    _audit(Action.SESSION_OBSERVED, actor, session, observation, via, reason=when)
    return observation


@transaction.atomic
def do_record_dose(
    *,
    actor: User,
    session: TreatmentSession,
    dose_mg: Decimal,
    lot_number: str = "",
    lot: Lot | None = None,
    dosed_at: dt.datetime,
    hold_reason: str = "",
    dose_reason: str = "",
    sedating_comedications: str = "",
    via: Via | None = None,
) -> SessionRecord:
    """The dose given. Refused without pre-dose vitals, and — unless the prescriber writes why —
    when those vitals are outside the protocol's limits or the dose is outside its range."""
    _require_prescriber(actor, session)
    record = _open_record(session)
    if record.dosed_at is not None:
        raise RecordError("The dose is already recorded.")
    if version_of(session).at_home and not record.supervisors.exists():
        raise RecordError("Confirm on camera the adult who stays with the patient before dosing.")
    _not_future(dosed_at)
    booking = session.booking
    assert booking is not None
    licence = actor.licences.filter(jurisdiction=booking.jurisdiction).first()
    if licence is None or not licence.covers(booking.start, booking.end):
        raise RecordError("You hold no verified licence where this patient is being treated.")
    pre = latest_vitals(record, VitalsWhen.PRE_DOSE)
    if pre is None:
        raise RecordError("Record the pre-dose vital signs first.")
    if dosed_at < pre.taken_at:
        raise RecordError("The dose time is before the pre-dose reading.")
    version = version_of(session)
    held = rules.hold_problems(reading_of(pre), limits_of(version))
    if held and not hold_reason.strip():
        raise RecordError(
            "The pre-dose reading is outside the protocol's limits: write why the dose is given.", held
        )
    plan = session.plan
    check = rules.check_dose(
        dose_mg=dose_mg,
        weight_kg=plan.weight_kg,
        low=version.dose_min,
        high=version.dose_max,
        unit=version.dose_unit,
    )
    if not check.in_range and not dose_reason.strip():
        raise RecordError(
            "The dose is outside the protocol's range: write why.",
            [check.describe(version.dose_min, version.dose_max)],
        )
    if lot is not None:
        lot_number = lot.lot_number
    elif Lot.objects.exists():
        raise RecordError("Choose the lot from the register.")
    if not lot_number.strip():
        raise RecordError("Enter the lot number.")
    record.dose_mg = dose_mg
    record.dose_mg_per_kg = check.per_kg
    record.dose_in_range = check.in_range
    record.dose_reason = dose_reason.strip() if not check.in_range else ""
    record.hold_reason = hold_reason.strip() if held else ""
    record.lot_number = lot_number.strip()
    record.register_lot = lot
    record.sedating_comedications = sedating_comedications.strip()
    record.route = version.route
    record.dosed_at = dosed_at
    record.dosed_by = actor
    _touch(record, *DOSE_FIELDS)
    reason = "in_range" if check.in_range else "out_of_range"
    _audit(Action.SESSION_DOSED, actor, session, record, via, reason=reason + (",held" if held else ""))
    return record


@transaction.atomic
def do_record_adverse_event(
    *,
    actor: User,
    session: TreatmentSession,
    kind: AdverseEventKind,
    severity: Severity,
    serious: bool,
    action_taken: str,
    outcome: str,
    noted_at: dt.datetime,
    via: Via | None = None,
) -> AdverseEvent:
    _require_recorder(actor, session)
    record = _open_record(session)
    _not_future(noted_at)
    if not action_taken.strip() or not outcome.strip():
        raise RecordError("Write the action taken and the outcome.")
    event = AdverseEvent.objects.create(
        record=record,
        kind=kind,
        severity=severity,
        serious=serious,
        action_taken=action_taken.strip(),
        outcome=outcome.strip(),
        noted_at=noted_at,
        recorded_by=actor,
        recorded_at=timezone.now(),
    )
    if record.no_adverse_events:
        record.no_adverse_events = False
        _touch(record, "no_adverse_events")
    _audit(Action.SESSION_ADVERSE_EVENT, actor, session, event, via, reason=f"{kind},{severity}")
    return event


@transaction.atomic
def do_record_no_adverse_events(
    *, actor: User, session: TreatmentSession, via: Via | None = None
) -> SessionRecord:
    _require_prescriber(actor, session)
    record = _open_record(session)
    if record.adverse_events.exists():
        raise RecordError("Adverse events are recorded for this session.")
    record.no_adverse_events = True
    _touch(record, "no_adverse_events")
    _audit(Action.SESSION_NO_ADVERSE_EVENTS, actor, session, record, via)
    return record


@transaction.atomic
def do_discharge(
    *, actor: User, session: TreatmentSession, checklist: dict[str, bool], via: Via | None = None
) -> SessionRecord:
    """Discharge now, never before the protocol's minimum observation time, with every item of
    the checklist confirmed."""
    _require_recorder(actor, session)
    record = _open_record(session)
    if record.discharged_at is not None:
        raise RecordError("The patient is already discharged.")
    now = timezone.now()
    minimum = version_of(session).observation_minutes
    if not rules.discharge_allowed(record.dosed_at, now, minimum):
        observed = rules.minutes_observed(record.dosed_at, now) if record.dosed_at else 0
        raise RecordError(f"Observed {observed} of {minimum} minutes: discharge is not allowed yet.")
    if not latest_vitals(record, VitalsWhen.DISCHARGE):
        raise RecordError("Record the vital signs before discharge first.")
    unticked = [label for name, label in CHECKLIST if not checklist.get(name)]
    if unticked:
        raise RecordError("Confirm every item of the discharge checklist.", unticked)
    assert record.dosed_at is not None
    for name, _ in CHECKLIST:
        setattr(record, name, True)
    record.discharged_at = now
    record.discharged_by = actor
    record.observation_minutes = rules.minutes_observed(record.dosed_at, now)
    _touch(record, "discharged_at", "discharged_by", "observation_minutes", *(name for name, _ in CHECKLIST))
    _audit(Action.SESSION_DISCHARGED, actor, session, record, via)
    return record


def record_administration(*, record: SessionRecord, actor: User, via: Via | None) -> None:
    """The signed dose enters the controlled-substance register of the lot's site (never typed
    twice), in the signing transaction: a dose the register refuses (an unknown lot, more than the
    lot holds) refuses the signature too, so no signed dose is missing from the register. A clinic
    that keeps no register records the typed lot number only."""
    lot = record.register_lot
    if lot is None:
        return
    assert record.dose_mg is not None and record.dosed_at is not None
    try:
        register_actions.do_record_administration(
            site=lot.site,
            lot=lot,
            quantity_mg=record.dose_mg,
            session_ref=record.session.public_id,
            patient=record.session.plan.patient,
            by=actor,
            at=record.dosed_at,
            via=via,
        )
    except register_actions.RegisterError as exc:
        raise RecordError(f"The register refused the dose: {exc.message}") from exc


@transaction.atomic
def do_sign(*, actor: User, session: TreatmentSession, via: Via | None = None) -> SessionRecord:
    _require_prescriber(actor, session)
    record = SessionRecord.objects.select_for_update().get(pk=record_for(session).pk)
    if record.is_signed:
        return record
    problems = missing(record)
    if problems:
        raise RecordError("The record cannot be signed yet.", problems)
    record.signed_at = timezone.now()
    record.signed_by = actor
    _touch(record, "signed_at", "signed_by")
    TreatmentSession.objects.filter(pk=session.pk).update(status=SessionStatus.DONE)
    session.status = SessionStatus.DONE
    _audit(Action.SESSION_SIGNED, actor, session, record, via)
    record_administration(record=record, actor=actor, via=via)
    return record


@transaction.atomic
def do_add_addendum(
    *, actor: User, session: TreatmentSession, text: str, via: Via | None = None
) -> SessionAddendum:
    _require_prescriber(actor, session)
    record = record_for(session)
    if not record.is_signed:
        raise RecordError("The record is not signed yet: record it directly.")
    text = text.strip()
    if not text:
        raise RecordError("Write the addendum.")
    addendum = SessionAddendum.objects.create(
        record=record, author=actor, text=text, created_at=timezone.now()
    )
    _audit(Action.SESSION_ADDENDUM, actor, session, addendum, via)
    return addendum


@transaction.atomic
def do_mark_rems_submitted(*, actor: User, record: SessionRecord, via: Via | None = None) -> RemsSubmission:
    if actor.role != Role.STAFF:
        raise NotAllowed("Only staff mark monitoring forms as submitted.")
    if rems_status(record) is None:
        raise RecordError("Only a signed esketamine session has a monitoring form.")
    submission, created = RemsSubmission.objects.get_or_create(
        record=record, defaults={"submitted_by": actor, "submitted_at": timezone.now()}
    )
    if created:
        _audit(Action.REMS_SUBMITTED, actor, record.session, record, via)
    return submission


__all__ = [
    "REMS_DEADLINE",
    "Clock",
    "DoseUnit",
    "NotAllowed",
    "RecordError",
    "RemsStatus",
    "can_record_vitals",
    "clock_of",
    "do_add_addendum",
    "do_discharge",
    "do_mark_rems_submitted",
    "do_record_adverse_event",
    "do_record_dose",
    "do_record_no_adverse_events",
    "do_record_observation",
    "do_record_vitals",
    "do_sign",
    "is_esketamine",
    "is_prescriber",
    "missing",
    "record_for",
    "rems_status",
    "sessions_for",
]


# At home, supervised over video ---------------------------------------------------------------

SUPERVISOR_NAME_LONGEST = 150


@transaction.atomic
def do_confirm_supervisor(
    *, actor: User, session: TreatmentSession, name: str, via: Via | None = None
) -> SupervisorConfirmation:
    """The clinician (or the session's nurse) watching an at-home session has seen on camera the
    adult who stays with the patient, who gave ``name``. Needed before the dose."""
    _require_recorder(actor, session)
    if not version_of(session).at_home:
        raise RecordError("Only a session at home has an adult to confirm on camera.")
    name = " ".join(name.split())
    if not name:
        raise RecordError("Write the name the adult gave on camera.")
    if len(name) > SUPERVISOR_NAME_LONGEST:
        raise RecordError(f"A name of at most {SUPERVISOR_NAME_LONGEST} characters, please.")
    record = _open_record(session)
    confirmed = SupervisorConfirmation.objects.create(
        record=record, name=name, confirmed_by=actor, confirmed_at=timezone.now()
    )
    _touch(record)
    _audit(Action.SESSION_SUPERVISOR_CONFIRMED, actor, session, confirmed, via)
    return confirmed


def may_enter_home_readings(user: User, session: TreatmentSession, now: dt.datetime | None = None) -> bool:
    """The session's own patient, at home, while its video visit is open and its record unsigned."""
    booking = session.booking
    return (
        user.is_authenticated
        and user.pk == session.plan.patient_id
        and version_of(session).at_home
        and booking is not None
        and booking.is_active
        and window_state(booking, now) == WindowState.OPEN
        and not record_for(session).is_signed
    )


@transaction.atomic
def do_enter_home_reading(
    *,
    patient: User,
    session: TreatmentSession,
    when: VitalsWhen,
    systolic: int,
    diastolic: int,
    heart_rate: int,
    spo2: int | None = None,
    via: Via | None = None,
) -> HomeReading:
    """A reading the patient took at home during their supervised session."""
    if not may_enter_home_readings(patient, session):
        raise NotAllowed("Readings can be entered only during your own session at home.")
    if systolic <= diastolic:
        raise RecordError("The first (top) number is higher than the second: please check them.")
    record = _open_record(session)
    reading = HomeReading.objects.create(
        record=record,
        when=when,
        systolic=systolic,
        diastolic=diastolic,
        heart_rate=heart_rate,
        spo2=spo2,
        entered_by=patient,
        entered_at=timezone.now(),
    )
    _touch(record)
    _audit(Action.SESSION_HOME_READING, patient, session, reading, via, reason=when)
    return reading
