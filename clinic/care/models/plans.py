"""A patient's treatment plan and what it stands on: the consultation that led to it, the protocol
version it keeps, the contraindication review, the treatment consent, and the prescribing record
(legal basis, PDMP checks, identity verification, pharmacy). Then its sessions, each with the
pre-session check-in the patient answers in their account.

Scores and vitals are plain numbers (the course page and the dashboard sort and filter by them;
a number without the answers behind it says little); everything a person types is encrypted."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from clinic.accounts.jurisdictions import jurisdiction_zone
from clinic.accounts.models import User
from clinic.care.models.protocols import ProtocolVersion
from clinic.care.rules import Reason, ScheduleFacts, schedule_blockers
from clinic.crypto import EncryptedTextField
from clinic.intake.actions import booking_block


class PlanStatus(models.TextChoices):
    # Started by the clinician; waits for the reviews, the consent and the prescribing record.
    PREPARING = "preparing", "Preparing"
    ACTIVE = "active", "Active"
    COMPLETED = "completed", "Completed"
    STOPPED = "stopped", "Stopped"


OPEN_PLAN_STATUSES = [PlanStatus.PREPARING, PlanStatus.ACTIVE]


class BaselineSource(models.TextChoices):
    INTAKE = "intake", "From the intake"
    FRESH = "fresh", "Taken fresh at the plan start"


class IdentityMethod(models.TextChoices):
    PHOTO_ID = "photo_id", "Photo ID"
    INSURANCE_CARD = "insurance_card", "Insurance card"
    DOB_ADDRESS = "dob_address", "Date of birth and address"


class PlanQuerySet(models.QuerySet["TreatmentPlan"]):
    def for_patient(self, patient: User) -> PlanQuerySet:
        return self.filter(patient=patient)

    def for_clinician(self, clinician: User) -> PlanQuerySet:
        """The plans a clinician looks after: their own."""
        return self.filter(clinician=clinician)

    def open(self) -> PlanQuerySet:
        return self.filter(status__in=OPEN_PLAN_STATUSES)


class TreatmentPlan(models.Model):
    """One course of treatment for one patient under one protocol version."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(User, on_delete=models.PROTECT, related_name="treatment_plans")
    clinician = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    consult_note = models.ForeignKey("visits.ConsultNote", on_delete=models.PROTECT, related_name="+")
    protocol_version = models.ForeignKey(ProtocolVersion, on_delete=models.PROTECT, related_name="plans")
    status = models.CharField(max_length=16, choices=PlanStatus.choices, default=PlanStatus.PREPARING)
    # Where the patient is treated from (ISO 3166-2): the PDMP state and the default for sessions.
    jurisdiction = models.CharField(max_length=6)
    indication = EncryptedTextField()
    baseline_phq9 = models.PositiveSmallIntegerField()
    baseline_gad7 = models.PositiveSmallIntegerField()
    baseline_source = models.CharField(max_length=8, choices=BaselineSource.choices)
    baseline_intake = models.ForeignKey(
        "intake.IntakeResponse", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    weight_kg = models.DecimalField(max_digits=5, decimal_places=1)
    systolic = models.PositiveSmallIntegerField()
    diastolic = models.PositiveSmallIntegerField()
    # The treatment consent the patient must sign (care.consent), fixed when the plan starts.
    consent_version = models.CharField(max_length=16)
    identity_method = models.CharField(max_length=16, choices=IdentityMethod.choices, blank=True)
    # A pharmacy's name and address when one dispenses (at-home routes): typed, so encrypted.
    pharmacy = EncryptedTextField(blank=True)
    created_at = models.DateTimeField()
    activated_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    objects = PlanQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=PlanStatus.values), name="care_plan_status_valid"),
            models.CheckConstraint(condition=Q(baseline_phq9__lte=27), name="care_plan_phq9_range"),
            models.CheckConstraint(condition=Q(baseline_gad7__lte=21), name="care_plan_gad7_range"),
            models.CheckConstraint(condition=Q(weight_kg__gt=0), name="care_plan_weight_positive"),
            models.CheckConstraint(
                condition=Q(baseline_source="fresh") | Q(baseline_intake__isnull=False),
                name="care_plan_intake_baseline_names_intake",
            ),
            # One open plan per patient at a time.
            models.UniqueConstraint(
                fields=["patient"], condition=Q(status__in=["preparing", "active"]), name="care_one_open_plan"
            ),
        ]

    def __str__(self) -> str:
        return f"Plan {self.public_id}"

    @property
    def route(self) -> str:
        return self.protocol_version.route

    @property
    def at_home(self) -> bool:
        return self.protocol_version.at_home

    def consent_signature(self) -> TreatmentConsentSignature | None:
        return self.consent_signatures.filter(version=self.consent_version).first()

    def legal_basis(self) -> LegalBasisRecord | None:
        return self.legal_bases.select_related("rule").order_by("-recorded_at", "-id").first()

    def pdmp_check(self) -> PdmpCheck | None:
        return self.pdmp_checks.order_by("-checked_at", "-id").first()

    def open_reviews(self) -> list[str]:
        """Flag keys from the intake that no clinician has reviewed yet on this plan."""
        return list(self.contraindication_reviews.filter(reviewed_at=None).values_list("flag_key", flat=True))


class ContraindicationReview(models.Model):
    """One flag from the intake's checklist, marked reviewed by the clinician with a note."""

    plan = models.ForeignKey(TreatmentPlan, on_delete=models.CASCADE, related_name="contraindication_reviews")
    flag_key = models.CharField(max_length=64)
    note = EncryptedTextField(blank=True)
    reviewed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "flag_key"], name="care_review_once_per_flag"),
            models.CheckConstraint(
                condition=Q(reviewed_by__isnull=True, reviewed_at__isnull=True)
                | Q(reviewed_by__isnull=False, reviewed_at__isnull=False),
                name="care_review_by_and_at_together",
            ),
        ]

    def __str__(self) -> str:
        return f"Review {self.flag_key}"


class TreatmentConsentSignature(models.Model):
    """The patient's signature of one version of the treatment consent, in their own account:
    the typed name (encrypted), the time and the version. Distinct from the telehealth consent."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    plan = models.ForeignKey(TreatmentPlan, on_delete=models.PROTECT, related_name="consent_signatures")
    patient = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    version = models.CharField(max_length=16)
    typed_name = EncryptedTextField()
    signed_at = models.DateTimeField()

    class Meta:
        ordering = ["signed_at"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "version"], name="care_consent_signed_once"),
        ]

    def __str__(self) -> str:
        return f"Treatment consent v{self.version}"


class LegalBasisKind(models.TextChoices):
    TELEMEDICINE_FLEXIBILITIES = "telemedicine", "Telemedicine prescribing flexibilities"
    IN_PERSON_EVALUATION = "in_person", "In-person medical evaluation"
    SPECIAL_REGISTRATION = "special_registration", "Special registration for telemedicine"


class LegalBasisRule(models.Model):
    """A basis on which the clinic may prescribe a controlled substance, and the dates it is in
    force (both inclusive, as calendar dates where the patient is). The clinic configures these:
    e.g. "DEA telemedicine flexibilities, in force until 2026-12-31"."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=160)
    kind = models.CharField(max_length=24, choices=LegalBasisKind.choices)
    in_force_from = models.DateField(null=True, blank=True)
    in_force_until = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=LegalBasisKind.values), name="care_basis_kind_valid"),
            models.CheckConstraint(
                condition=Q(in_force_from__isnull=True)
                | Q(in_force_until__isnull=True)
                | Q(in_force_until__gte=models.F("in_force_from")),
                name="care_basis_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def in_force_on(self, day: dt.date) -> bool:
        return (self.in_force_from is None or self.in_force_from <= day) and (
            self.in_force_until is None or day <= self.in_force_until
        )


class LegalBasisRecord(models.Model):
    """The basis a plan's prescribing rests on; for an in-person evaluation, when and by whom.
    The latest record counts; a renewal is a new record."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    plan = models.ForeignKey(TreatmentPlan, on_delete=models.PROTECT, related_name="legal_bases")
    rule = models.ForeignKey(LegalBasisRule, on_delete=models.PROTECT, related_name="+")
    evaluated_on = models.DateField(null=True, blank=True)
    evaluated_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["-recorded_at"]

    def __str__(self) -> str:
        return f"Legal basis {self.public_id}"


class PdmpCheck(models.Model):
    """A check of the state prescription-monitoring program before prescribing: state, time,
    what it showed (typed: encrypted) and the clinician's attestation that they looked."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    plan = models.ForeignKey(TreatmentPlan, on_delete=models.PROTECT, related_name="pdmp_checks")
    state = models.CharField(max_length=6)
    checked_at = models.DateTimeField()
    result_summary = EncryptedTextField()
    attested = models.BooleanField()
    checked_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["-checked_at"]
        constraints = [
            models.CheckConstraint(condition=Q(attested=True), name="care_pdmp_attested"),
        ]

    def __str__(self) -> str:
        return f"PDMP check {self.state} {self.checked_at:%Y-%m-%d}"


def pdmp_max_age_days() -> int:
    return int(settings.CARE_PDMP_MAX_AGE_DAYS)


def schedule_facts(plan: TreatmentPlan, *, jurisdiction: str | None = None) -> ScheduleFacts:
    """What ``schedule_blockers`` needs to know about a plan, read from the database."""
    where = jurisdiction or plan.jurisdiction
    basis = plan.legal_basis()
    pdmp = plan.pdmp_check()
    return ScheduleFacts(
        plan_open=plan.status in OPEN_PLAN_STATUSES,
        jurisdiction=where,
        has_legal_basis=basis is not None,
        legal_basis_from=basis.rule.in_force_from if basis else None,
        legal_basis_until=basis.rule.in_force_until if basis else None,
        pdmp_state=pdmp.state if pdmp else None,
        pdmp_checked_on=pdmp.checked_at.astimezone(jurisdiction_zone(where)).date() if pdmp else None,
        pdmp_max_age_days=pdmp_max_age_days(),
        consent_signed=plan.consent_signature() is not None,
        open_acute=booking_block(plan.patient) is not None,
        reviews_open=bool(plan.open_reviews()),
    )


def plan_may_schedule(plan: TreatmentPlan, on: dt.date, *, jurisdiction: str | None = None) -> list[Reason]:
    """Why a new session of ``plan`` on the local date ``on`` (in the patient's jurisdiction)
    cannot be booked; empty when it can. Reads, never writes."""
    return schedule_blockers(schedule_facts(plan, jurisdiction=jurisdiction), on)


def local_date(instant: dt.datetime, jurisdiction: str) -> dt.date:
    """The calendar date of ``instant`` where the patient is: the date the lapse rules compare."""
    return instant.astimezone(jurisdiction_zone(jurisdiction)).date()


class SessionPhase(models.TextChoices):
    INDUCTION = "induction", "Induction"
    MAINTENANCE = "maintenance", "Maintenance"


class SessionStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"
    MISSED = "missed", "Missed"
    CANCELLED = "cancelled", "Cancelled"


class SessionQuerySet(models.QuerySet["TreatmentSession"]):
    def for_patient(self, patient: User) -> SessionQuerySet:
        return self.filter(plan__patient=patient)

    def for_clinician(self, clinician: User) -> SessionQuerySet:
        """Sessions of the clinician's own plans, or booked with them."""
        return self.filter(Q(plan__clinician=clinician) | Q(booking__clinician=clinician))

    def for_nurse(self, nurse: User) -> SessionQuerySet:
        """A nurse sees only the sessions they are scheduled on."""
        return self.filter(nurse=nurse)


class TreatmentSession(models.Model):
    """One planned session of a plan. Booked through the scheduling engine (``booking`` stays
    empty until then); the session record made during it hangs on this row."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    plan = models.ForeignKey(TreatmentPlan, on_delete=models.PROTECT, related_name="sessions")
    booking = models.OneToOneField(
        "scheduling.Booking",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="treatment_session",
    )
    number = models.PositiveSmallIntegerField()
    phase = models.CharField(max_length=16, choices=SessionPhase.choices)
    status = models.CharField(max_length=16, choices=SessionStatus.choices, default=SessionStatus.SCHEDULED)
    nurse = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    objects = SessionQuerySet.as_manager()

    class Meta:
        ordering = ["plan", "number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="care_session_number_once"),
            models.CheckConstraint(condition=Q(number__gte=1), name="care_session_number_positive"),
            models.CheckConstraint(
                condition=Q(phase__in=SessionPhase.values), name="care_session_phase_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=SessionStatus.values), name="care_session_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"Session {self.number} of {self.plan_id}"

    @property
    def start(self) -> dt.datetime | None:
        return self.booking.start if self.booking is not None else None


class CheckInStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    # An acute answer: the session was cancelled and the crisis page came next.
    STOPPED_ACUTE = "stopped_acute", "Stopped: acute risk"


class PreSessionCheckIn(models.Model):
    """What the patient answers in their account before a session: the ASQ, new symptoms or
    medicines and, at home, a blood-pressure reading and who is with them. Scored and triaged
    with the intake's rules. Answers are encrypted; the ASQ result and triage level are plain
    (the course page and the dashboard filter by them)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    session = models.OneToOneField(TreatmentSession, on_delete=models.PROTECT, related_name="checkin")
    patient = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=16, choices=CheckInStatus.choices, default=CheckInStatus.DRAFT)
    answers_json = EncryptedTextField(default="{}")
    asq_result = models.CharField(max_length=24, blank=True)
    triage = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=CheckInStatus.values), name="care_checkin_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(submitted_at__isnull=False),
                name="care_checkin_submitted_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"Check-in {self.public_id}"

    @property
    def answers(self) -> dict[str, Any]:
        return json.loads(self.answers_json or "{}")

    def set_answers(self, values: dict[str, Any]) -> None:
        self.answers_json = json.dumps(values, sort_keys=True)


__all__ = [
    "BaselineSource",
    "CheckInStatus",
    "ContraindicationReview",
    "IdentityMethod",
    "LegalBasisKind",
    "LegalBasisRecord",
    "LegalBasisRule",
    "PdmpCheck",
    "PlanStatus",
    "PreSessionCheckIn",
    "Reason",
    "SessionPhase",
    "SessionStatus",
    "TreatmentConsentSignature",
    "TreatmentPlan",
    "TreatmentSession",
    "local_date",
    "plan_may_schedule",
]
