import json
import uuid
from typing import Any

from django.db import models
from django.db.models import Q

from clinic.accounts.models import User
from clinic.crypto import EncryptedTextField
from clinic.intake.scoring import band_label


class IntakeStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    # Stopped at an acute screen: the crisis page came next, not the rest of the form.
    STOPPED_ACUTE = "stopped_acute", "Stopped: acute risk"


class TriageLevel(models.TextChoices):
    ROUTINE = "routine", "Routine"
    SAFETY_FIRST = "safety_assessment_first", "Safety assessment first"
    ACUTE = "acute", "Acute"


class IntakeQuerySet(models.QuerySet["IntakeResponse"]):
    def for_patient(self, patient: User) -> "IntakeQuerySet":
        """A patient's own intakes: the only ones a patient's lookup may find."""
        return self.filter(patient=patient)


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

    objects = IntakeQuerySet.as_manager()

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

    @property
    def phq9_band_label(self) -> str:
        return band_label(self.phq9_band)

    @property
    def gad7_band_label(self) -> str:
        return band_label(self.gad7_band)


class UrgentKind(models.TextChoices):
    ACUTE_SCREEN = "acute_screen", "Acute suicide-risk screen (ASQ question 5: yes)"
    DECLINED_Q5 = "declined_q5", "ASQ question 5 declined: call now"
    CALLBACK = "callback", "Asked for an urgent call-back"
    FOLLOW_UP = "follow_up", "Positive screen: contact the patient today"


# Order on the dashboard (lower first) and what each kind asks for. Acute kinds alert the on-call
# clinician at once and are escalated to everyone when nobody acknowledges them in time; a
# same-day follow-up waits on the same list below them (INSTRUMENTS.md triage table).
URGENT_PRIORITY = {
    UrgentKind.ACUTE_SCREEN: 0,
    UrgentKind.CALLBACK: 1,
    UrgentKind.DECLINED_Q5: 1,
    UrgentKind.FOLLOW_UP: 2,
}
ESCALATED_KINDS = (UrgentKind.ACUTE_SCREEN, UrgentKind.CALLBACK, UrgentKind.DECLINED_Q5)


class UrgentItem(models.Model):
    """Something the on-call clinician must act on: an acute screen now, a positive screen the
    same day. Emails about it say only that something urgent waits. Acknowledging it takes a
    written outcome (encrypted). An unacknowledged acute screen stops every booking path."""

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
    outcome = EncryptedTextField(blank=True)
    # Set once, by the escalation sweep, when the item waited too long unacknowledged.
    escalated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["acknowledged_at", "kind", "created_at"])]

    def __str__(self) -> str:
        return f"Urgent {self.kind} {self.public_id}"

    @property
    def priority(self) -> int:
        return URGENT_PRIORITY[UrgentKind(self.kind)]

    @property
    def is_acute(self) -> bool:
        return self.kind != UrgentKind.FOLLOW_UP
