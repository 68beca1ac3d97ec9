"""Holds, bookings, cancellations, reschedules, no-shows and the waitlist.

Nothing doubles, however requests race:
- every booking write locks the clinician's row first (SELECT … FOR UPDATE on PostgreSQL; on
  SQLite the transaction itself is IMMEDIATE, so writers queue at BEGIN) and then re-checks the
  slot against the database inside the same transaction;
- on PostgreSQL the exclusion constraint ``booking_no_overlap`` refuses any overlap the code
  might still miss, and that refusal becomes the same clean "just taken".
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from clinic.accounts.models import Licence, PatientProfile, User
from clinic.accounts.validators import is_adult
from clinic.audit.actions import Via, audit_record
from clinic.audit.models import Action
from clinic.intake.actions import (
    booking_block,
    needs_safety_first,
    notify_booked_clinician,
    screen_for_booking,
)
from clinic.intake.models import IntakeResponse
from clinic.mail import queue_email
from clinic.scheduling import availability, signals
from clinic.scheduling.models import (
    AppointmentKind,
    AppointmentType,
    Booking,
    BookingStatus,
    CoverageNotice,
    DateOverride,
    Hold,
    NoShowBy,
    TimeOff,
    WaitlistEntry,
    WeeklyHours,
    email_key,
    hash_token,
    new_token,
)
from clinic.scheduling.tasks import notice_uncovered_task, notify_waitlist

HOLD_MINUTES = 10
# While the patient answers the questionnaire their held time waits for them, a quarter of an
# hour past their latest answer, and never more than an hour from when it was taken.
HOLD_EXTENSION = dt.timedelta(minutes=15)
HOLD_LONGEST = dt.timedelta(minutes=60)


class BookingError(Exception):
    """A booking rule said no. ``message`` is shown to the person as it is."""

    code = "booking_refused"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SessionMovedByClinic(BookingError):
    code = "session_moved_by_clinic"

    def __init__(self) -> None:
        super().__init__(
            "A treatment session is moved by your clinician, so that the course keeps its spacing. "
            "Please call the clinic."
        )


class SlotTaken(BookingError):
    code = "slot_taken"

    def __init__(self) -> None:
        super().__init__("Sorry, that time was just taken by someone else. Here are the next free times.")


class HoldExpired(BookingError):
    code = "hold_expired"

    def __init__(self) -> None:
        super().__init__(
            "We could only keep that time for you for a few minutes. Please choose a time again."
        )


class NotAdult(BookingError):
    code = "under_18"

    def __init__(self) -> None:
        super().__init__(
            "Our consultations are for adults aged 18 and over, so we can't book this for you. "
            "If you are struggling, please talk to a parent, a school counsellor or your doctor, "
            "or use the crisis numbers on this page: they are there for young people too."
        )


class AlreadyBooked(BookingError):
    code = "already_booked"

    def __init__(self) -> None:
        super().__init__(
            "You already have a free consultation booked. You can change its time from your account."
        )


class IntakeRequired(BookingError):
    code = "intake_required"

    def __init__(self) -> None:
        super().__init__(
            "Before booking, please fill in the short health questionnaire (it is needed again when "
            "the last one is more than 14 days old)."
        )


class SafetyHold(BookingError):
    """An acute screen waits for a clinician: no booking by any path until it is acknowledged."""

    code = "safety_hold"

    def __init__(self) -> None:
        super().__init__(
            "Before booking, one of our doctors needs to speak with you about your answers. They "
            "have been told and will contact you. If you are in danger now, call 988 or 911."
        )


class PastCutoff(BookingError):
    code = "past_cutoff"

    def __init__(self) -> None:
        super().__init__("It is too late to change this appointment online. Please contact the clinic.")


def session_hash(holder: str) -> str:
    """``holder`` is a random key kept in the browser's session (it survives sign-in)."""
    return hashlib.sha256(f"hold:{holder}".encode()).hexdigest()


def consultation_type() -> AppointmentType:
    return AppointmentType.objects.get(kind=AppointmentKind.CONSULTATION)


def _candidates(
    *,
    jurisdiction: str,
    appointment_type: AppointmentType,
    start: dt.datetime,
    clinician_id: str | None,
    ignore_hold: Hold | None = None,
    ignore_booking: Booking | None = None,
    notice_from: dt.datetime | None = None,
) -> list[User]:
    """Clinicians for whom ``start`` is a free slot, read inside the caller's transaction.

    ``notice_from`` is the moment minimum notice counts from: a live hold keeps the promise made
    when it was taken, so a held time does not fall out of the notice window while the person
    signs in.
    """
    found, clinicians = availability.free_slots(
        now=notice_from,
        jurisdiction=jurisdiction,
        appointment_type=appointment_type,
        start=start,
        end=start + dt.timedelta(seconds=1),
        clinician_ids=[clinician_id] if clinician_id else None,
        ignore_hold=ignore_hold,
        ignore_booking=ignore_booking,
    )
    return [clinicians[slot.clinician_id] for slot in found if slot.start == start]


def _least_loaded(candidates: list[User], start: dt.datetime) -> User:
    """With "any available doctor", the one with the fewest bookings that (their local) day."""
    if len(candidates) == 1:
        return candidates[0]
    rows = Booking.objects.filter(
        clinician__in=candidates,
        status=BookingStatus.CONFIRMED,
        start__gte=start - dt.timedelta(days=1),
        start__lt=start + dt.timedelta(days=1),
    ).values_list("clinician_id", "start")
    load = {c.pk: 0 for c in candidates}
    zones = {c.pk: ZoneInfo(c.time_zone) for c in candidates}
    for clinician_id, b_start in rows:
        zone = zones[clinician_id]
        if b_start.astimezone(zone).date() == start.astimezone(zone).date():
            load[clinician_id] += 1
    return min(candidates, key=lambda c: (load[c.pk], str(c.public_id)))


def _lock_clinicians(clinicians: list[User]) -> None:
    # Serialises every booking write for these clinicians on PostgreSQL; a no-op on SQLite,
    # where the IMMEDIATE transaction already holds the database's write lock.
    list(User.objects.select_for_update().filter(pk__in=[c.pk for c in clinicians]).values_list("pk"))


@transaction.atomic
def do_hold(
    *,
    holder: str,
    jurisdiction: str,
    start: dt.datetime,
    patient_time_zone: str,
    clinician_id: str | None = None,
    appointment_type: AppointmentType | None = None,
    reschedule_of: Booking | None = None,
) -> Hold:
    """Keep ``start`` for this browser for a few minutes; others stop seeing it."""
    appointment_type = appointment_type or consultation_type()
    now = timezone.now()
    Hold.objects.filter(expires_at__lte=now).delete()
    Hold.objects.filter(session_key_hash=session_hash(holder)).delete()
    found = _candidates(
        jurisdiction=jurisdiction,
        appointment_type=appointment_type,
        start=start,
        clinician_id=clinician_id,
        ignore_booking=reschedule_of,
    )
    if not found:
        raise SlotTaken()
    _lock_clinicians(found)
    found = _candidates(
        jurisdiction=jurisdiction,
        appointment_type=appointment_type,
        start=start,
        clinician_id=clinician_id,
        ignore_booking=reschedule_of,
    )
    if not found:
        raise SlotTaken()
    clinician = _least_loaded(found, start)
    blocked_start, blocked_end = appointment_type.blocked(start)
    held = Hold.objects.create(
        clinician=clinician,
        appointment_type=appointment_type,
        start=start,
        blocked_start=blocked_start,
        blocked_end=blocked_end,
        jurisdiction=jurisdiction,
        patient_time_zone=patient_time_zone,
        session_key_hash=session_hash(holder),
        reschedule_of=reschedule_of,
        expires_at=now + dt.timedelta(minutes=HOLD_MINUTES),
        created_at=now,
    )
    # Holds and licences are read on every slot request: nothing precomputed to forget.
    if reschedule_of is None:
        # Counted by the staff funnel report ("booking started"); no person is named.
        audit_record(action=Action.BOOKING_STARTED, subject=held, reason=jurisdiction)
    return held


@transaction.atomic
def do_follow_latest_screen(
    *, patient: User, intake: IntakeResponse, via: Via | None = None
) -> list[Booking]:
    """A screen was finished: the patient's future bookings rest on it from now on, also one
    stopped at an acute answer (its triage is the latest; the older routine one must not show).
    A screen that is not routine marks them "safety assessment first" (never unmarked by a later
    screen) and their clinicians are told. Returns the bookings newly marked."""
    flagged = intake.triage not in ("", "routine")
    marked = []
    for booking in (
        Booking.objects.select_for_update()
        .filter(patient=patient, status=BookingStatus.CONFIRMED, start__gt=timezone.now())
        .select_related("clinician")
    ):
        fields = []
        if intake.status in ("submitted", "stopped_acute") and booking.intake_id != intake.pk:
            booking.intake = intake
            fields.append("intake")
        if flagged and not booking.safety_first:
            booking.safety_first = True
            fields.append("safety_first")
            marked.append(booking)
        if fields:
            booking.save(update_fields=fields)
    for booking in marked:
        audit_record(
            action=Action.BOOKING_REMARKED, subject=booking, patient=patient, via=via, reason="safety_first"
        )
        notify_booked_clinician(booking)
    return marked


@transaction.atomic
def do_offer_move(*, booking: Booking, now: dt.datetime | None = None) -> bool:
    """Its clinician's licence no longer covers this booking: note it once (staff and the
    clinician see it listed) and email the patient a renewed manage link whose page offers
    another licensed doctor at the same time. False when it was already noticed."""
    now = now or timezone.now()
    booking = Booking.objects.select_for_update().select_related("clinician", "patient").get(pk=booking.pk)
    try:
        with transaction.atomic():
            CoverageNotice.objects.create(
                booking=booking, start=booking.start, clinician=booking.clinician, noticed_at=now
            )
    except IntegrityError:
        return False
    token = new_token()
    booking.manage_token_hash = hash_token(token)
    booking.save(update_fields=["manage_token_hash"])
    audit_record(
        action=Action.COVERAGE_LOST, subject=booking, patient=booking.patient, reason=booking.jurisdiction
    )
    queue_email(
        "scheduling/email/move_offer",
        refs={"booking": str(booking.public_id)},
        secrets={"manage_token": token},
    )
    return True


def notice_uncovered(now: dt.datetime | None = None) -> int:
    """Offer a move for every future booking no licence covers any more (each booking time
    once, whatever the number of workers: the notice row is unique)."""
    return sum(do_offer_move(booking=booking, now=now) for booking in availability.uncovered_bookings())


@transaction.atomic
def do_change_licence(
    *, actor: User, licence: Licence, expires_on: dt.date, verified: bool, via: Via | None = None
) -> Licence:
    """Staff correct a licence's expiry or withdraw its verification. Bookings it stops
    covering are noticed at once (after commit)."""
    licence = Licence.objects.select_for_update().get(pk=licence.pk)
    licence.expires_on = expires_on
    if not verified:
        licence.verified_by, licence.verified_at = None, None
    licence.save(update_fields=["expires_on", "verified_by", "verified_at"])
    audit_record(
        action=Action.LICENCE_CHANGED,
        actor=actor,
        subject=licence,
        via=via,
        reason=f"{licence.jurisdiction} until {expires_on.isoformat()}{'' if verified else ' unverified'}",
    )
    transaction.on_commit(lambda: notice_uncovered_task.enqueue())
    return licence


@transaction.atomic
def do_release_holds(*, holder: str) -> int:
    """Give back every time this browser holds (the journey stopped: an acute screen, under 18)."""
    released, _ = Hold.objects.filter(session_key_hash=session_hash(holder)).delete()
    return released


@transaction.atomic
def do_extend_hold(*, holder: str, hold_id: str) -> Hold | None:
    """Keep a live hold while its person answers the questionnaire (``HOLD_EXTENSION`` past
    now, never beyond ``HOLD_LONGEST`` from when it was taken). An expired hold stays expired."""
    now = timezone.now()
    held = (
        Hold.objects.select_for_update()
        .filter(public_id=hold_id, session_key_hash=session_hash(holder), expires_at__gt=now)
        .first()
    )
    if held is None:
        return None
    held.expires_at = min(max(held.expires_at, now + HOLD_EXTENSION), held.created_at + HOLD_LONGEST)
    held.save(update_fields=["expires_at"])
    return held


def check_adult(patient: User, visit_start: dt.datetime, zone: str) -> None:
    profile = PatientProfile.objects.filter(user=patient).first()
    birth = profile.birth_date if profile else None
    if birth is None:
        raise BookingError("Please tell us your date of birth.")
    if not is_adult(birth, visit_start.astimezone(ZoneInfo(zone)).date()):
        raise NotAdult()


def booking_for_key(patient: User, idempotency_key: str) -> Booking | None:
    """The booking an earlier attempt with this idempotency key made for this patient."""
    return Booking.objects.filter(idempotency_key=idempotency_key, patient=patient).first()


def _screen(patient: User, now: dt.datetime) -> tuple[IntakeResponse, bool]:
    """The screen a booking rests on and whether it opens with the safety assessment, or the
    refusal: an unacknowledged acute screen stops every path (pages, API, reschedule,
    follow-up); without a recent complete questionnaire the patient fills it in (again)."""
    if booking_block(patient) is not None:
        raise SafetyHold()
    intake = screen_for_booking(patient, now)
    if intake is None:
        raise IntakeRequired()
    return intake, needs_safety_first(patient, now)


@transaction.atomic
def do_book(
    *,
    patient: User,
    hold: Hold,
    holder: str,
    idempotency_key: str,
    date_of_birth: dt.date | None = None,
    via: Via | None = None,
) -> tuple[Booking, str | None]:
    """Turn a hold into a booking. Returns the booking and, the first time only, the raw manage
    token (only its hash is stored). The same idempotency key returns the same booking, however
    the repeats race: a repeat that waited on the clinician's lock finds the first one's booking
    once it is committed."""
    existing = Booking.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        if existing.patient_id != patient.pk:
            raise BookingError("This confirmation was already used. Please choose a time again.")
        return existing, None
    now = timezone.now()
    if hold.expires_at <= now or hold.session_key_hash != session_hash(holder) or hold.reschedule_of_id:
        raise HoldExpired()
    if date_of_birth is not None:
        profile, _ = PatientProfile.objects.get_or_create(user=patient)
        profile.date_of_birth = date_of_birth.isoformat()
        profile.save(update_fields=["date_of_birth"])
    check_adult(patient, hold.start, hold.patient_time_zone)
    intake, safety_first = _screen(patient, now)
    appointment_type = hold.appointment_type
    clinician = hold.clinician
    _lock_clinicians([clinician])
    # A twin request may have booked while we waited for the lock (PostgreSQL reads what has
    # committed since; SQLite's IMMEDIATE transaction started after it).
    twin = booking_for_key(patient, idempotency_key)
    if twin is not None:
        return twin, None
    if (
        appointment_type.kind == AppointmentKind.CONSULTATION
        and Booking.objects.filter(
            patient=patient,
            appointment_type__kind=AppointmentKind.CONSULTATION,
            status=BookingStatus.CONFIRMED,
            start__gt=now,
        ).exists()
    ):
        raise AlreadyBooked()
    if hold.start <= now or not _candidates(
        jurisdiction=hold.jurisdiction,
        appointment_type=appointment_type,
        start=hold.start,
        clinician_id=str(clinician.public_id),
        ignore_hold=hold,
        notice_from=hold.created_at,
    ):
        raise SlotTaken()
    token = new_token()
    try:
        with transaction.atomic():
            booking = Booking.objects.create(
                patient=patient,
                clinician=clinician,
                appointment_type=appointment_type,
                start=hold.start,
                end=hold.start + appointment_type.duration,
                blocked_start=hold.blocked_start,
                blocked_end=hold.blocked_end,
                jurisdiction=hold.jurisdiction,
                patient_time_zone=hold.patient_time_zone,
                created_at=now,
                idempotency_key=idempotency_key,
                manage_token_hash=hash_token(token),
                ics_uid=f"{uuid.uuid4()}@{_ics_domain()}",
                intake=intake,
                safety_first=safety_first,
            )
    except IntegrityError:
        # A double click that raced us to the same idempotency key gets the same booking;
        # anything else is the exclusion constraint (PostgreSQL) refusing an overlap.
        twin = booking_for_key(patient, idempotency_key)
        if twin is not None:
            return twin, None
        raise SlotTaken() from None
    hold.delete()
    availability.schedule_changed([clinician])
    audit_record(action=Action.BOOKING_CREATED, actor=patient, subject=booking, patient=patient, via=via)
    _email_booking(booking, template="scheduling/email/booked", token=token)
    if booking.safety_first:
        # Its clinician is told now (DESIGN.md rule 1); the email itself says nothing clinical.
        notify_booked_clinician(booking)
    return booking, token


@transaction.atomic
def do_book_follow_up(
    *,
    clinician: User,
    patient: User,
    start: dt.datetime,
    jurisdiction: str,
    patient_time_zone: str,
    kind: AppointmentKind = AppointmentKind.FOLLOW_UP,
    via: Via | None = None,
) -> Booking:
    """A clinician books a follow-up (or, for ``clinic.care``, a treatment session of another
    ``kind``) for their patient in one of their own free slots: the slot must be free and the
    clinician licensed where the patient will be for the whole of it. The same lock, re-check
    and (PostgreSQL) exclusion constraint as any booking."""
    appointment_type = AppointmentType.objects.get(kind=kind)
    start = start.astimezone(dt.UTC)
    if booking_block(patient) is not None:
        raise SafetyHold()
    _lock_clinicians([clinician])
    if not _candidates(
        jurisdiction=jurisdiction,
        appointment_type=appointment_type,
        start=start,
        clinician_id=str(clinician.public_id),
    ):
        raise SlotTaken()
    blocked_start, blocked_end = appointment_type.blocked(start)
    token = new_token()
    try:
        with transaction.atomic():
            booking = Booking.objects.create(
                patient=patient,
                clinician=clinician,
                appointment_type=appointment_type,
                start=start,
                end=start + appointment_type.duration,
                blocked_start=blocked_start,
                blocked_end=blocked_end,
                jurisdiction=jurisdiction,
                patient_time_zone=patient_time_zone,
                created_at=timezone.now(),
                idempotency_key=new_token(),
                manage_token_hash=hash_token(token),
                ics_uid=f"{uuid.uuid4()}@{_ics_domain()}",
                intake=screen_for_booking(patient),
                safety_first=needs_safety_first(patient),
            )
    except IntegrityError:
        raise SlotTaken() from None
    availability.schedule_changed([clinician])
    audit_record(
        action=Action.BOOKING_CREATED,
        actor=clinician,
        subject=booking,
        patient=patient,
        via=via,
        reason="follow-up" if kind == AppointmentKind.FOLLOW_UP else str(kind),
    )
    _email_booking(booking, template="scheduling/email/booked", token=token)
    return booking


def in_cutoff(booking: Booking, now: dt.datetime | None = None) -> bool:
    """True while the patient may still cancel or reschedule online."""
    now = now or timezone.now()
    return now < booking.start - dt.timedelta(hours=booking.appointment_type.cancel_cutoff_hours)


@transaction.atomic
def do_cancel(
    *, actor: User | None, booking: Booking, reason: str = "", via: Via | None = None, by_clinic: bool = False
) -> Booking:
    """Cancel. A patient may do it up to the cut-off; staff at any time, with a reason; the
    clinic's own rules at any time (``by_clinic``: a safety screen stopping a session)."""
    booking = Booking.objects.select_for_update().get(pk=booking.pk)
    if booking.status != BookingStatus.CONFIRMED:
        raise BookingError("This appointment is not active any more.")
    by_staff = by_clinic or (actor is not None and actor.is_clinic_staff)
    if not by_staff and not in_cutoff(booking):
        raise PastCutoff()
    booking.status = BookingStatus.CANCELLED
    booking.cancelled_at = timezone.now()
    booking.cancelled_by = actor
    booking.cancel_reason = reason[:300]
    booking.ics_sequence += 1
    booking.save(update_fields=["status", "cancelled_at", "cancelled_by", "cancel_reason", "ics_sequence"])
    availability.schedule_changed([booking.clinician_id])
    audit_record(
        action=Action.BOOKING_CANCELLED,
        actor=actor,
        actor_label="" if actor else "manage link",
        subject=booking,
        patient=booking.patient,
        via=via,
        # A fixed code: the typed reason stays on the booking, encrypted.
        reason="by_clinic" if by_staff else "by_patient",
    )
    signals.booking_cancelled.send(sender=Booking, booking=booking, actor=actor, via=via)
    _email_booking(
        booking,
        template="scheduling/email/cancelled",
        method="CANCEL",
        extra={"by": "clinic" if by_staff else "patient"},
    )
    transaction.on_commit(lambda: notify_waitlist.enqueue(jurisdiction=booking.jurisdiction))
    return booking


@transaction.atomic
def do_reschedule(
    *, actor: User | None, booking: Booking, hold: Hold, holder: str, via: Via | None = None
) -> tuple[Booking, str]:
    """Move a booking to the held time in one transaction: the old time is freed only if the new
    one is taken. The manage link is renewed (the updated email and .ics carry the new one; the
    old link stops working) and returned, with the booking."""
    booking = Booking.objects.select_for_update().get(pk=booking.pk)
    if booking.status != BookingStatus.CONFIRMED:
        raise BookingError("This appointment is not active any more.")
    if booking.is_treatment_session:
        raise SessionMovedByClinic()
    if booking_block(booking.patient) is not None:
        raise SafetyHold()
    if not in_cutoff(booking):
        raise PastCutoff()
    if (
        hold.reschedule_of_id != booking.pk
        or hold.expires_at <= timezone.now()
        or hold.session_key_hash != session_hash(holder)
    ):
        raise HoldExpired()
    check_adult(booking.patient, hold.start, hold.patient_time_zone)
    _lock_clinicians([hold.clinician, booking.clinician])
    if hold.start <= timezone.now() or not _candidates(
        jurisdiction=hold.jurisdiction,
        appointment_type=hold.appointment_type,
        start=hold.start,
        clinician_id=str(hold.clinician.public_id),
        ignore_hold=hold,
        ignore_booking=booking,
        notice_from=hold.created_at,
    ):
        raise SlotTaken()
    old_start, old_clinician = booking.start, booking.clinician_id
    booking.clinician = hold.clinician
    booking.start = hold.start
    booking.end = hold.start + hold.appointment_type.duration
    booking.blocked_start = hold.blocked_start
    booking.blocked_end = hold.blocked_end
    booking.patient_time_zone = hold.patient_time_zone
    booking.ics_sequence += 1
    # The triage follows the latest screen; a safety flag is never dropped by a move.
    booking.intake = screen_for_booking(booking.patient) or booking.intake
    booking.safety_first = booking.safety_first or needs_safety_first(booking.patient)
    token = new_token()
    booking.manage_token_hash = hash_token(token)
    try:
        with transaction.atomic():
            booking.save(
                update_fields=[
                    "clinician",
                    "start",
                    "end",
                    "blocked_start",
                    "blocked_end",
                    "patient_time_zone",
                    "ics_sequence",
                    "intake",
                    "safety_first",
                    "manage_token_hash",
                ]  # fmt: skip
            )
    except IntegrityError:
        raise SlotTaken() from None
    hold.delete()
    availability.schedule_changed([old_clinician, booking.clinician_id])
    audit_record(
        action=Action.BOOKING_RESCHEDULED,
        actor=actor,
        actor_label="" if actor else "manage link",
        subject=booking,
        patient=booking.patient,
        via=via,
        reason=f"from {old_start.isoformat()}",
    )
    _email_booking(booking, template="scheduling/email/rescheduled", token=token)
    transaction.on_commit(lambda: notify_waitlist.enqueue(jurisdiction=booking.jurisdiction))
    return booking, token


@transaction.atomic
def do_complete(*, actor: User, booking: Booking, via: Via | None = None) -> Booking:
    """The consultation's note is signed: the booking is completed (no longer joined, moved or
    cancelled; the patient sees the doctor's message)."""
    booking = Booking.objects.select_for_update().get(pk=booking.pk)
    if booking.status == BookingStatus.CONFIRMED:
        booking.status = BookingStatus.COMPLETED
        booking.save(update_fields=["status"])
        audit_record(
            action=Action.BOOKING_COMPLETED, actor=actor, subject=booking, patient=booking.patient, via=via
        )
    return booking


@transaction.atomic
def do_mark_no_show(
    *, actor: User, booking: Booking, by: NoShowBy = NoShowBy.PATIENT, via: Via | None = None
) -> Booking:
    booking = Booking.objects.select_for_update().get(pk=booking.pk)
    if booking.status != BookingStatus.CONFIRMED:
        raise BookingError("Only a confirmed appointment can be marked as a no-show.")
    if timezone.now() < booking.start:
        raise BookingError("An appointment can be marked as a no-show only after its start time.")
    booking.status = BookingStatus.NO_SHOW
    booking.no_show_marked_at = timezone.now()
    booking.no_show_by = by
    booking.save(update_fields=["status", "no_show_marked_at", "no_show_by"])
    availability.schedule_changed([booking.clinician_id])
    audit_record(
        action=Action.BOOKING_NO_SHOW, actor=actor, subject=booking, patient=booking.patient, via=via
    )
    signals.booking_no_show.send(sender=Booking, booking=booking, actor=actor, via=via)
    return booking


@transaction.atomic
def do_join_waitlist(
    *, email: str, jurisdiction: str, patient: User | None = None, via: Via | None = None
) -> WaitlistEntry:
    entry, _ = WaitlistEntry.objects.get_or_create(
        email_hash=email_key(email),
        jurisdiction=jurisdiction,
        notified_at=None,
        defaults={"email": email.strip().lower(), "patient": patient, "created_at": timezone.now()},
    )
    audit_record(action=Action.WAITLIST_JOINED, actor=patient, subject=entry, via=via, reason=jurisdiction)
    return entry


def _ics_domain() -> str:
    return settings.SITE_URL.split("//", 1)[-1].split("/", 1)[0].split(":", 1)[0] or "mendwell.local"


def _email_booking(
    booking: Booking,
    *,
    template: str,
    method: str = "REQUEST",
    token: str | None = None,
    extra: dict[str, str] | None = None,
) -> None:
    """Queue a booking email (``scheduling.emails``). The worker builds it from the booking's
    id; a raw manage ``token``, for any booking email, travels sealed and is never stored."""
    queue_email(
        template,
        refs={"booking": str(booking.public_id), "method": method, **(extra or {})},
        secrets={"manage_token": token} if token else None,
    )


# Availability, licences and appointment types: every change drops the slot cache and tells the
# waitlist. ------------------------------------------------------------------------------------


def _availability_changed(clinician: User, what: str, via: Via | None) -> None:
    availability.schedule_changed([clinician])
    audit_record(action=Action.AVAILABILITY_CHANGED, actor=clinician, subject=clinician, via=via, reason=what)
    jurisdictions = list(clinician.licences.values_list("jurisdiction", flat=True))
    transaction.on_commit(lambda: [notify_waitlist.enqueue(jurisdiction=j) for j in jurisdictions])


@transaction.atomic
def do_add_weekly_hours(
    *, clinician: User, weekday: int, start: dt.time, end: dt.time, via: Via | None = None
) -> WeeklyHours:
    row = WeeklyHours.objects.create(clinician=clinician, weekday=weekday, start=start, end=end)
    _availability_changed(clinician, "weekly hours added", via)
    return row


@transaction.atomic
def do_add_date_override(
    *, clinician: User, date: dt.date, start: dt.time | None, end: dt.time | None, via: Via | None = None
) -> DateOverride:
    row = DateOverride.objects.create(clinician=clinician, date=date, start=start, end=end)
    _availability_changed(clinician, "date override added", via)
    return row


@transaction.atomic
def do_add_time_off(
    *, clinician: User, start: dt.datetime, end: dt.datetime, note: str = "", via: Via | None = None
) -> TimeOff:
    row = TimeOff.objects.create(clinician=clinician, start=start, end=end, note=note)
    _availability_changed(clinician, "time off added", via)
    return row


AVAILABILITY_KINDS: dict[str, type[WeeklyHours] | type[DateOverride] | type[TimeOff]] = {
    "weekly": WeeklyHours,
    "override": DateOverride,
    "off": TimeOff,
}


@transaction.atomic
def do_remove_availability(
    *, clinician: User, kind: str, public_id: uuid.UUID, via: Via | None = None
) -> bool:
    """Remove one of the clinician's own rows; False when there is no such row of theirs."""
    model = AVAILABILITY_KINDS.get(kind)
    if model is None:
        return False
    deleted, _ = model.objects.filter(public_id=public_id, clinician=clinician).delete()
    if deleted:
        _availability_changed(clinician, f"{kind} removed", via)
    return bool(deleted)


@transaction.atomic
def do_add_licence(
    *,
    actor: User,
    clinician: User,
    jurisdiction: str,
    number: str,
    expires_on: dt.date,
    via: Via | None = None,
) -> Licence:
    """Staff record a licence; it counts only once verified against the state board."""
    licence = Licence.objects.create(
        clinician=clinician, jurisdiction=jurisdiction, number=number, expires_on=expires_on
    )
    audit_record(action=Action.LICENCE_ADDED, actor=actor, subject=licence, via=via, reason=jurisdiction)
    return licence


@transaction.atomic
def do_verify_licence(*, actor: User, licence: Licence, via: Via | None = None) -> Licence:
    licence = Licence.objects.select_for_update().get(pk=licence.pk)
    if licence.verified_at is None:
        licence.verified_by = actor
        licence.verified_at = timezone.now()
        licence.save(update_fields=["verified_by", "verified_at"])
        audit_record(
            action=Action.LICENCE_VERIFIED, actor=actor, subject=licence, via=via, reason=licence.jurisdiction
        )
        jurisdiction = licence.jurisdiction
        transaction.on_commit(lambda: notify_waitlist.enqueue(jurisdiction=jurisdiction))
    return licence


@transaction.atomic
def do_save_appointment_type(
    *, actor: User, appointment_type: AppointmentType, values: dict, via: Via | None = None
) -> AppointmentType:
    for field, value in values.items():
        setattr(appointment_type, field, value)
    appointment_type.save()
    availability.schedule_changed()  # everyone's (the rules are part of each entry's stamp too)
    audit_record(action=Action.APPOINTMENT_TYPE_CHANGED, actor=actor, subject=appointment_type, via=via)
    return appointment_type
