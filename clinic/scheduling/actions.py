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
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from clinic.accounts.models import PatientProfile, User, age_on
from clinic.audit.actions import audit_record
from clinic.audit.models import Action
from clinic.intake.actions import fresh_intake, notify_booked_clinician
from clinic.intake.models import TriageLevel
from clinic.mail import queue_email
from clinic.scheduling import availability
from clinic.scheduling.ics import booking_ics
from clinic.scheduling.models import (
    AppointmentKind,
    AppointmentType,
    Booking,
    BookingStatus,
    Hold,
    WaitlistEntry,
    hash_token,
    new_token,
)
from clinic.scheduling.tasks import notify_waitlist

HOLD_MINUTES = 10
ADULT_AGE = 18


class BookingError(Exception):
    """A booking rule said no. ``message`` is shown to the person as it is."""

    code = "booking_refused"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


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
    availability.schedule_changed()
    if reschedule_of is None:
        # Counted by the staff funnel report ("booking started"); no person is named.
        audit_record(action=Action.BOOKING_STARTED, subject=held, reason=jurisdiction)
    return held


def check_adult(patient: User, visit_start: dt.datetime, zone: str) -> None:
    profile = PatientProfile.objects.filter(user=patient).first()
    birth = profile.birth_date if profile else None
    if birth is None:
        raise BookingError("Please tell us your date of birth.")
    if age_on(birth, visit_start.astimezone(ZoneInfo(zone)).date()) < ADULT_AGE:
        raise NotAdult()


@transaction.atomic
def do_book(
    *,
    patient: User,
    hold: Hold,
    holder: str,
    idempotency_key: str,
    date_of_birth: dt.date | None = None,
    request: HttpRequest | None = None,
) -> tuple[Booking, str | None]:
    """Turn a hold into a booking. Returns the booking and, the first time only, the raw manage
    token (only its hash is stored). The same idempotency key returns the same booking."""
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
    intake = fresh_intake(patient, now)
    if intake is None:
        raise IntakeRequired()
    appointment_type = hold.appointment_type
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
    clinician = hold.clinician
    _lock_clinicians([clinician])
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
                safety_first=intake.triage == TriageLevel.SAFETY_FIRST,
            )
    except IntegrityError:
        # A double click that raced us to the same idempotency key gets the same booking;
        # anything else is the exclusion constraint (PostgreSQL) refusing an overlap.
        twin = Booking.objects.filter(idempotency_key=idempotency_key, patient=patient).first()
        if twin is not None:
            return twin, None
        raise SlotTaken() from None
    hold.delete()
    availability.schedule_changed()
    audit_record(
        action=Action.BOOKING_CREATED, actor=patient, subject=booking, patient=patient, request=request
    )
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
    request: HttpRequest | None = None,
) -> Booking:
    """A clinician books a follow-up for their patient in one of their own free slots. The same
    lock, re-check and (PostgreSQL) exclusion constraint as any booking."""
    appointment_type = AppointmentType.objects.get(kind=AppointmentKind.FOLLOW_UP)
    start = start.astimezone(dt.UTC)
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
                intake=fresh_intake(patient),
            )
    except IntegrityError:
        raise SlotTaken() from None
    availability.schedule_changed()
    audit_record(
        action=Action.BOOKING_CREATED,
        actor=clinician,
        subject=booking,
        patient=patient,
        request=request,
        reason="follow-up",
    )
    _email_booking(booking, template="scheduling/email/booked", token=token)
    return booking


def in_cutoff(booking: Booking, now: dt.datetime | None = None) -> bool:
    """True while the patient may still cancel or reschedule online."""
    now = now or timezone.now()
    return now < booking.start - dt.timedelta(hours=booking.appointment_type.cancel_cutoff_hours)


@transaction.atomic
def do_cancel(
    *, actor: User | None, booking: Booking, reason: str = "", request: HttpRequest | None = None
) -> Booking:
    """Cancel. A patient may do it up to the cut-off; staff at any time, with a reason."""
    booking = Booking.objects.select_for_update().get(pk=booking.pk)
    if booking.status != BookingStatus.CONFIRMED:
        raise BookingError("This appointment is not active any more.")
    by_staff = actor is not None and actor.is_clinic_staff
    if not by_staff and not in_cutoff(booking):
        raise PastCutoff()
    booking.status = BookingStatus.CANCELLED
    booking.cancelled_at = timezone.now()
    booking.cancelled_by = actor
    booking.cancel_reason = reason[:300]
    booking.ics_sequence += 1
    booking.save(update_fields=["status", "cancelled_at", "cancelled_by", "cancel_reason", "ics_sequence"])
    availability.schedule_changed()
    audit_record(
        action=Action.BOOKING_CANCELLED,
        actor=actor,
        actor_label="" if actor else "manage link",
        subject=booking,
        patient=booking.patient,
        request=request,
        reason=reason[:300],
    )
    _email_booking(
        booking,
        template="scheduling/email/cancelled",
        method="CANCEL",
        extra={"by_clinic": by_staff, "reason": reason},
    )
    transaction.on_commit(lambda: notify_waitlist.enqueue(jurisdiction=booking.jurisdiction))
    return booking


@transaction.atomic
def do_reschedule(
    *, actor: User | None, booking: Booking, hold: Hold, holder: str, request: HttpRequest | None = None
) -> Booking:
    """Move a booking to the held time in one transaction: the old time is freed only if the new
    one is taken."""
    booking = Booking.objects.select_for_update().get(pk=booking.pk)
    if booking.status != BookingStatus.CONFIRMED:
        raise BookingError("This appointment is not active any more.")
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
    old_start = booking.start
    booking.clinician = hold.clinician
    booking.start = hold.start
    booking.end = hold.start + hold.appointment_type.duration
    booking.blocked_start = hold.blocked_start
    booking.blocked_end = hold.blocked_end
    booking.patient_time_zone = hold.patient_time_zone
    booking.ics_sequence += 1
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
                ]  # fmt: skip
            )
    except IntegrityError:
        raise SlotTaken() from None
    hold.delete()
    availability.schedule_changed()
    audit_record(
        action=Action.BOOKING_RESCHEDULED,
        actor=actor,
        actor_label="" if actor else "manage link",
        subject=booking,
        patient=booking.patient,
        request=request,
        reason=f"from {old_start.isoformat()}",
    )
    _email_booking(booking, template="scheduling/email/rescheduled")
    transaction.on_commit(lambda: notify_waitlist.enqueue(jurisdiction=booking.jurisdiction))
    return booking


@transaction.atomic
def do_mark_no_show(*, actor: User, booking: Booking, request: HttpRequest | None = None) -> Booking:
    booking = Booking.objects.select_for_update().get(pk=booking.pk)
    if booking.status != BookingStatus.CONFIRMED:
        raise BookingError("Only a confirmed appointment can be marked as a no-show.")
    if timezone.now() < booking.start:
        raise BookingError("An appointment can be marked as a no-show only after its start time.")
    booking.status = BookingStatus.NO_SHOW
    booking.no_show_marked_at = timezone.now()
    booking.save(update_fields=["status", "no_show_marked_at"])
    availability.schedule_changed()
    audit_record(
        action=Action.BOOKING_NO_SHOW, actor=actor, subject=booking, patient=booking.patient, request=request
    )
    return booking


@transaction.atomic
def do_join_waitlist(
    *, email: str, jurisdiction: str, patient: User | None = None, request: HttpRequest | None = None
) -> WaitlistEntry:
    entry, _ = WaitlistEntry.objects.get_or_create(
        email=email.lower(),
        jurisdiction=jurisdiction,
        notified_at=None,
        defaults={"patient": patient, "created_at": timezone.now()},
    )
    audit_record(
        action=Action.WAITLIST_JOINED, actor=patient, subject=entry, request=request, reason=jurisdiction
    )
    return entry


def _ics_domain() -> str:
    return settings.SITE_URL.split("//", 1)[-1].split("/", 1)[0].split(":", 1)[0] or "mendwell.local"


def _email_booking(
    booking: Booking,
    *,
    template: str,
    method: str = "REQUEST",
    token: str | None = None,
    extra: dict | None = None,
) -> None:
    manage_url = f"{settings.SITE_URL}{reverse('scheduling:manage', args=[token])}" if token else ""
    zone = ZoneInfo(booking.patient_time_zone)
    ics = booking_ics(booking, method=method, manage_url=manage_url)
    queue_email(
        to=booking.patient.email,
        template=template,
        context={
            "when": booking.start.astimezone(zone),
            "zone": booking.patient_time_zone,
            "clinician": booking.clinician.display_name,
            "manage_url": manage_url,
            "account_url": f"{settings.SITE_URL}{reverse('accounts:home')}",
            **(extra or {}),
        },
        attachments=[["appointment.ics", ics, f"text/calendar; method={method}"]],
    )
