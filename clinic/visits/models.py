import datetime as dt
import secrets
import uuid

from django.conf import settings
from django.db import models

from clinic.accounts.models import User
from clinic.crypto import EncryptedTextField


def room_name() -> str:
    return secrets.token_urlsafe(18)


class Visit(models.Model):
    """The video visit of one booking: where the patient says they are, the waiting room, and
    whether the clinician has let them in."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    booking = models.OneToOneField("scheduling.Booking", on_delete=models.PROTECT, related_name="visit")
    # Unguessable: also the Jitsi room name when that provider is used.
    room = models.CharField(max_length=40, unique=True, default=room_name)
    attested_jurisdiction = models.CharField(max_length=6, blank=True)
    # Shown only to the clinician, used only if emergency services must be sent during the call.
    attested_address = EncryptedTextField(blank=True)
    callback_phone = EncryptedTextField(blank=True)
    attested_at = models.DateTimeField(null=True, blank=True)
    waiting_since = models.DateTimeField(null=True, blank=True)
    admitted_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Visit {self.public_id}"


def window(booking: "models.Model") -> tuple[dt.datetime, dt.datetime]:
    """When the visit page is open for a booking: from a little before the start until a while
    after the scheduled end."""
    opens = booking.start - settings.VISIT_OPENS_BEFORE  # type: ignore[attr-defined]
    closes = booking.end + settings.VISIT_CLOSES_AFTER  # type: ignore[attr-defined]
    return opens, closes


class Participant(models.TextChoices):
    PATIENT = "patient", "Patient"
    CLINICIAN = "clinician", "Clinician"


class Attendance(models.Model):
    """One participant's connection to the call: when they joined and when they left."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="attendance")
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=16, choices=Participant.choices)
    joined_at = models.DateTimeField()
    left_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["joined_at"]

    def __str__(self) -> str:
        return f"{self.role} {self.joined_at:%H:%M}"


class IdentityMethod(models.TextChoices):
    PHOTO_ID = "photo_id", "Photo ID shown on camera"
    DOB_ADDRESS = "dob_address", "Date of birth and address confirmed"


class RiskLevel(models.TextChoices):
    LOW = "low", "Low"
    MODERATE = "moderate", "Moderate"
    HIGH = "high", "High"
    IMMINENT = "imminent", "Imminent"


class Decision(models.TextChoices):
    SUITABLE = "suitable", "Suitable for an in-person treatment assessment"
    NOT_SUITABLE = "not_suitable", "Not suitable"
    MORE_INFO = "more_info", "More information needed"


class ConsultNote(models.Model):
    """The clinician's note of a consultation. A draft autosaves; signing makes it permanent,
    and the database itself refuses to change or delete a signed note (migration 0003):
    corrections are addenda.

    ``decision`` is stored plainly for the clinic's funnel report (a count of decisions says
    nothing about a person); everything written about the patient is encrypted.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    booking = models.OneToOneField("scheduling.Booking", on_delete=models.PROTECT, related_name="note")
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    # Visit start checklist (telehealth rules in most US states).
    identity_method = models.CharField(max_length=16, choices=IdentityMethod.choices, blank=True)
    location_confirmed = models.BooleanField(default=False)
    others_present = EncryptedTextField(blank=True)
    # The note.
    reason = EncryptedTextField(blank=True)
    history_reviewed = EncryptedTextField(blank=True)
    risk_level = EncryptedTextField(blank=True)
    safety_plan = EncryptedTextField(blank=True)
    contraindications_reviewed = EncryptedTextField(blank=True)
    plan = EncryptedTextField(blank=True)
    follow_up = EncryptedTextField(blank=True)
    decision = models.CharField(max_length=16, choices=Decision.choices, blank=True)
    decision_reason = EncryptedTextField(blank=True)
    patient_message = EncryptedTextField(blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    signed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(signed_at__isnull=True) | ~models.Q(decision=""),
                name="signed_note_has_decision",
            )
        ]

    def __str__(self) -> str:
        return f"Note {self.public_id}"

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None


class NoteAddendum(models.Model):
    """A correction or addition to a signed note. Append-only, like the audit log."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    note = models.ForeignKey(ConsultNote, on_delete=models.PROTECT, related_name="addenda")
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    text = EncryptedTextField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"Addendum {self.public_id}"


class BreakGlass(models.Model):
    """A clinician's emergency access to a patient who is not theirs: a reason, a time limit,
    an audit row, and a line on the staff review list."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    clinician = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    # Typed by the clinician, may name clinical detail: encrypted. ``do_break_glass`` refuses an
    # empty reason (a database check cannot see through the encryption).
    reason = EncryptedTextField()
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    reviewed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Break-glass {self.public_id}"
