from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid

from django.db import models
from django.db.models import Q
from django.utils.crypto import salted_hmac

from clinic.accounts.models import User
from clinic.crypto import EncryptedTextField


class AppointmentKind(models.TextChoices):
    CONSULTATION = "consultation", "Free consultation"
    FOLLOW_UP = "follow_up", "Follow-up"
    # Treatment sessions (clinic.care), booked by the clinician: in clinic, or at home watched
    # over video.
    SESSION_CLINIC = "session_clinic", "Treatment session in clinic"
    SESSION_HOME = "session_home", "Treatment session at home, supervised over video"


SESSION_KINDS = (AppointmentKind.SESSION_CLINIC, AppointmentKind.SESSION_HOME)


class AppointmentType(models.Model):
    """What can be booked and the rules for booking it. Staff edit these."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=16, choices=AppointmentKind.choices, unique=True)
    name = models.CharField(max_length=80)
    duration_minutes = models.PositiveSmallIntegerField(default=20)
    buffer_before_minutes = models.PositiveSmallIntegerField(default=0)
    buffer_after_minutes = models.PositiveSmallIntegerField(default=10)
    min_notice_minutes = models.PositiveIntegerField(default=120)
    horizon_days = models.PositiveSmallIntegerField(default=30)
    max_per_day = models.PositiveSmallIntegerField(null=True, blank=True)
    cancel_cutoff_hours = models.PositiveSmallIntegerField(default=2)
    patient_bookable = models.BooleanField(default=True)
    # At the clinic's site rather than over video: the emails say where, not how to join.
    in_person = models.BooleanField(default=False)

    class Meta:
        ordering = ["kind"]
        constraints = [
            models.CheckConstraint(condition=Q(duration_minutes__gte=5), name="type_duration_at_least_5"),
            models.CheckConstraint(condition=Q(horizon_days__gte=1), name="type_horizon_at_least_1"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def duration(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.duration_minutes)

    def blocked(self, start: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
        """The time a booking at ``start`` keeps the clinician busy, buffers included."""
        return (
            start - dt.timedelta(minutes=self.buffer_before_minutes),
            start + self.duration + dt.timedelta(minutes=self.buffer_after_minutes),
        )


class WeeklyHours(models.Model):
    """A window of a clinician's usual week, in the clinician's own time zone."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    clinician = models.ForeignKey(User, on_delete=models.CASCADE, related_name="weekly_hours")
    weekday = models.PositiveSmallIntegerField(choices=[(i, d) for i, d in enumerate(
        ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"])])  # fmt: skip
    start = models.TimeField()
    end = models.TimeField()

    class Meta:
        ordering = ["clinician", "weekday", "start"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="weekly_end_after_start"),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="weekly_weekday_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}-{self.end:%H:%M}"


class DateOverride(models.Model):
    """Hours for one date that replace the weekly hours. A row without times closes the day."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    clinician = models.ForeignKey(User, on_delete=models.CASCADE, related_name="date_overrides")
    date = models.DateField()
    start = models.TimeField(null=True, blank=True)
    end = models.TimeField(null=True, blank=True)

    class Meta:
        ordering = ["clinician", "date", "start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(start__isnull=True, end__isnull=True)
                | Q(start__isnull=False, end__isnull=False, end__gt=models.F("start")),
                name="override_closed_or_valid_window",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date} {'closed' if self.start is None else f'{self.start:%H:%M}-{self.end:%H:%M}'}"


class TimeOff(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    clinician = models.ForeignKey(User, on_delete=models.CASCADE, related_name="time_off")
    start = models.DateTimeField()
    end = models.DateTimeField()
    # Typed by the clinician ("dentist"): encrypted like everything a person writes.
    note = EncryptedTextField(blank=True)

    class Meta:
        ordering = ["clinician", "start"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="timeoff_end_after_start")
        ]

    def __str__(self) -> str:
        return f"{self.clinician} off {self.start:%Y-%m-%d %H:%M}"


class Hold(models.Model):
    """A slot kept for one person for a few minutes while they sign in and confirm."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    clinician = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    appointment_type = models.ForeignKey(AppointmentType, on_delete=models.PROTECT)
    start = models.DateTimeField()
    blocked_start = models.DateTimeField()
    blocked_end = models.DateTimeField()
    jurisdiction = models.CharField(max_length=6)
    patient_time_zone = models.CharField(max_length=64)
    session_key_hash = models.CharField(max_length=64)
    # Set when a hold is taken for rescheduling an existing booking.
    reschedule_of = models.ForeignKey(
        "Booking", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    expires_at = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["clinician", "blocked_start"])]

    def __str__(self) -> str:
        return f"Hold {self.public_id}"


class BookingStatus(models.TextChoices):
    CONFIRMED = "confirmed", "Confirmed"
    # The clinician signed the note: the consultation happened and its record is final.
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    NO_SHOW = "no_show", "No-show"


# Still to happen (can be joined, moved, cancelled).
ACTIVE_STATUSES = [BookingStatus.CONFIRMED]
# Keeps the clinician's time and counts toward the day's cap.
BUSY_STATUSES = [BookingStatus.CONFIRMED, BookingStatus.COMPLETED]


class NoShowBy(models.TextChoices):
    PATIENT = "patient", "Patient"
    CLINICIAN = "clinician", "Clinician"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(24)


class BookingQuerySet(models.QuerySet["Booking"]):
    """The permission-scoped lookups: a view finds a booking only through the one that fits the
    person asking, so another person's booking is simply not found (404)."""

    def for_patient(self, patient: User) -> BookingQuerySet:
        return self.filter(patient=patient)

    def for_clinician(self, clinician: User) -> BookingQuerySet:
        return self.filter(clinician=clinician)

    def by_manage_token(self, token: str) -> BookingQuerySet:
        """The booking an emailed manage link names (only the token's hash is stored)."""
        return self.filter(manage_token_hash=hash_token(token))


class Booking(models.Model):
    """A booked appointment. Overlap with another active booking of the same clinician is made
    impossible by the database on PostgreSQL (exclusion constraint over blocked_start..end, see
    migration 0003) and by IMMEDIATE transactions with a re-check on SQLite."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(User, on_delete=models.PROTECT, related_name="bookings")
    clinician = models.ForeignKey(User, on_delete=models.PROTECT, related_name="clinician_bookings")
    appointment_type = models.ForeignKey(AppointmentType, on_delete=models.PROTECT)
    start = models.DateTimeField(db_index=True)
    end = models.DateTimeField()
    blocked_start = models.DateTimeField()
    blocked_end = models.DateTimeField()
    jurisdiction = models.CharField(max_length=6)
    patient_time_zone = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=BookingStatus.choices, default=BookingStatus.CONFIRMED)
    created_at = models.DateTimeField()
    idempotency_key = models.CharField(max_length=64, unique=True)
    manage_token_hash = models.CharField(max_length=64, unique=True)
    ics_uid = models.CharField(max_length=120, unique=True)
    ics_sequence = models.PositiveIntegerField(default=0)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # Typed by the patient or by staff: encrypted. The audit row says only who cancelled.
    cancel_reason = EncryptedTextField(blank=True)
    no_show_marked_at = models.DateTimeField(null=True, blank=True)
    # Who did not come: the patient, or (rarely) the clinician.
    no_show_by = models.CharField(max_length=16, choices=NoShowBy.choices, blank=True)
    intake = models.ForeignKey(
        "intake.IntakeResponse", null=True, blank=True, on_delete=models.PROTECT, related_name="bookings"
    )
    # Triage said "safety assessment first": the visit opens with it (INSTRUMENTS.md).
    safety_first = models.BooleanField(default=False)

    objects = BookingQuerySet.as_manager()

    class Meta:
        ordering = ["start"]
        indexes = [
            models.Index(fields=["clinician", "status", "blocked_start"]),
            models.Index(fields=["patient", "status", "start"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="booking_end_after_start"),
            models.CheckConstraint(
                condition=Q(blocked_start__lte=models.F("start")) & Q(blocked_end__gte=models.F("end")),
                name="booking_blocked_covers_visit",
            ),
            models.CheckConstraint(condition=Q(status__in=BookingStatus.values), name="booking_status_valid"),
        ]

    def __str__(self) -> str:
        return f"Booking {self.public_id}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def is_treatment_session(self) -> bool:
        """A session of a treatment course: booked and moved by the clinician, not the patient."""
        return self.appointment_type.kind in SESSION_KINDS


class ReminderKind(models.TextChoices):
    DAY_BEFORE = "24h", "24 hours before"
    HOUR_BEFORE = "1h", "1 hour before"


class ReminderSent(models.Model):
    """One reminder, claimed once. The unique constraint is what makes the sweep idempotent:
    two workers, or a sweep re-run after a crash, cannot both claim the same reminder. The
    booking's start is part of the key, so a rescheduled booking gets fresh reminders."""

    booking = models.ForeignKey("Booking", on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=8, choices=ReminderKind.choices)
    start = models.DateTimeField()
    claimed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["booking", "kind", "start"], name="reminder_once"),
        ]

    def __str__(self) -> str:
        return f"Reminder {self.kind} for {self.booking_id}"


class CoverageNotice(models.Model):
    """A booking its clinician's licence no longer covers, noticed once per booking time: listed
    for staff and the clinician, and the patient offered another licensed doctor."""

    booking = models.ForeignKey("Booking", on_delete=models.CASCADE, related_name="coverage_notices")
    start = models.DateTimeField()
    clinician = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    noticed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["booking", "start", "clinician"], name="coverage_notice_once"),
        ]

    def __str__(self) -> str:
        return f"Coverage notice for {self.booking_id}"


def email_key(email: str) -> str:
    """A keyed hash of an address (HMAC under SECRET_KEY): equal for equal addresses, useless
    without the key."""
    return salted_hmac("mendwell.waitlist.email", email.strip().lower(), algorithm="sha256").hexdigest()


class WaitlistEntry(models.Model):
    """Someone who found no slot for a jurisdiction; emailed when slots appear."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # The address of someone looking for treatment: encrypted, found again only by its keyed hash
    # (``email_key``), which is what keeps one entry per person and jurisdiction while waiting.
    email = EncryptedTextField()
    email_hash = models.CharField(max_length=64)
    jurisdiction = models.CharField(max_length=6, db_index=True)
    patient = models.ForeignKey(User, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField()
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["email_hash", "jurisdiction"],
                condition=Q(notified_at__isnull=True),
                name="waitlist_once_while_waiting",
            )
        ]

    def __str__(self) -> str:
        return f"Waitlist {self.jurisdiction}"
