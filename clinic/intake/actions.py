"""Intake: drafts, submission, triage, urgent items, and who may read an intake.

Safety rules (DESIGN.md rule 1, INSTRUMENTS.md triage table):
- acute (ASQ question 5 "yes"): the intake stops, the held time is released, an urgent item is
  raised for the on-call clinician and they are emailed at once (no health data in the email);
- safety assessment first (ASQ non-acute positive, or PHQ-9 item 9 ≥ 1): booking allowed, marked,
  and its clinician notified the same way;
- routine: on to confirmation.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from clinic.accounts.models import Role, User
from clinic.audit.actions import audit_record
from clinic.audit.models import Action
from clinic.intake import instruments, scoring
from clinic.intake.models import BreakGlass, IntakeResponse, IntakeStatus, TriageLevel, UrgentItem, UrgentKind
from clinic.mail import queue_email

FRESH_FOR = dt.timedelta(days=14)  # a PHQ-9 older than this at booking time is repeated
BREAK_GLASS_FOR = dt.timedelta(hours=1)
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


def open_acute_intake(patient: User) -> IntakeResponse | None:
    """An acute screen of this patient that no clinician has acknowledged yet."""
    item = (
        UrgentItem.objects.filter(patient=patient, acknowledged_at__isnull=True, intake__isnull=False)
        .select_related("intake")
        .order_by("-created_at")
        .first()
    )
    return item.intake if item is not None else None


@transaction.atomic
def do_start(*, patient: User, request: HttpRequest | None = None) -> IntakeResponse:
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
    audit_record(action=Action.INTAKE_STARTED, actor=patient, subject=draft, patient=patient, request=request)
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


@transaction.atomic
def do_save_step(
    *, patient: User, intake: IntakeResponse, step: str, values: dict[str, Any]
) -> IntakeResponse:
    """Merge one step's validated answers into the draft. A draft is never treated as submitted."""
    intake = _locked_draft(patient, intake)
    answers = intake.answers
    answers.update(values)
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
def do_stop_acute(*, patient: User, intake: IntakeResponse, request: HttpRequest | None = None) -> UrgentItem:
    """ASQ question 5 was "yes": stop here, release any held time, alert the on-call clinician."""
    from clinic.scheduling.models import Hold

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
    # The held time goes back: a booking is not the answer to an acute screen.
    Hold.objects.filter(session_key_hash__in=_holder_hashes(request)).delete()
    from clinic.scheduling.availability import schedule_changed

    schedule_changed()
    item = UrgentItem.objects.create(
        patient=patient, intake=intake, kind=UrgentKind.ACUTE_SCREEN, created_at=now
    )
    audit_record(
        action=Action.URGENT_CREATED,
        actor=patient,
        subject=item,
        patient=patient,
        request=request,
        reason="acute",
    )
    _alert(on_call_clinicians(), template="intake/email/urgent")
    return item


def _try(fn: Any, answers: dict[str, Any]) -> Any:
    try:
        return fn(answers)
    except (scoring.IncompleteError, scoring.InvalidAnswerError):
        return None


def _holder_hashes(request: HttpRequest | None) -> list[str]:
    from clinic.scheduling.actions import session_hash

    if request is None or not hasattr(request, "session"):
        return []
    holder = request.session.get("hold_holder")
    return [session_hash(holder)] if holder else []


@transaction.atomic
def do_submit(
    *, patient: User, intake: IntakeResponse, consent_name: str, request: HttpRequest | None = None
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
    intake.flag_count = len(flags)
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
        request=request,
        reason=level,
    )
    return intake


@transaction.atomic
def do_request_callback(
    *, patient: User, intake: IntakeResponse, phone: str, request: HttpRequest | None = None
) -> UrgentItem:
    if intake.patient_id != patient.pk or intake.status != IntakeStatus.STOPPED_ACUTE:
        raise IntakeError("A call-back can be asked for from the crisis page only.")
    item = UrgentItem.objects.create(
        patient=patient, intake=intake, kind=UrgentKind.CALLBACK, phone=phone, created_at=timezone.now()
    )
    audit_record(
        action=Action.CALLBACK_REQUESTED, actor=patient, subject=item, patient=patient, request=request
    )
    _alert(on_call_clinicians(), template="intake/email/urgent")
    return item


@transaction.atomic
def do_acknowledge(*, clinician: User, item: UrgentItem, request: HttpRequest | None = None) -> UrgentItem:
    item = UrgentItem.objects.select_for_update().get(pk=item.pk)
    if item.acknowledged_at is None:
        item.acknowledged_by = clinician
        item.acknowledged_at = timezone.now()
        item.save(update_fields=["acknowledged_by", "acknowledged_at"])
        audit_record(
            action=Action.URGENT_ACKNOWLEDGED,
            actor=clinician,
            subject=item,
            patient=item.patient,
            request=request,
        )
    return item


def on_call_clinicians() -> list[User]:
    """Who gets urgent items. With nobody on call, every active clinician does: an urgent screen
    must never land in an empty room."""
    active = User.objects.filter(role=Role.CLINICIAN, is_active=True)
    return list(active.filter(on_call=True)) or list(active)


def notify_booked_clinician(booking: Any) -> None:
    _alert([booking.clinician], template="intake/email/safety_first")


def _alert(people: list[User], *, template: str) -> None:
    for person in people:
        queue_email(
            to=person.email,
            template=template,
            context={
                "name": person.display_name,
                "url": f"{settings.SITE_URL}{reverse('accounts:clinician_home')}",
            },
        )


# Who may read an intake ------------------------------------------------------------------------


def access_reason(user: User, patient_id: int, now: dt.datetime | None = None) -> str | None:
    """Why ``user`` may read this patient's clinical record, or None. Staff never read it."""
    from clinic.scheduling.models import Booking

    now = now or timezone.now()
    if user.role == Role.PATIENT:
        return "own record" if patient_id == user.pk else None
    if user.role != Role.CLINICIAN:
        return None
    if Booking.objects.filter(patient_id=patient_id, clinician=user).exists():
        return "booked clinician"
    if user in on_call_clinicians() and UrgentItem.objects.filter(patient_id=patient_id).exists():
        return "on call for an urgent item"
    if BreakGlass.objects.filter(clinician=user, patient_id=patient_id, expires_at__gt=now).exists():
        return "break-glass"
    return None


def read_reason(user: User, intake: IntakeResponse, now: dt.datetime | None = None) -> str | None:
    """Why ``user`` may read ``intake``, or None."""
    return access_reason(user, intake.patient_id, now)


def read_intake(
    *, user: User, intake: IntakeResponse, request: HttpRequest | None = None
) -> dict[str, Any] | None:
    """The answers, after the access check; every successful read writes an audit event."""
    reason = read_reason(user, intake)
    if reason is None:
        return None
    with transaction.atomic():
        audit_record(
            action=Action.INTAKE_VIEWED,
            actor=user,
            subject=intake,
            patient=intake.patient,
            request=request,
            reason=reason,
        )
    return intake.answers


@transaction.atomic
def do_break_glass(
    *, clinician: User, patient: User, reason: str, request: HttpRequest | None = None
) -> BreakGlass:
    reason = reason.strip()
    if len(reason) < 10:
        raise IntakeError("Say why you need this record (at least a short sentence).")
    now = timezone.now()
    grant = BreakGlass.objects.create(
        clinician=clinician,
        patient=patient,
        reason=reason[:500],
        created_at=now,
        expires_at=now + BREAK_GLASS_FOR,
    )
    audit_record(
        action=Action.BREAK_GLASS,
        actor=clinician,
        subject=grant,
        patient=patient,
        request=request,
        reason=reason,
    )
    return grant


@transaction.atomic
def do_review_break_glass(*, staff: User, grant: BreakGlass, request: HttpRequest | None = None) -> None:
    grant = BreakGlass.objects.select_for_update().get(pk=grant.pk)
    if grant.reviewed_at is None:
        grant.reviewed_by = staff
        grant.reviewed_at = timezone.now()
        grant.save(update_fields=["reviewed_by", "reviewed_at"])
        audit_record(
            action=Action.BREAK_GLASS_REVIEWED,
            actor=staff,
            subject=grant,
            patient=grant.patient,
            request=request,
        )
