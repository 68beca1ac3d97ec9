import uuid

from django.conf import settings
from django.db import models


class Action(models.TextChoices):
    SIGNED_IN = "auth.signed_in", "Signed in"
    SIGN_IN_FAILED = "auth.sign_in_failed", "Sign-in failed"
    SIGNED_OUT = "auth.signed_out", "Signed out"
    SESSION_EXPIRED = "auth.session_expired", "Session expired"
    PASSWORD_CHANGED = "auth.password_changed", "Password changed"
    PASSWORD_RESET = "auth.password_reset", "Password reset"
    MFA_ADDED = "mfa.added", "MFA method added"
    MFA_REMOVED = "mfa.removed", "MFA method removed"
    MFA_RESET = "mfa.recovery_codes_reset", "Recovery codes regenerated"
    USER_INVITED = "user.invited", "Person invited"
    CONTACT_RECEIVED = "contact.received", "Contact message received"
    CONTACT_READ = "contact.read", "Contact message read"
    CONTACT_STATUS = "contact.status_changed", "Contact message status changed"
    AUDIT_VIEWED = "audit.viewed", "Audit log viewed"
    KEYS_ROTATED = "crypto.keys_rotated", "Encryption keys rotated"
    BOOKING_CREATED = "booking.created", "Booking made"
    BOOKING_CANCELLED = "booking.cancelled", "Booking cancelled"
    BOOKING_RESCHEDULED = "booking.rescheduled", "Booking rescheduled"
    BOOKING_NO_SHOW = "booking.no_show", "Marked as no-show"
    BOOKING_VIEWED = "booking.viewed", "Booking opened"
    WAITLIST_JOINED = "waitlist.joined", "Joined a waitlist"
    AVAILABILITY_CHANGED = "availability.changed", "Availability changed"
    LICENCE_VERIFIED = "licence.verified", "Licence verified"
    APPOINTMENT_TYPE_CHANGED = "appointment_type.changed", "Appointment type changed"
    INTAKE_STARTED = "intake.started", "Intake started"
    INTAKE_SUBMITTED = "intake.submitted", "Intake submitted"
    INTAKE_VIEWED = "intake.viewed", "Intake opened"
    URGENT_CREATED = "urgent.created", "Urgent item raised"
    URGENT_ACKNOWLEDGED = "urgent.acknowledged", "Urgent item acknowledged"
    CALLBACK_REQUESTED = "urgent.callback_requested", "Urgent call-back requested"
    BREAK_GLASS = "access.break_glass", "Break-glass access"
    BREAK_GLASS_REVIEWED = "access.break_glass_reviewed", "Break-glass access reviewed"
    ON_CALL_CHANGED = "user.on_call_changed", "On-call changed"
    PROFILE_UPDATED = "profile.updated", "Profile updated"
    VISIT_ATTESTED = "visit.location_attested", "Location attested for a visit"
    VISIT_WAITING = "visit.waiting", "Patient in the waiting room"
    VISIT_ADMITTED = "visit.admitted", "Patient admitted"
    VISIT_JOINED = "visit.joined", "Joined the call"
    VISIT_LEFT = "visit.left", "Left the call"
    VISIT_BLOCKED = "visit.blocked_unlicensed", "Visit blocked: no licence where the patient is"
    BOOKING_STARTED = "booking.started", "Booking started (time held)"
    NOTE_SAVED = "note.saved", "Note draft saved"
    NOTE_SIGNED = "note.signed", "Note signed"
    NOTE_ADDENDUM = "note.addendum", "Addendum added"
    NOTE_VIEWED = "note.viewed", "Note opened"
    CHART_VIEWED = "chart.viewed", "Chart opened"
    MESSAGE_READ = "message.read", "Doctor's message read"
    DATA_EXPORTED = "data.exported", "Data downloaded"
    REMINDER_QUEUED = "reminder.queued", "Reminder queued"


class AuditEvent(models.Model):
    """One thing that happened, who did it, to what, from where. Append-only.

    UPDATE and DELETE are refused by database triggers (migration 0002), on SQLite and
    PostgreSQL alike, so not even a bug in this codebase can rewrite history. Rows hold
    identifiers and action names only: never health data.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Kept beside the foreign key: a failed sign-in has no user, only the email that was tried.
    actor_label = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=64, choices=Action.choices, db_index=True)
    subject_type = models.CharField(max_length=64, blank=True)
    subject_id = models.CharField(max_length=64, blank=True, db_index=True)
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    ip = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["patient", "-at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action}"
