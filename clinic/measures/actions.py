"""Repeated measures: scheduling check-ins for a course, sending them, answering them, and the
items that need a clinician's attention.

The layer above (care) calls down with plain values: the patient, an opaque ``course_ref`` (its
plan's public id), the course's local dates and the patient's zone. Measures never import care.

The emailed link (decided here): its token is random, only its SHA-256 is stored, it expires when
the check-in closes, a reminder replaces it, and it is single-use. It opens the check-in ONLY
after sign-in as the patient it was sent to: a forwarded or leaked email alone shows nothing.
Anyone else signed in gets the same "not found" as for a made-up token, and the token is not used
up by them.

Triage of answers is the intake's (INSTRUMENTS.md table), through the intake's own actions:
acute (ASQ 5 "yes") raises the intake's acute urgent item, which stops every booking path and is
what care checks before a session (``session_block``); ASQ 5 declined alerts the on-call clinician
at once; a non-acute positive ASQ or PHQ-9 item 9 ≥ 1 raises a same-day follow-up item. A partial
PHQ-9 has no total (never scored as zeros), but an answered item 9 still counts for triage.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from clinic.accounts.models import Role, User
from clinic.audit.actions import Via, audit_record
from clinic.audit.models import Action
from clinic.intake import actions as intake_actions
from clinic.intake import scoring
from clinic.intake.models import IntakeResponse, IntakeStatus, UrgentItem, UrgentKind
from clinic.mail import queue_email
from clinic.measures import definitions, instruments
from clinic.measures import schedule as plan_rules
from clinic.measures.models import (
    AttentionItem,
    CheckIn,
    CheckInStatus,
    Origin,
    Reason,
    Schedule,
)
from clinic.scheduling.models import Booking
from clinic.visits.access import access_reason

REMIND_AFTER = dt.timedelta(days=2)
MAX_REMINDERS = 2
NOTE_MIN = 5


class MeasuresError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def hash_token(token: str) -> str:
    return hashlib.sha256(f"checkin:{token}".encode()).hexdigest()


def _check_zone(zone: str) -> None:
    try:
        zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise MeasuresError(f"Unknown time zone {zone!r}.") from None


# Scheduling (called by care) ------------------------------------------------------------------


@transaction.atomic
def do_schedule_course(
    *,
    patient: User,
    course_ref: uuid.UUID,
    induction_start: dt.date,
    sessions: Sequence[dt.date],
    last_session: dt.date | None,
    zone: str,
    clinician: User | None = None,
    actor: User | None = None,
    via: Via | None = None,
) -> Schedule:
    """The course's check-ins by the default protocol (``schedule.plan``). Check-ins whose window
    has already closed are not created (they were never asked, so they cannot be missed). Calling
    it again for the same ``course_ref`` is a reschedule."""
    _check_zone(zone)
    existing = Schedule.objects.select_for_update().filter(course_ref=course_ref).first()
    if existing is not None:
        if existing.patient_id != patient.pk:
            raise MeasuresError("This course belongs to another patient.")
        return do_reschedule(
            course_ref=course_ref,
            sessions=sessions,
            last_session=last_session,
            induction_start=induction_start,
            actor=actor,
            via=via,
        )
    now = timezone.now()
    schedule = Schedule.objects.create(
        course_ref=course_ref,
        patient=patient,
        clinician=clinician,
        zone=zone,
        induction_start=induction_start,
        sessions=sorted({d.isoformat() for d in sessions}),
        last_session=last_session,
        created_at=now,
        updated_at=now,
    )
    created = _apply_plan(schedule, now)
    audit_record(
        action=Action.MEASURES_SCHEDULED,
        actor=actor,
        subject=schedule,
        patient=patient,
        via=via,
        reason=str(created),
    )
    return schedule


# An open-ended course (no last session yet) is planned this far ahead of today; every
# reschedule (care calls one whenever sessions change) plans ahead again from its day.
PLAN_AHEAD = dt.timedelta(weeks=12)


def _planned(schedule: Schedule, now: dt.datetime) -> list[plan_rules.Planned]:
    return plan_rules.plan(
        induction_start=schedule.induction_start,
        sessions=schedule.session_dates,
        last_session=schedule.last_session,
        horizon=_local_day(now, schedule.zone) + PLAN_AHEAD,
    )


def _apply_plan(schedule: Schedule, now: dt.datetime) -> int:
    """Bring the schedule's plan check-ins in line with its dates: not-yet-sent ones that the plan
    no longer has are withdrawn ("rescheduled", kept and shown), new days are added, a day whose
    instruments changed is updated while it is still unsent. Sent, answered and missed check-ins
    are history and never change. Returns how many were created."""
    wanted = {p.due_on: p for p in _planned(schedule, now)} if schedule.paused_at is None else {}
    current = {c.due_on: c for c in schedule.checkins.filter(origin=Origin.PLAN).exclude(status="withdrawn")}
    for day, checkin in current.items():
        if checkin.status != CheckInStatus.SCHEDULED:
            continue
        planned = wanted.get(day)
        if planned is None:
            checkin.status = CheckInStatus.WITHDRAWN
            checkin.withdrawn_reason = "paused" if schedule.paused_at else "rescheduled"
            checkin.save(update_fields=["status", "withdrawn_reason"])
        elif list(planned.instruments) != checkin.instruments:
            checkin.instruments = list(planned.instruments)
            checkin.purposes = list(planned.purposes)
            checkin.closes_at = plan_rules.close_moment(day, planned.instruments, schedule.zone)
            checkin.save(update_fields=["instruments", "purposes", "closes_at"])
    created = 0
    for day, planned in wanted.items():
        if day in current:
            continue
        closes = plan_rules.close_moment(day, planned.instruments, schedule.zone)
        if closes <= now:
            continue
        CheckIn.objects.create(
            schedule=schedule,
            patient=schedule.patient,
            origin=Origin.PLAN,
            purposes=list(planned.purposes),
            instruments=list(planned.instruments),
            due_on=day,
            send_after=plan_rules.send_moment(day, schedule.zone),
            closes_at=closes,
            created_at=now,
        )
        created += 1
    return created


def _schedule_for(course_ref: uuid.UUID) -> Schedule:
    schedule = Schedule.objects.select_for_update().filter(course_ref=course_ref).first()
    if schedule is None:
        raise MeasuresError("No check-ins are scheduled for this course.")
    return schedule


@transaction.atomic
def do_reschedule(
    *,
    course_ref: uuid.UUID,
    sessions: Sequence[dt.date],
    last_session: dt.date | None,
    induction_start: dt.date | None = None,
    zone: str | None = None,
    actor: User | None = None,
    via: Via | None = None,
) -> Schedule:
    """The course's sessions changed (or the patient's zone did): future unsent check-ins follow
    the new dates, and are sent at 09:00 in the new zone."""
    schedule = _schedule_for(course_ref)
    now = timezone.now()
    if zone is not None and zone != schedule.zone:
        _check_zone(zone)
        schedule.zone = zone
        schedule.save(update_fields=["zone"])
        for checkin in schedule.checkins.filter(status=CheckInStatus.SCHEDULED):
            checkin.send_after = plan_rules.send_moment(checkin.due_on, zone)
            checkin.closes_at = plan_rules.close_moment(checkin.due_on, checkin.instruments, zone)
            checkin.save(update_fields=["send_after", "closes_at"])
    schedule.sessions = sorted({d.isoformat() for d in sessions})
    schedule.last_session = last_session
    if induction_start is not None:
        schedule.induction_start = induction_start
    schedule.updated_at = now
    schedule.save(update_fields=["sessions", "last_session", "induction_start", "updated_at"])
    created = _apply_plan(schedule, now)
    audit_record(
        action=Action.MEASURES_RESCHEDULED,
        actor=actor,
        subject=schedule,
        patient=schedule.patient,
        via=via,
        reason=str(created),
    )
    return schedule


@transaction.atomic
def do_pause(
    *, course_ref: uuid.UUID, paused: bool = True, actor: User | None = None, via: Via | None = None
) -> Schedule:
    """Pause the course's check-ins (unsent ones are withdrawn as "paused", and shown so) or
    resume them (the plan is applied again from now)."""
    schedule = _schedule_for(course_ref)
    now = timezone.now()
    schedule.paused_at = now if paused else None
    schedule.updated_at = now
    schedule.save(update_fields=["paused_at", "updated_at"])
    _apply_plan(schedule, now)
    audit_record(
        action=Action.MEASURES_PAUSED,
        actor=actor,
        subject=schedule,
        patient=schedule.patient,
        via=via,
        reason="paused" if paused else "resumed",
    )
    return schedule


ADDABLE = ("mood", "side_effects", "monthly")
ADDABLE_INSTRUMENTS = {
    "mood": plan_rules.MOOD,
    "side_effects": plan_rules.SIDE_EFFECTS,
    "monthly": plan_rules.MONTHLY,
}


@transaction.atomic
def do_add_checkin(
    *, clinician: User, schedule: Schedule, due_on: dt.date, what: str, via: Via | None = None
) -> CheckIn:
    """An extra check-in a clinician asks for, due on a local date from today on."""
    if what not in ADDABLE_INSTRUMENTS:
        raise MeasuresError("Choose what the check-in asks.")
    today = timezone.now().astimezone(zoneinfo.ZoneInfo(schedule.zone)).date()
    if due_on < today:
        raise MeasuresError("Choose today or a later date.")
    keys = ADDABLE_INSTRUMENTS[what]
    now = timezone.now()
    checkin = CheckIn.objects.create(
        schedule=schedule,
        patient=schedule.patient,
        origin=Origin.CLINICIAN,
        purposes=["extra"],
        instruments=list(keys),
        due_on=due_on,
        send_after=max(now, plan_rules.send_moment(due_on, schedule.zone)) if due_on > today else now,
        closes_at=plan_rules.close_moment(due_on, keys, schedule.zone),
        created_at=now,
    )
    audit_record(
        action=Action.CHECKIN_ADDED, actor=clinician, subject=checkin, patient=schedule.patient, via=via
    )
    return checkin


@transaction.atomic
def do_withdraw_checkin(*, clinician: User, checkin: CheckIn, via: Via | None = None) -> CheckIn:
    """A clinician pauses one check-in that has not been answered: it stays on the list as paused."""
    checkin = CheckIn.objects.select_for_update().get(pk=checkin.pk)
    if not checkin.is_open:
        raise MeasuresError("Only a check-in that is still open can be paused.")
    checkin.status = CheckInStatus.WITHDRAWN
    checkin.withdrawn_reason = "paused_by_clinician"
    checkin.save(update_fields=["status", "withdrawn_reason"])
    audit_record(
        action=Action.CHECKIN_WITHDRAWN, actor=clinician, subject=checkin, patient=checkin.patient, via=via
    )
    return checkin


# Sending (the worker's sweep) -----------------------------------------------------------------


def _claim_and_email(checkin_id: int, *, now: dt.datetime, reminder: bool) -> bool:
    """Claim one send or reminder with a conditional UPDATE in the transaction that queues its
    email: two workers cannot both claim it, and a crash before the commit leaves neither."""
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        if reminder:
            row = CheckIn.objects.filter(pk=checkin_id).values("reminders_sent").first()
            if row is None:
                return False
            n = row["reminders_sent"]
            claimed = CheckIn.objects.filter(
                pk=checkin_id,
                status=CheckInStatus.SENT,
                reminders_sent=n,
                reminders_sent__lt=MAX_REMINDERS,
                last_emailed_at__lte=now - REMIND_AFTER,
                closes_at__gt=now,
            ).update(
                reminders_sent=n + 1, last_emailed_at=now, token_hash=hash_token(token), token_used_at=None
            )
        else:
            claimed = CheckIn.objects.filter(
                pk=checkin_id, status=CheckInStatus.SCHEDULED, send_after__lte=now, closes_at__gt=now
            ).update(
                status=CheckInStatus.SENT,
                sent_at=now,
                last_emailed_at=now,
                token_hash=hash_token(token),
                token_used_at=None,
            )
        if not claimed:
            return False
        checkin = CheckIn.objects.select_related("patient").get(pk=checkin_id)
        CheckIn.objects.filter(pk=checkin_id).update(token_expires_at=checkin.closes_at)
        audit_record(
            action=Action.CHECKIN_REMINDED if reminder else Action.CHECKIN_SENT,
            subject=checkin,
            patient=checkin.patient,
            reason=str(checkin.reminders_sent) if reminder else "",
        )
        queue_email(
            "measures/email/checkin",
            refs={"checkin": str(checkin.public_id), "reminder": "1" if reminder else "0"},
            secrets={"token": token},
        )
    return True


def _mark_missed(checkin_id: int, *, now: dt.datetime) -> bool:
    with transaction.atomic():
        claimed = CheckIn.objects.filter(
            pk=checkin_id, status__in=[CheckInStatus.SCHEDULED, CheckInStatus.SENT], closes_at__lte=now
        ).update(status=CheckInStatus.MISSED)
        if not claimed:
            return False
        checkin = CheckIn.objects.select_related("patient", "schedule").get(pk=checkin_id)
        audit_record(action=Action.CHECKIN_MISSED, subject=checkin, patient=checkin.patient)
        _raise(checkin, Reason.MISSED, notify=False)
    return True


def sweep_checkins(now: dt.datetime | None = None) -> dict[str, int]:
    """Send what is due, remind after 2 days (at most twice), mark closed ones missed. Each step
    is claimed row by row (``_claim_and_email``, ``_mark_missed``), so exactly once however many
    workers sweep. A paused course's unsent check-ins are withdrawn, never sent."""
    now = now or timezone.now()
    counts = {"sent": 0, "reminded": 0, "missed": 0}
    for pk in list(
        CheckIn.objects.filter(status=CheckInStatus.SCHEDULED, send_after__lte=now, closes_at__gt=now)
        .order_by("send_after")
        .values_list("pk", flat=True)
    ):
        counts["sent"] += _claim_and_email(pk, now=now, reminder=False)
    for pk in list(
        CheckIn.objects.filter(
            status=CheckInStatus.SENT,
            reminders_sent__lt=MAX_REMINDERS,
            last_emailed_at__lte=now - REMIND_AFTER,
            closes_at__gt=now,
        ).values_list("pk", flat=True)
    ):
        counts["reminded"] += _claim_and_email(pk, now=now, reminder=True)
    for pk in list(
        CheckIn.objects.filter(
            status__in=[CheckInStatus.SCHEDULED, CheckInStatus.SENT], closes_at__lte=now
        ).values_list("pk", flat=True)
    ):
        counts["missed"] += _mark_missed(pk, now=now)
    return counts


# Opening and answering ------------------------------------------------------------------------


class LinkProblem(Exception):
    """``gone``: the link was real but is used up or expired (the patient is told how to reach the
    check-in from their page); otherwise it is unknown (404)."""

    def __init__(self, *, gone: bool) -> None:
        super().__init__("gone" if gone else "unknown")
        self.gone = gone


@transaction.atomic
def do_open_link(*, patient: User, token: str, via: Via | None = None) -> CheckIn:
    """The signed-in patient opens their emailed link: the token is used up and the check-in
    returned. Another person's token is "unknown" and stays unused."""
    if not token or len(token) > 100:
        raise LinkProblem(gone=False)
    checkin = CheckIn.objects.select_for_update().filter(token_hash=hash_token(token)).first()
    if checkin is None or checkin.patient_id != patient.pk:
        raise LinkProblem(gone=False)
    now = timezone.now()
    if (
        checkin.token_used_at is not None
        or not checkin.is_open
        or checkin.token_expires_at is None
        or checkin.token_expires_at <= now
    ):
        raise LinkProblem(gone=True)
    checkin.token_used_at = now
    checkin.save(update_fields=["token_used_at"])
    audit_record(action=Action.CHECKIN_LINK_USED, actor=patient, subject=checkin, patient=patient, via=via)
    return checkin


def answerable(checkin: CheckIn, now: dt.datetime | None = None) -> bool:
    """Open for answers: sent (or due and not yet swept) and not closed."""
    now = now or timezone.now()
    return checkin.is_open and checkin.send_after <= now < checkin.closes_at


@dataclass(frozen=True)
class Answered:
    checkin: CheckIn
    triage: scoring.Triage
    acute: bool


def _item9(answers: dict[str, Any]) -> int:
    value = answers.get("phq9_9")
    return int(value) if value in {"0", "1", "2", "3"} else 0


def _triage(asq: scoring.AsqResult | None, phq: scoring.PhqResult | None, item9: int) -> scoring.Triage:
    """The intake's ``scoring.triage``. It reads only item 9 of the PHQ-9, so a partial PHQ-9 with
    item 9 answered is triaged on that item (its missing total is not needed, and not made up)."""
    asq = asq or scoring.AsqResult(result=scoring.AsqOutcome.NEGATIVE, needs_q5=False, declined=False)
    phq = phq or scoring.PhqResult(total=0, band=scoring.Band.MINIMAL, item9=item9, difficulty=None)
    return scoring.triage(phq, asq)


@transaction.atomic
def do_answer(
    *, patient: User, checkin: CheckIn, answers: dict[str, Any], via: Via | None = None
) -> Answered:
    """Score, triage and store one check-in's answers (encrypted), then raise what needs a
    clinician. Only what the check-in asked is kept. The ASQ must be complete (it decides safety);
    PHQ-9 and GAD-7 items may be skipped, and then that instrument has no total."""
    checkin = CheckIn.objects.select_for_update().select_related("schedule").get(pk=checkin.pk)
    if checkin.patient_id != patient.pk:
        raise MeasuresError("This check-in is not yours.")
    if checkin.status == CheckInStatus.ANSWERED:
        raise MeasuresError(
            "This check-in has already been sent. Thank you: there is nothing more to do here."
        )
    if not answerable(checkin):
        raise MeasuresError("This check-in is closed.")
    asked = {item.key for key in checkin.instruments for item in instruments.current(key).items}
    kept = {k: v for k, v in answers.items() if k in asked and v not in (None, "")}
    asq = phq = gad = None
    try:
        if "asq" in checkin.instruments:
            asq = scoring.score_asq(kept)
        if "phq9" in checkin.instruments:
            try:
                phq = scoring.score_phq9(kept)
            except scoring.IncompleteError:
                phq = None  # a partial form has no total (INSTRUMENTS.md)
        if "gad7" in checkin.instruments:
            try:
                gad = scoring.score_gad7(kept)
            except scoring.IncompleteError:
                gad = None
    except scoring.IncompleteError as exc:
        raise MeasuresError("Some questions are still unanswered: " + ", ".join(exc.missing)) from None
    except scoring.InvalidAnswerError as exc:
        raise MeasuresError(f"An answer is not one of the choices ({exc.key}).") from None
    for key in checkin.instruments:
        if key in instruments.INTAKE_KEYS:
            continue
        for item in instruments.current(key).items:
            value = kept.get(item.key)
            if item.choices and value is not None and value not in {c.value for c in item.choices}:
                raise MeasuresError(f"An answer is not one of the choices ({item.key}).")
            if item.required and item.choices and value is None:
                raise MeasuresError("Some questions are still unanswered: " + item.key)
    now = timezone.now()
    item9 = phq.item9 if phq else _item9(kept)
    level = _triage(asq, phq, item9)
    checkin.set_answers(kept)
    checkin.versions = {key: instruments.current(key).version for key in checkin.instruments}
    checkin.definitions_version = definitions.CURRENT.version
    if "phq9" in checkin.instruments:
        checkin.phq9_total = phq.total if phq else None
        checkin.phq9_partial = phq is None
        checkin.phq9_item9 = phq.item9 if phq else (int(kept["phq9_9"]) if "phq9_9" in kept else None)
    checkin.gad7_total = gad.total if gad else None
    checkin.asq_result = str(asq.result) if asq else ""
    checkin.triage = str(level)
    checkin.auditc_total = instruments.auditc_total(kept) if "auditc" in checkin.instruments else None
    checkin.status = CheckInStatus.ANSWERED
    checkin.answered_at = now
    checkin.save()  # the link's hash stays: opening it again says "used", not "unknown"
    audit_record(
        action=Action.CHECKIN_ANSWERED, actor=patient, subject=checkin, patient=patient, via=via, reason=level
    )
    acute = asq is not None and asq.result == scoring.AsqOutcome.ACUTE
    if acute:
        intake_actions.do_raise_urgent(patient=patient, kind=UrgentKind.ACUTE_SCREEN, via=via)
    elif asq is not None and asq.q5_declined:
        intake_actions.do_raise_urgent(patient=patient, kind=UrgentKind.DECLINED_Q5, via=via)
    elif level == scoring.Triage.SAFETY_FIRST:
        intake_actions.do_raise_urgent(patient=patient, kind=UrgentKind.FOLLOW_UP, via=via)
    if level != scoring.Triage.ROUTINE:
        _raise(checkin, Reason.POSITIVE_SCREEN)
    if phq is not None:
        point = _point_of(checkin)
        if point is not None and point.relapse_watch:
            _raise(checkin, Reason.RELAPSE_WATCH)
        if point is not None and point.worsening:
            _raise(checkin, Reason.WORSENING)
    if "side_effects" in checkin.instruments and instruments.yes_items(
        instruments.current("side_effects"), kept
    ):
        _raise(checkin, Reason.ADVERSE_EVENT)
    if "bladder" in checkin.instruments and instruments.yes_items(instruments.current("bladder"), kept):
        _raise(checkin, Reason.BLADDER)
    if kept.get("drug_use_1") not in (None, "0"):
        _raise(checkin, Reason.DRUG_USE)
    return Answered(checkin=checkin, triage=level, acute=acute)


def _raise(checkin: CheckIn, reason: Reason, *, notify: bool = True) -> AttentionItem | None:
    try:
        with transaction.atomic():
            item = AttentionItem.objects.create(
                patient=checkin.patient,
                schedule=checkin.schedule,
                checkin=checkin,
                reason=reason,
                definitions_version=definitions.CURRENT.version,
                created_at=timezone.now(),
            )
    except IntegrityError:
        return None  # already raised for this check-in
    audit_record(action=Action.ATTENTION_RAISED, subject=item, patient=checkin.patient, reason=reason)
    clinician = checkin.schedule.clinician
    if notify and clinician is not None and clinician.is_active:
        queue_email("measures/email/attention", refs={"user": str(clinician.public_id)})
    return item


def session_block(patient: User) -> UrgentItem | None:
    """For the layer above (care refuses a treatment session on it): the patient's acute screen,
    from a check-in or the intake, that no clinician has acknowledged yet."""
    return intake_actions.booking_block(patient)


# Series and rules -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SeriesPoint:
    day: dt.date
    phq9: int | None
    gad7: int | None
    item9: int | None
    source: str  # "check-in" or "intake"
    checkin: CheckIn | None


def _local_day(moment: dt.datetime, zone: str) -> dt.date:
    return moment.astimezone(zoneinfo.ZoneInfo(zone)).date()


def series(schedule: Schedule) -> list[SeriesPoint]:
    """The course's PHQ-9 and GAD-7 over time, on the patient's local answer dates (stable order:
    same-day forms stay in answer order): the intake's forms up to the start of induction (the
    baseline can be one), then every answered check-in that asked the PHQ-9."""
    points: list[SeriesPoint] = []
    for intake in IntakeResponse.objects.filter(
        patient=schedule.patient, status=IntakeStatus.SUBMITTED, submitted_at__isnull=False
    ).order_by("submitted_at"):
        assert intake.submitted_at is not None
        day = _local_day(intake.submitted_at, schedule.zone)
        if day <= schedule.induction_start:
            points.append(
                SeriesPoint(day, intake.phq9_total, intake.gad7_total, intake.phq9_item9, "intake", None)
            )
    for checkin in schedule.checkins.filter(status=CheckInStatus.ANSWERED).order_by("answered_at"):
        if not checkin.asks_mood:
            continue
        assert checkin.answered_at is not None
        points.append(
            SeriesPoint(
                _local_day(checkin.answered_at, schedule.zone),
                checkin.phq9_total,
                checkin.gad7_total,
                checkin.phq9_item9,
                "check-in",
                checkin,
            )
        )
    points.sort(key=lambda p: p.day)
    return points


def evaluate(schedule: Schedule, points: list[SeriesPoint] | None = None) -> definitions.Evaluation:
    """The rules over the course's series (``points``: ``series(schedule)``, in its order)."""
    points = series(schedule) if points is None else points
    measures = [definitions.Measure(p.day, p.phq9) for p in points]
    return definitions.evaluate(measures, schedule.first_session)


def _point_of(checkin: CheckIn) -> definitions.Point | None:
    points = series(checkin.schedule)
    evaluation = evaluate(checkin.schedule, points)
    for point, evaluated in zip(points, evaluation.points, strict=True):
        if point.checkin is not None and point.checkin.pk == checkin.pk:
            return evaluated
    return None


# Access and reads -----------------------------------------------------------------------------


def read_reason(user: User, patient: User) -> str | None:
    """Why ``user`` may read this patient's measures, or None: the patient themselves, a clinician
    with the relationship the visits app recognises (booked, on call for an urgent item,
    break-glass), or the clinician care named for the course. Staff never."""
    reason = access_reason(user, patient.pk)
    if reason is not None:
        return reason
    if user.role == Role.CLINICIAN and Schedule.objects.filter(patient=patient, clinician=user).exists():
        return "course clinician"
    return None


def record_read(*, reader: User, patient: User, subject: Any = None, reason: str, via: Via | None) -> None:
    with transaction.atomic():
        audit_record(
            action=Action.MEASURES_VIEWED,
            actor=reader,
            subject=subject,
            patient=patient,
            via=via,
            reason=reason,
        )


def patients_of(clinician: User) -> Q:
    """The patients whose items this clinician's dashboard lists: booked with them, or in a course
    care named them for."""
    booked = Booking.objects.filter(clinician=clinician).values("patient_id")
    named = Schedule.objects.filter(clinician=clinician).values("patient_id")
    return Q(patient_id__in=booked) | Q(patient_id__in=named)


def attention_for(clinician: User) -> list[AttentionItem]:
    """The open needs-attention items of this clinician's patients, newest first. The caller
    audits the read (the dashboard's one row names every patient listed)."""
    return list(
        AttentionItem.objects.filter(patients_of(clinician), acknowledged_at__isnull=True)
        .select_related("patient", "checkin", "schedule")
        .order_by("-created_at")[:100]
    )


def explain(item: AttentionItem) -> str:
    """The reason in words, from the figures on the check-in (nothing typed)."""
    c = item.checkin
    reason = Reason(item.reason)
    if reason == Reason.MISSED:
        return f"Check-in due {c.due_on:%b} {c.due_on.day} was not answered."
    if reason == Reason.POSITIVE_SCREEN:
        parts = []
        if c.asq_result and c.asq_result != scoring.AsqOutcome.NEGATIVE:
            parts.append("ASQ " + c.asq_result.replace("_", " "))
        if c.phq9_item9:
            parts.append(f"PHQ-9 item 9 = {c.phq9_item9}")
        return "Positive screen: " + (", ".join(parts) or c.triage.replace("_", " ")) + "."
    if reason in (Reason.RELAPSE_WATCH, Reason.WORSENING):
        evaluation = evaluate(item.schedule)
        if reason == Reason.RELAPSE_WATCH:
            return (
                f"PHQ-9 {c.phq9_total} after a response; baseline {evaluation.baseline} "
                f"(rules v{item.definitions_version})."
            )
        previous = None
        for p in series(item.schedule):
            if p.checkin is not None and p.checkin.pk == c.pk:
                break
            if p.phq9 is not None:
                previous = p.phq9
        return f"PHQ-9 rose from {previous} to {c.phq9_total} (rules v{item.definitions_version})."
    if reason == Reason.ADVERSE_EVENT:
        said = instruments.yes_items(instruments.current("side_effects"), c.answers)
        return "After a session: " + ", ".join(i.text.lower() for i in said) + "."
    if reason == Reason.BLADDER:
        said = instruments.yes_items(instruments.current("bladder"), c.answers)
        return "Bladder: " + ", ".join(i.text.lower() for i in said) + "."
    return "Drug use reported in the past year."


@transaction.atomic
def do_acknowledge(
    *, clinician: User, item: AttentionItem, note: str, via: Via | None = None
) -> AttentionItem:
    """The clinician records what they did (a written note, encrypted). The first one counts."""
    note = note.strip()
    if len(note) < NOTE_MIN:
        raise MeasuresError("Write what you did (for example: called, plan agreed).")
    if len(note) > 2000:
        raise MeasuresError("Keep the note under 2000 characters.")
    item = AttentionItem.objects.select_for_update().get(pk=item.pk)
    if item.acknowledged_at is None:
        item.acknowledged_by = clinician
        item.acknowledged_at = timezone.now()
        item.note = note
        item.save(update_fields=["acknowledged_by", "acknowledged_at", "note"])
        audit_record(
            action=Action.ATTENTION_ACKNOWLEDGED, actor=clinician, subject=item, patient=item.patient, via=via
        )
    return item
