"""Intake: drafts, submission, triage, urgent items, and who may read an intake.

Safety rules (DESIGN.md rule 1, INSTRUMENTS.md triage table):
- acute (ASQ question 5 "yes"): the intake stops, an urgent item is raised for the on-call
  clinician and they are emailed at once (no health data in the email); until a clinician
  acknowledges it, no booking can be made or confirmed by any path (``booking_block``);
- ASQ question 5 declined: acute for alerting (the on-call clinician is told at once to call);
  the patient may still book, marked "safety assessment first";
- safety assessment first (ASQ non-acute positive, or PHQ-9 item 9 ≥ 1): a same-day follow-up
  item for the on-call clinician whether or not a booking follows; booking allowed and marked;
- routine: on to confirmation.
The level that counts is the latest screen's: every finished screen is announced to the layer
above (``journey.current().screened``), which re-marks the patient's future bookings.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from clinic.accounts.models import PatientProfile, User
from clinic.audit.actions import Via, audit_record
from clinic.audit.models import Action
from clinic.intake import instruments, journey, scoring
from clinic.intake.models import IntakeResponse, IntakeStatus, TriageLevel, UrgentItem, UrgentKind
from clinic.mail import queue_email

FRESH_FOR = dt.timedelta(days=14)  # a PHQ-9 older than this at booking time is repeated
CONSENT_VERSION = "2026-11"


class IntakeError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def fresh_intake(patient: User, now: dt.datetime | None = None) -> IntakeResponse | None:
    """The patient's latest submitted intake, if it is recent enough to book on."""
    now = now or timezone.now()
    return (
        IntakeResponse.objects.filter(
            patient=patient, status=IntakeStatus.SUBMITTED, submitted_at__gte=now - FRESH_FOR
        )
        .order_by("-submitted_at")
        .first()
    )


def screen_for_booking(patient: User, now: dt.datetime | None = None) -> IntakeResponse | None:
    """The screen a booking rests on: the patient's LATEST finished screen, when it is a
    complete questionnaire recent enough. None means "fill in the questionnaire (again)": an
    older complete one never stands in for a newer stopped one."""
    now = now or timezone.now()
    latest = latest_screen(patient)
    if latest is None or latest.status != IntakeStatus.SUBMITTED or latest.submitted_at is None:
        return None
    if latest.submitted_at < now - FRESH_FOR:
        return None
    return latest


def needs_safety_first(patient: User, now: dt.datetime | None = None) -> bool:
    """Whether a booking for this patient opens with the safety assessment: the latest screen is
    not routine, or any screen of the last ``FRESH_FOR`` was. The second half is the conservative
    reading of "never inherits an older, milder result": a newer routine screen does not wipe
    out a recent positive one."""
    now = now or timezone.now()
    return (
        IntakeResponse.objects.filter(patient=patient, submitted_at__gte=now - FRESH_FOR)
        .exclude(status=IntakeStatus.DRAFT)
        .exclude(triage=TriageLevel.ROUTINE)
        .exists()
    )


def booking_block(patient: User) -> UrgentItem | None:
    """The unacknowledged acute screen that stops every booking path for this patient, if any."""
    return (
        UrgentItem.objects.filter(patient=patient, kind=UrgentKind.ACUTE_SCREEN, acknowledged_at__isnull=True)
        .select_related("intake")
        .order_by("-created_at")
        .first()
    )


def latest_screen(patient: User) -> IntakeResponse | None:
    """The patient's latest finished screen (submitted, or stopped at an acute answer): the one
    whose triage counts (INSTRUMENTS.md: never an older, milder result)."""
    return (
        IntakeResponse.objects.filter(patient=patient)
        .exclude(status=IntakeStatus.DRAFT)
        .order_by("-submitted_at", "-id")
        .first()
    )


def open_acute_intake(patient: User) -> IntakeResponse | None:
    """The acute screen of this patient that no clinician has acknowledged yet."""
    item = booking_block(patient)
    return item.intake if item is not None else None


@transaction.atomic
def do_start(*, patient: User, via: Via | None = None) -> IntakeResponse:
    """The patient's draft, created on first use, with the current instrument versions."""
    draft = (
        IntakeResponse.objects.select_for_update().filter(patient=patient, status=IntakeStatus.DRAFT).first()
    )
    if draft is not None:
        return draft
    now = timezone.now()
    draft = IntakeResponse.objects.create(
        patient=patient, created_at=now, updated_at=now, versions=instruments.current_versions()
    )
    audit_record(action=Action.INTAKE_STARTED, actor=patient, subject=draft, patient=patient, via=via)
    return draft


def _locked_draft(patient: User, intake: IntakeResponse) -> IntakeResponse:
    locked = IntakeResponse.objects.select_for_update().get(pk=intake.pk)
    if locked.patient_id != patient.pk:
        raise IntakeError("This form is not yours.")
    if locked.status != IntakeStatus.DRAFT:
        raise IntakeError(
            "This questionnaire has already been sent. Thank you: there is nothing more to do here."
        )
    return locked


PROFILE_FIELDS = (
    "legal_name", "preferred_name", "phone", "emergency_contact_name", "emergency_contact_phone",
    "home_address",
)  # fmt: skip


@transaction.atomic
def do_save_about(
    *, patient: User, intake: IntakeResponse, values: dict[str, Any], next_step: str, via: Via | None = None
) -> IntakeResponse:
    """The "about you" step: the profile (encrypted), its audit row and the step, together."""
    intake = _locked_draft(patient, intake)
    profile, _ = PatientProfile.objects.select_for_update().get_or_create(user=patient)
    for field in PROFILE_FIELDS:
        setattr(profile, field, values[field])
    profile.date_of_birth = values["date_of_birth"].isoformat()
    profile.country = values["country"]
    profile.save()
    audit_record(action=Action.PROFILE_UPDATED, actor=patient, subject=patient, patient=patient, via=via)
    intake.step = next_step
    intake.updated_at = timezone.now()
    intake.save(update_fields=["step", "updated_at"])
    return intake


@transaction.atomic
def do_save_step(
    *,
    patient: User,
    intake: IntakeResponse,
    step: str,
    values: dict[str, Any],
    forget: list[str] | tuple[str, ...] = (),
) -> IntakeResponse:
    """Merge one step's validated answers into the draft, dropping the ``forget`` keys (answers
    that must be asked afresh). A draft is never treated as submitted."""
    intake = _locked_draft(patient, intake)
    answers = intake.answers
    answers.update(values)
    for key in forget:
        answers.pop(key, None)
    intake.set_answers(answers)
    intake.step = step
    intake.updated_at = timezone.now()
    intake.save(update_fields=["answers_json", "step", "updated_at"])
    return intake


def _score(intake: IntakeResponse, answers: dict[str, Any]) -> tuple[Any, Any, Any]:
    phq = scoring.score_phq9(answers)
    gad = scoring.score_gad7(answers)
    asq = scoring.score_asq(answers)
    intake.phq9_total, intake.phq9_band, intake.phq9_item9 = phq.total, str(phq.band), phq.item9
    intake.gad7_total, intake.gad7_band = gad.total, str(gad.band)
    intake.asq_result = str(asq.result)
    return phq, gad, asq


@transaction.atomic
def do_stop_acute(*, patient: User, intake: IntakeResponse, via: Via | None = None) -> UrgentItem:
    """ASQ question 5 was "yes": stop here and alert the on-call clinician."""
    intake = _locked_draft(patient, intake)
    answers = intake.answers
    asq = scoring.score_asq(answers)
    if asq.result != scoring.AsqOutcome.ACUTE:
        raise IntakeError("Nothing urgent was answered.")
    now = timezone.now()
    intake.asq_result = str(asq.result)
    phq = _try(scoring.score_phq9, answers)
    if phq is not None:
        intake.phq9_total, intake.phq9_band, intake.phq9_item9 = phq.total, str(phq.band), phq.item9
    gad = _try(scoring.score_gad7, answers)
    if gad is not None:
        intake.gad7_total, intake.gad7_band = gad.total, str(gad.band)
    intake.triage = TriageLevel.ACUTE
    intake.status = IntakeStatus.STOPPED_ACUTE
    intake.submitted_at = now
    intake.updated_at = now
    intake.save()
    item = UrgentItem.objects.create(
        patient=patient, intake=intake, kind=UrgentKind.ACUTE_SCREEN, created_at=now
    )
    audit_record(
        action=Action.URGENT_CREATED,
        actor=patient,
        subject=item,
        patient=patient,
        via=via,
        reason="acute",
    )
    _alert(User.objects.on_call(), template="intake/email/urgent")
    journey.current().screened(patient=patient, intake=intake, via=via)
    return item


def _try(fn: Any, answers: dict[str, Any]) -> Any:
    try:
        return fn(answers)
    except (scoring.IncompleteError, scoring.InvalidAnswerError):
        return None


@transaction.atomic
def do_submit(
    *, patient: User, intake: IntakeResponse, consent_name: str, via: Via | None = None
) -> IntakeResponse:
    """Score, triage and submit a complete draft. Incomplete answers are an error, never zeros."""
    intake = _locked_draft(patient, intake)
    answers = intake.answers
    try:
        phq, _gad, asq = _score(intake, answers)
        flags = scoring.checklist_flags(answers)
    except scoring.IncompleteError as exc:
        raise IntakeError("Some questions are still unanswered: " + ", ".join(exc.missing)) from None
    except scoring.InvalidAnswerError as exc:
        raise IntakeError(f"An answer is not one of the choices ({exc.key}).") from None
    if asq.result == scoring.AsqOutcome.ACUTE:
        raise IntakeError("acute")  # the views route this to do_stop_acute before consent
    level = scoring.triage(phq, asq)
    now = timezone.now()
    intake.flag_count = len(scoring.judgement_flags(flags))
    intake.triage = TriageLevel(str(level))
    intake.consent_version = CONSENT_VERSION
    intake.consent_name = consent_name
    intake.consented_at = now
    intake.status = IntakeStatus.SUBMITTED
    intake.submitted_at = now
    intake.updated_at = now
    intake.save()
    audit_record(
        action=Action.INTAKE_SUBMITTED,
        actor=patient,
        subject=intake,
        patient=patient,
        via=via,
        reason=level,
    )
    if asq.q5_declined:
        # Acute for alerting: the on-call clinician is told at once to call (INSTRUMENTS.md).
        _raise(patient=patient, intake=intake, kind=UrgentKind.DECLINED_Q5, via=via)
    elif level == scoring.Triage.SAFETY_FIRST:
        # Same-day follow-up, whether or not a booking follows.
        _raise(patient=patient, intake=intake, kind=UrgentKind.FOLLOW_UP, via=via)
    journey.current().screened(patient=patient, intake=intake, via=via)
    return intake


def do_raise_urgent(
    *, patient: User, kind: UrgentKind, reason: str = "", via: Via | None = None
) -> UrgentItem:
    """An urgent item from a screen outside the intake (``reason``: a fixed code naming it, such
    as the check-in before a treatment session), with the same alerts: the on-call clinician at
    once, the escalation sweep after. An acute one stops every booking path until acknowledged
    (``booking_block``)."""
    with transaction.atomic():
        item = _raise(patient=patient, intake=None, kind=kind, via=via, reason=reason)
    return item


def _raise(
    *, patient: User, intake: IntakeResponse | None, kind: UrgentKind, via: Via | None, reason: str = ""
) -> UrgentItem:
    item = UrgentItem.objects.create(patient=patient, intake=intake, kind=kind, created_at=timezone.now())
    audit_record(
        action=Action.URGENT_CREATED,
        actor=patient,
        subject=item,
        patient=patient,
        via=via,
        reason=reason or kind,
    )
    _alert(
        User.objects.on_call(),
        template="intake/email/urgent" if kind != UrgentKind.FOLLOW_UP else "intake/email/follow_up",
    )
    return item


@transaction.atomic
def do_request_callback(
    *, patient: User, intake: IntakeResponse, phone: str, via: Via | None = None
) -> UrgentItem:
    if intake.patient_id != patient.pk or intake.status != IntakeStatus.STOPPED_ACUTE:
        raise IntakeError("A call-back can be asked for from the crisis page only.")
    item = UrgentItem.objects.create(
        patient=patient, intake=intake, kind=UrgentKind.CALLBACK, phone=phone, created_at=timezone.now()
    )
    audit_record(action=Action.CALLBACK_REQUESTED, actor=patient, subject=item, patient=patient, via=via)
    _alert(User.objects.on_call(), template="intake/email/urgent")
    return item


OUTCOME_MIN = 5


@transaction.atomic
def do_acknowledge(*, clinician: User, item: UrgentItem, outcome: str, via: Via | None = None) -> UrgentItem:
    """The on-call clinician records what they did (a written outcome, encrypted). The first
    acknowledgement counts; a second one changes nothing."""
    outcome = outcome.strip()
    if len(outcome) < OUTCOME_MIN:
        raise IntakeError("Write what you did (for example: called, patient safe, plan agreed).")
    item = UrgentItem.objects.select_for_update().get(pk=item.pk)
    if item.acknowledged_at is None:
        item.acknowledged_by = clinician
        item.acknowledged_at = timezone.now()
        item.outcome = outcome
        item.save(update_fields=["acknowledged_by", "acknowledged_at", "outcome"])
        audit_record(
            action=Action.URGENT_ACKNOWLEDGED,
            actor=clinician,
            subject=item,
            patient=item.patient,
            via=via,
        )
    return item


def notify_booked_clinician(booking: Any) -> None:
    _alert([booking.clinician], template="intake/email/safety_first")


def _alert(people: list[User], *, template: str) -> None:
    for person in people:
        queue_email(template, refs={"user": str(person.public_id)})


# Reading an intake ---------------------------------------------------------------------------


def read_answers(
    *, reader: User, intake: IntakeResponse, reason: str, via: Via | None = None
) -> dict[str, Any]:
    """The answers, with the audit row of the read. The caller has decided that ``reader`` may
    read them (the patient themselves here; clinicians through ``visits.access``)."""
    with transaction.atomic():
        audit_record(
            action=Action.INTAKE_VIEWED,
            actor=reader,
            subject=intake,
            patient=intake.patient,
            via=via,
            reason=reason,
        )
    return intake.answers


def read_own_intake(
    *, patient: User, intake: IntakeResponse, via: Via | None = None
) -> dict[str, Any] | None:
    """A patient reads their own intake; None for anyone else's."""
    if intake.patient_id != patient.pk:
        return None
    return read_answers(reader=patient, intake=intake, reason="own record", via=via)
