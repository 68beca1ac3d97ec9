import json
import uuid
from typing import Any

from django.db import models
from django.db.models import Q

from clinic.accounts.models import User
from clinic.crypto import EncryptedTextField


class IntakeStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    # Stopped at an acute screen: the crisis page came next, not the rest of the form.
    STOPPED_ACUTE = "stopped_acute", "Stopped: acute risk"


class TriageLevel(models.TextChoices):
    ROUTINE = "routine", "Routine"
    SAFETY_FIRST = "safety_assessment_first", "Safety assessment first"
    ACUTE = "acute", "Acute"


class IntakeResponse(models.Model):
    """One patient's intake: answers (encrypted), the instrument versions they answered, and
    the scores.

    The totals, bands, flag count and triage level are stored in plain columns on purpose: the
    clinician's dashboard and staff lists sort and filter by them, and a number or band without
    the answers behind it says little. Everything the patient typed or chose is in ``answers``,
    encrypted.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(User, on_delete=models.PROTECT, related_name="intakes")
    status = models.CharField(max_length=16, choices=IntakeStatus.choices, default=IntakeStatus.DRAFT)
    step = models.CharField(max_length=24, default="about")
    answers_json = EncryptedTextField(default="{}")
    versions = models.JSONField(default=dict, help_text="Instrument key -> version answered")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True, blank=True)
    # Plain for queries (see the class docstring).
    phq9_total = models.PositiveSmallIntegerField(null=True, blank=True)
    phq9_band = models.CharField(max_length=24, blank=True)
    phq9_item9 = models.PositiveSmallIntegerField(null=True, blank=True)
    gad7_total = models.PositiveSmallIntegerField(null=True, blank=True)
    gad7_band = models.CharField(max_length=24, blank=True)
    asq_result = models.CharField(max_length=24, blank=True)
    flag_count = models.PositiveSmallIntegerField(default=0)
    triage = models.CharField(max_length=32, choices=TriageLevel.choices, blank=True)
    consent_version = models.CharField(max_length=16, blank=True)
    consented_at = models.DateTimeField(null=True, blank=True)
    consent_name = EncryptedTextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["patient", "status", "-submitted_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=IntakeStatus.values), name="intake_status_valid"),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(submitted_at__isnull=False), name="intake_submitted_has_time"
            ),
            # One draft at a time per patient.
            models.UniqueConstraint(fields=["patient"], condition=Q(status="draft"), name="intake_one_draft"),
        ]

    def __str__(self) -> str:
        return f"Intake {self.public_id}"

    @property
    def answers(self) -> dict[str, Any]:
        return json.loads(self.answers_json or "{}")

    def set_answers(self, values: dict[str, Any]) -> None:
        self.answers_json = json.dumps(values, sort_keys=True)

    @property
    def is_draft(self) -> bool:
        return self.status == IntakeStatus.DRAFT


class UrgentKind(models.TextChoices):
    ACUTE_SCREEN = "acute_screen", "Acute suicide-risk screen"
    CALLBACK = "callback", "Asked for an urgent call-back"


class UrgentItem(models.Model):
    """Something the on-call clinician must see now. Emails about it say only that something
    urgent waits in Mendwell."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    intake = models.ForeignKey(
        IntakeResponse, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=UrgentKind.choices)
    phone = EncryptedTextField(blank=True)
    created_at = models.DateTimeField(db_index=True)
    acknowledged_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Urgent {self.kind} {self.public_id}"


class BreakGlass(models.Model):
    """A clinician's emergency access to a patient who is not theirs: a reason, a time limit,
    an audit row, and a line on the staff review list."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    clinician = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=500)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    reviewed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.CheckConstraint(condition=~Q(reason=""), name="breakglass_reason_required")]

    def __str__(self) -> str:
        return f"Break-glass {self.public_id}"
