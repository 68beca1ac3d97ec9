"""Notes, decisions, addenda and no-shows: the record a clinician's licence rides on."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from clinic.accounts.models import User
from clinic.audit.actions import audit_record
from clinic.audit.models import Action
from clinic.mail import queue_email
from clinic.scheduling.models import Booking, BookingStatus
from clinic.visits.models import ConsultNote, Decision, NoteAddendum

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
    *, clinician: User, booking: Booking, data: dict[str, Any], request: HttpRequest | None = None
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
    audit_record(
        action=Action.NOTE_SAVED, actor=clinician, subject=note, patient=booking.patient, request=request
    )
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
def do_sign_note(*, clinician: User, booking: Booking, request: HttpRequest | None = None) -> ConsultNote:
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
        request=request,
        reason=note.decision,
    )
    # The email only says there is a message; the message itself is read after signing in.
    queue_email(
        to=booking.patient.email,
        template="visits/email/message",
        context={"url": f"{settings.SITE_URL}{reverse('visits:my_appointment', args=[booking.public_id])}"},
    )
    return note


@transaction.atomic
def do_add_addendum(
    *, clinician: User, booking: Booking, text: str, request: HttpRequest | None = None
) -> NoteAddendum:
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
        request=request,
    )
    return addendum


@transaction.atomic
def do_no_show(*, actor: User, booking: Booking, by: str, request: HttpRequest | None = None) -> Booking:
    """Mark who did not come, after the start time. A patient who missed it gets a kind email."""
    from clinic.scheduling.actions import do_mark_no_show

    booking = do_mark_no_show(actor=actor, booking=booking, request=request)
    Booking.objects.filter(pk=booking.pk).update(no_show_by=by)
    booking.no_show_by = by
    template = "visits/email/missed" if by == "patient" else "visits/email/clinician_missed"
    queue_email(
        to=booking.patient.email,
        template=template,
        context={"book_url": f"{settings.SITE_URL}{reverse('scheduling:book')}"},
    )
    return booking


def visible_message(booking: Booking) -> ConsultNote | None:
    """The signed note whose decision and message the patient may read."""
    note = ConsultNote.objects.filter(booking=booking, signed_at__isnull=False).first()
    return note if booking.status != BookingStatus.CANCELLED else None
