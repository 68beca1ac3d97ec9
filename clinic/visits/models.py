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


class Attendance(models.Model):
    """One participant's connection to the call: when they joined and when they left."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="attendance")
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=16)
    joined_at = models.DateTimeField()
    left_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["joined_at"]

    def __str__(self) -> str:
        return f"{self.role} {self.joined_at:%H:%M}"
