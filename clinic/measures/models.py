"""Check-in schedules per course, the check-ins themselves (answers encrypted), and the items that
need a clinician's attention.

A course is known here only by ``course_ref``, an opaque UUID the layer above passes (care's
treatment plan public id): measures sit below care and never import it.

Plain columns hold what lists sort and filter by (totals, item 9, the triage level, statuses,
dates), as the intake does; everything the patient chose or typed is in ``answers_json``,
encrypted.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from django.db import models
from django.db.models import Q

from clinic.accounts.models import User
from clinic.crypto import EncryptedTextField


class Schedule(models.Model):
    """The check-in plan of one course of one patient, with the course dates care gave."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    course_ref = models.UUIDField(unique=True)
    patient = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    clinician = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    zone = models.CharField(max_length=64)
    induction_start = models.DateField()
    sessions = models.JSONField(default=list, help_text="ISO local dates of the sessions")
    last_session = models.DateField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Schedule {self.public_id}"

    @property
    def session_dates(self) -> list[dt.date]:
        return [dt.date.fromisoformat(d) for d in self.sessions]

    @property
    def first_session(self) -> dt.date | None:
        dates = self.session_dates
        return min(dates) if dates else None


class CheckInStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    SENT = "sent", "Sent"
    ANSWERED = "answered", "Answered"
    MISSED = "missed", "Missed"
    # Taken off the plan (sessions moved, the course paused, a clinician paused it): kept, shown
    # with the reason, never deleted.
    WITHDRAWN = "withdrawn", "Withdrawn"


class Origin(models.TextChoices):
    PLAN = "plan", "Course plan"
    CLINICIAN = "clinician", "Added by the clinician"


class CheckInQuerySet(models.QuerySet["CheckIn"]):
    def for_patient(self, patient: User) -> CheckInQuerySet:
        return self.filter(patient=patient)

    def open(self) -> CheckInQuerySet:
        return self.filter(status__in=[CheckInStatus.SCHEDULED, CheckInStatus.SENT])


class CheckIn(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    schedule = models.ForeignKey(Schedule, on_delete=models.PROTECT, related_name="checkins")
    patient = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    origin = models.CharField(max_length=16, choices=Origin.choices, default=Origin.PLAN)
    purposes = models.JSONField(default=list)
    instruments = models.JSONField(default=list, help_text="Instrument keys asked, in form order")
    due_on = models.DateField(help_text="Local date in the schedule's zone")
    send_after = models.DateTimeField(db_index=True)
    closes_at = models.DateTimeField(db_index=True)
    status = models.CharField(max_length=16, choices=CheckInStatus.choices, default=CheckInStatus.SCHEDULED)
    withdrawn_reason = models.CharField(max_length=32, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    reminders_sent = models.PositiveSmallIntegerField(default=0)
    last_emailed_at = models.DateTimeField(null=True, blank=True)
    # The emailed link: only its SHA-256 is kept; single-use; a reminder replaces it.
    token_hash = models.CharField(max_length=64, blank=True, db_index=True)
    token_expires_at = models.DateTimeField(null=True, blank=True)
    token_used_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answers_json = EncryptedTextField(default="{}")
    versions = models.JSONField(default=dict)
    definitions_version = models.CharField(max_length=16, blank=True)
    # Plain for queries (see the module docstring). A partial PHQ-9 has NO total: phq9_total null.
    phq9_total = models.PositiveSmallIntegerField(null=True, blank=True)
    phq9_item9 = models.PositiveSmallIntegerField(null=True, blank=True)
    phq9_partial = models.BooleanField(default=False)
    gad7_total = models.PositiveSmallIntegerField(null=True, blank=True)
    asq_result = models.CharField(max_length=24, blank=True)
    triage = models.CharField(max_length=32, blank=True)
    auditc_total = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField()

    objects = CheckInQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "id"]
        indexes = [models.Index(fields=["status", "send_after"]), models.Index(fields=["patient", "due_on"])]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=CheckInStatus.values), name="checkin_status_valid"),
            models.CheckConstraint(
                condition=~Q(status="answered") | Q(answered_at__isnull=False),
                name="checkin_answered_has_time",
            ),
            models.CheckConstraint(condition=Q(reminders_sent__lte=2), name="checkin_at_most_two_reminders"),
            # One plan check-in per course and day: re-planning is idempotent.
            models.UniqueConstraint(
                fields=["schedule", "due_on"],
                condition=Q(origin="plan") & ~Q(status="withdrawn"),
                name="checkin_one_plan_per_day",
            ),
        ]

    def __str__(self) -> str:
        return f"Check-in {self.public_id}"

    @property
    def answers(self) -> dict[str, Any]:
        return json.loads(self.answers_json or "{}")

    def set_answers(self, values: dict[str, Any]) -> None:
        self.answers_json = json.dumps(values, sort_keys=True)

    @property
    def is_open(self) -> bool:
        return self.status in (CheckInStatus.SCHEDULED, CheckInStatus.SENT)

    @property
    def asks_mood(self) -> bool:
        return "phq9" in self.instruments


class Reason(models.TextChoices):
    RELAPSE_WATCH = "relapse_watch", "Relapse watch"
    WORSENING = "worsening", "Worsening"
    MISSED = "missed", "Missed check-in"
    POSITIVE_SCREEN = "positive_screen", "Positive screen"
    ADVERSE_EVENT = "adverse_event", "Side effect reported"
    BLADDER = "bladder", "Bladder symptoms reported"
    DRUG_USE = "drug_use", "Drug use reported"


class AttentionItem(models.Model):
    """One thing a clinician should look at, with its reason (a fixed code; the figures behind it
    are on the check-in), acknowledged with a written note (encrypted)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    schedule = models.ForeignKey(Schedule, on_delete=models.PROTECT, related_name="attention")
    checkin = models.ForeignKey(CheckIn, on_delete=models.PROTECT, related_name="attention")
    reason = models.CharField(max_length=24, choices=Reason.choices)
    definitions_version = models.CharField(max_length=16, blank=True)
    created_at = models.DateTimeField(db_index=True)
    acknowledged_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    note = EncryptedTextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["checkin", "reason"], name="attention_once_per_reason"),
            models.CheckConstraint(
                condition=Q(acknowledged_at__isnull=True) | Q(acknowledged_by__isnull=False),
                name="attention_ack_has_clinician",
            ),
        ]

    def __str__(self) -> str:
        return f"Attention {self.reason} {self.public_id}"
