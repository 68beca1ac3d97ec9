"""The visit and its record: where the patient is, admission, joining and leaving the call,
notes, decisions, addenda, no-shows and break-glass access."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from clinic.accounts.models import User
from clinic.audit.actions import Via, audit_record
from clinic.audit.models import Action
from clinic.mail import queue_email
from clinic.scheduling import actions as booking_actions
from clinic.scheduling.models import Booking, BookingStatus, NoShowBy
from clinic.visits import live
from clinic.visits.access import BREAK_GLASS_FOR, clinician_licensed_for, visit_for
from clinic.visits.models import (
    Attendance,
    BreakGlass,
    ConsultNote,
    Decision,
    NoteAddendum,
    Participant,
    Visit,
)

NOTE_FIELDS = [
    "identity_method", "location_confirmed", "others_present", "reason", "history_reviewed", "risk_level",
    "safety_plan", "contraindications_reviewed", "plan", "follow_up", "decision", "decision_reason",
    "patient_message",
]  # fmt: skip


class NoteError(Exception):
    def __init__(self, message: str, problems: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.problems = problems or {}


def note_for(booking: Booking) -> ConsultNote:
    now = timezone.now()
    note, _ = ConsultNote.objects.get_or_create(
        booking=booking,
        defaults={
            "author": booking.clinician,
            "patient": booking.patient,
            "created_at": now,
            "updated_at": now,
        },
    )
    return note


@transaction.atomic
def do_save_note(
    *, clinician: User, booking: Booking, data: dict[str, Any], via: Via | None = None
) -> ConsultNote:
    """Save the draft (autosave and "Save" alike). A signed note is never changed."""
    note = ConsultNote.objects.select_for_update().get(pk=note_for(booking).pk)
    if note.is_signed:
        raise NoteError("This note is signed. Add an addendum to correct or add to it.")
    for field in NOTE_FIELDS:
        if field in data:
            setattr(note, field, data[field])
    note.updated_at = timezone.now()
    note.save()
    audit_record(action=Action.NOTE_SAVED, actor=clinician, subject=note, patient=booking.patient, via=via)
    return note


def sign_problems(note: ConsultNote, booking: Booking) -> dict[str, str]:
    """What must be filled in before signing; empty when the note can be signed."""
    problems: dict[str, str] = {}
    if not note.identity_method:
        problems["identity_method"] = "Record how you verified the patient's identity."
    if not note.location_confirmed:
        problems["location_confirmed"] = "Confirm the location the patient attested when joining."
    for field, label in (("reason", "the reason for the visit"), ("plan", "the plan")):
        if not str(getattr(note, field)).strip():
            problems[field] = f"Write {label}."
    flagged = booking.safety_first or (booking.intake is not None and booking.intake.triage != "routine")
    if flagged:
        if not note.risk_level:
            problems["risk_level"] = (
                "This visit was flagged: record the risk level of your safety assessment."
            )
        if not note.safety_plan.strip():
            problems["safety_plan"] = "This visit was flagged: record the safety plan."
    if not note.decision:
        problems["decision"] = "Record the decision."
    elif note.decision == Decision.NOT_SUITABLE and not note.decision_reason.strip():
        problems["decision_reason"] = "Give the reason it is not suitable (and any referral)."
    if not note.patient_message.strip():
        problems["patient_message"] = "Write a message for the patient about what happens next."
    return problems


@transaction.atomic
def do_sign_note(*, clinician: User, booking: Booking, via: Via | None = None) -> ConsultNote:
    note = ConsultNote.objects.select_for_update().get(pk=note_for(booking).pk)
    if note.is_signed:
        return note
    problems = sign_problems(note, booking)
    if problems:
        raise NoteError("The note cannot be signed yet.", problems)
    note.signed_at = timezone.now()
    note.updated_at = note.signed_at
    note.save()
    audit_record(
        action=Action.NOTE_SIGNED,
        actor=clinician,
        subject=note,
        patient=booking.patient,
        via=via,
        reason=note.decision,
    )
    booking_actions.do_complete(actor=clinician, booking=booking, via=via)
    # The email only says there is a message; the message itself is read after signing in.
    queue_email("visits/email/message", refs={"booking": str(booking.public_id)})
    return note


@transaction.atomic
def do_add_addendum(*, clinician: User, booking: Booking, text: str, via: Via | None = None) -> NoteAddendum:
    note = note_for(booking)
    if not note.is_signed:
        raise NoteError("The note is still a draft: edit it directly.")
    text = text.strip()
    if not text:
        raise NoteError("Write the addendum.")
    addendum = NoteAddendum.objects.create(note=note, author=clinician, text=text, created_at=timezone.now())
    audit_record(
        action=Action.NOTE_ADDENDUM,
        actor=clinician,
        subject=addendum,
        patient=booking.patient,
        via=via,
    )
    return addendum


@transaction.atomic
def do_no_show(*, actor: User, booking: Booking, by: NoShowBy, via: Via | None = None) -> Booking:
    """Mark who did not come, after the start time. A patient who missed it gets a kind email."""
    booking = booking_actions.do_mark_no_show(actor=actor, booking=booking, by=by, via=via)
    template = "visits/email/missed" if by == NoShowBy.PATIENT else "visits/email/clinician_missed"
    queue_email(template, refs={"booking": str(booking.public_id)})
    return booking


def visible_message(booking: Booking) -> ConsultNote | None:
    """The signed note whose decision and message the patient may read."""
    note = ConsultNote.objects.filter(booking=booking, signed_at__isnull=False).first()
    return note if booking.status != BookingStatus.CANCELLED else None


# The live visit --------------------------------------------------------------------------------


@transaction.atomic
def do_attest(
    *, patient: User, booking: Booking, jurisdiction: str, address: str, phone: str, via: Via | None = None
) -> Visit:
    """The patient says where they are now. Without a licence there the visit is blocked; a
    change of place after being let in means being let in again."""
    visit = Visit.objects.select_for_update().get(pk=visit_for(booking).pk)
    now = timezone.now()
    licensed = clinician_licensed_for(booking, jurisdiction)
    visit.attested_jurisdiction = jurisdiction
    visit.attested_address = address
    visit.callback_phone = phone
    visit.attested_at = now
    visit.admitted_at = None
    visit.waiting_since = now if licensed else None
    visit.save()
    audit_record(
        action=Action.VISIT_ATTESTED if licensed else Action.VISIT_BLOCKED,
        actor=patient,
        subject=visit,
        patient=booking.patient,
        via=via,
        reason=jurisdiction,
    )
    # The clinician's open page hears at once that the patient is waiting, or blocked.
    transaction.on_commit(lambda: live.visit_changed(visit))
    return visit


class NotWaiting(Exception):
    """The patient is not waiting, or the clinician holds no licence where they are."""


@transaction.atomic
def do_admit(*, clinician: User, booking: Booking, via: Via | None = None) -> Visit:
    visit = Visit.objects.select_for_update().get(pk=visit_for(booking).pk)
    if visit.waiting_since is None or not clinician_licensed_for(booking, visit.attested_jurisdiction):
        raise NotWaiting
    if visit.admitted_at is None:
        visit.admitted_at = timezone.now()
        visit.save(update_fields=["admitted_at"])
        audit_record(
            action=Action.VISIT_ADMITTED, actor=clinician, subject=visit, patient=booking.patient, via=via
        )
        # Admission is pushed to the waiting room's open socket: the call starts without a reload.
        transaction.on_commit(lambda: live.visit_changed(visit))
    return visit


@transaction.atomic
def do_join_call(*, user: User, visit: Visit, role: Participant) -> Attendance:
    attendance = Attendance.objects.create(visit=visit, user=user, role=role, joined_at=timezone.now())
    audit_record(
        action=Action.VISIT_JOINED, actor=user, subject=visit, patient=visit.booking.patient, reason=role
    )
    return attendance


@transaction.atomic
def do_leave_call(*, attendance_id: int) -> Attendance:
    attendance = Attendance.objects.select_related("visit__booking__patient", "user").get(pk=attendance_id)
    attendance.left_at = timezone.now()
    attendance.save(update_fields=["left_at"])
    audit_record(
        action=Action.VISIT_LEFT,
        actor=attendance.user,
        subject=attendance.visit,
        patient=attendance.visit.booking.patient,
        reason=attendance.role,
    )
    return attendance


# Break-glass -----------------------------------------------------------------------------------


class AccessError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@transaction.atomic
def do_break_glass(*, clinician: User, patient: User, reason: str, via: Via | None = None) -> BreakGlass:
    reason = reason.strip()
    if len(reason) < 10:
        raise AccessError("Say why you need this record (at least a short sentence).")
    now = timezone.now()
    grant = BreakGlass.objects.create(
        clinician=clinician,
        patient=patient,
        reason=reason[:500],
        created_at=now,
        expires_at=now + BREAK_GLASS_FOR,
    )
    # The typed reason stays on the grant, encrypted; the audit row names the grant only.
    audit_record(action=Action.BREAK_GLASS, actor=clinician, subject=grant, patient=patient, via=via)
    return grant


@transaction.atomic
def do_review_break_glass(*, staff: User, grant: BreakGlass, via: Via | None = None) -> None:
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
            via=via,
        )
