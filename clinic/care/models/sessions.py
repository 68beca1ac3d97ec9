"""What happens in a monitored session, as it is recorded: the session record (the dose, the
discharge, the signature), the readings and observations taken during it, adverse events, and
after signing its addenda and the REMS monitoring form's submission.

Once the record is signed the database refuses to change or delete it, and refuses new readings,
observations or events for it (migration ``0002_session_record``); readings, observations,
events and addenda are append-only from the start (a wrong reading is followed by a right one,
never edited away). Typed text is encrypted."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q

from clinic.accounts.models import User
from clinic.care.models.protocols import Route
from clinic.crypto import EncryptedTextField

__all__ = [
    "CHECKLIST",
    "AdverseEvent",
    "AdverseEventKind",
    "CadssForm",
    "HomeReading",
    "Observation",
    "ObservedWhen",
    "RemsSubmission",
    "SessionAddendum",
    "SessionRecord",
    "Severity",
    "SupervisorConfirmation",
    "VitalSigns",
    "VitalsWhen",
]


class VitalsWhen(models.TextChoices):
    """When a reading was taken, as INSTRUMENTS.md's esketamine monitoring asks for them."""

    PRE_DOSE = "pre_dose", "Before dosing"
    POST_DOSE = "post_dose", "About 40 minutes after dosing"
    DISCHARGE = "discharge", "Before discharge"
    OTHER = "other", "Other check"


class ObservedWhen(models.TextChoices):
    POST_DOSE = "post_dose", "After dosing"
    DISCHARGE = "discharge", "Before discharge"
    OTHER = "other", "Other check"


class CadssForm(models.TextChoices):
    """INSTRUMENTS.md: the CADSS has 23 items and a 6-item short form; only the score is kept."""

    SHORT_6 = "short_6", "CADSS 6-item short form"
    FULL_23 = "full_23", "CADSS (23 items)"


class AdverseEventKind(models.TextChoices):
    """A subset of the outcomes registry's closed list (``clinic.care.outcomes.AE_KINDS``): a test
    keeps it so."""

    DISSOCIATION = "dissociation", "Dissociation"
    SEDATION = "sedation", "Sedation"
    NAUSEA_VOMITING = "nausea_vomiting", "Nausea or vomiting"
    RAISED_BLOOD_PRESSURE = "raised_blood_pressure", "Blood-pressure rise"
    RAISED_HEART_RATE = "raised_heart_rate", "Heart-rate rise"
    HEADACHE = "headache", "Headache"
    DIZZINESS = "dizziness", "Dizziness"
    ANXIETY = "anxiety", "Anxiety or panic"
    RESPIRATORY = "respiratory", "Respiratory depression"
    BLADDER = "bladder", "Bladder symptoms"
    OTHER = "other", "Other"


class Severity(models.TextChoices):
    MILD = "mild", "Mild"
    MODERATE = "moderate", "Moderate"
    SEVERE = "severe", "Severe"


# The discharge checklist, in the order the page asks it (issue 14; INSTRUMENTS.md: no driving
# until the next day after restful sleep).
CHECKLIST = (
    ("alert_oriented", "Alert and oriented"),
    ("vitals_in_range", "Vital signs in range"),
    ("escort_present", "Escort present"),
    ("told_not_to_drive", "Told not to drive until the next day after sleep"),
)


class SessionRecord(models.Model):
    """The record of one treatment session, filled during it and signed by the prescriber."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    session = models.OneToOneField("care.TreatmentSession", on_delete=models.PROTECT, related_name="record")
    # The prescriber's reason for dosing although a pre-dose reading is outside the limits.
    hold_reason = EncryptedTextField(blank=True)
    dose_mg = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    dose_mg_per_kg = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    dose_in_range = models.BooleanField(null=True, blank=True)
    dose_reason = EncryptedTextField(blank=True)
    lot_number = models.CharField(max_length=40, blank=True)
    # The register's lot the dose came from (its administration line is written at signing);
    # empty only in a clinic that keeps no register here.
    register_lot = models.ForeignKey(
        "register.Lot", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # For the REMS monitoring form: sedating medicines the patient takes, as the prescriber
    # records them at dosing (empty: none).
    sedating_comedications = EncryptedTextField(blank=True)
    route = models.CharField(max_length=32, choices=Route.choices, blank=True)
    dosed_at = models.DateTimeField(null=True, blank=True)
    dosed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # Answered once the session is over: True only when nobody recorded an event and the
    # prescriber says there were none.
    no_adverse_events = models.BooleanField(default=False)
    discharged_at = models.DateTimeField(null=True, blank=True)
    discharged_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    observation_minutes = models.PositiveIntegerField(null=True, blank=True)
    alert_oriented = models.BooleanField(default=False)
    vitals_in_range = models.BooleanField(default=False)
    escort_present = models.BooleanField(default=False)
    told_not_to_drive = models.BooleanField(default=False)
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(dose_mg__isnull=True) | Q(dose_mg__gt=0), name="care_record_dose_pos"
            ),
            models.CheckConstraint(
                condition=Q(signed_at__isnull=True) | Q(signed_by__isnull=False, dosed_at__isnull=False),
                name="care_record_signed_complete",
            ),
            models.CheckConstraint(
                condition=Q(discharged_at__isnull=True)
                | Q(dosed_at__isnull=False, discharged_at__gte=models.F("dosed_at")),
                name="care_record_discharged_after_dose",
            ),
        ]

    def __str__(self) -> str:
        return f"record {self.public_id}"

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None


class VitalSigns(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    record = models.ForeignKey(SessionRecord, on_delete=models.PROTECT, related_name="vitals")
    when = models.CharField(max_length=16, choices=VitalsWhen.choices)
    # The real time of the reading (a late reading keeps its own time); recorded_at is when it
    # was entered.
    taken_at = models.DateTimeField()
    systolic = models.PositiveSmallIntegerField()
    diastolic = models.PositiveSmallIntegerField()
    heart_rate = models.PositiveSmallIntegerField()
    spo2 = models.PositiveSmallIntegerField()
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["taken_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(when__in=VitalsWhen.values), name="care_vitals_when_valid"),
            models.CheckConstraint(condition=Q(spo2__lte=100), name="care_vitals_spo2_percent"),
            models.CheckConstraint(
                condition=Q(systolic__gt=models.F("diastolic")), name="care_vitals_bp_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.systolic}/{self.diastolic} HR {self.heart_rate} SpO2 {self.spo2}"


class Observation(models.Model):
    """Sedation (MOAA/S 5 alert … 0 unresponsive), dissociation (a CADSS score), breathing."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    record = models.ForeignKey(SessionRecord, on_delete=models.PROTECT, related_name="observations")
    when = models.CharField(max_length=16, choices=ObservedWhen.choices)
    taken_at = models.DateTimeField()
    moaas = models.PositiveSmallIntegerField()
    cadss_form = models.CharField(max_length=8, choices=CadssForm.choices)
    cadss_score = models.PositiveSmallIntegerField()
    # Pulse oximetry at this check, and whether breathing gave cause for concern.
    spo2 = models.PositiveSmallIntegerField()
    respiratory_event = models.BooleanField(default=False)
    respiratory_note = EncryptedTextField(blank=True)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["taken_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(moaas__lte=5), name="care_observation_moaas_scale"),
            models.CheckConstraint(condition=Q(spo2__lte=100), name="care_observation_spo2_percent"),
            models.CheckConstraint(
                condition=Q(when__in=ObservedWhen.values), name="care_observation_when_valid"
            ),
            models.CheckConstraint(
                condition=Q(cadss_form__in=CadssForm.values), name="care_observation_cadss_form"
            ),
        ]

    def __str__(self) -> str:
        return f"MOAA/S {self.moaas}, CADSS {self.cadss_score}"


class AdverseEvent(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    record = models.ForeignKey(SessionRecord, on_delete=models.PROTECT, related_name="adverse_events")
    kind = models.CharField(max_length=32, choices=AdverseEventKind.choices)
    severity = models.CharField(max_length=16, choices=Severity.choices)
    serious = models.BooleanField()
    action_taken = EncryptedTextField()
    outcome = EncryptedTextField()
    noted_at = models.DateTimeField()
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["noted_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=AdverseEventKind.values), name="care_ae_kind_valid"),
            models.CheckConstraint(condition=Q(severity__in=Severity.values), name="care_ae_severity_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} ({self.severity})"


class SessionAddendum(models.Model):
    """A correction or later fact about a signed record; append-only."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    record = models.ForeignKey(SessionRecord, on_delete=models.PROTECT, related_name="addenda")
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    text = EncryptedTextField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"addendum to {self.record_id}"


class RemsSubmission(models.Model):
    """That a staff member sent the REMS Patient Monitoring Form of a signed esketamine record;
    append-only (one per record)."""

    record = models.OneToOneField(SessionRecord, on_delete=models.PROTECT, related_name="rems_submission")
    submitted_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"REMS form of {self.record_id}"


# At home, supervised over video -----------------------------------------------------------------


class SupervisorConfirmation(models.Model):
    """At an at-home session: the adult who stays with the patient, as the clinician watching
    saw them on camera (the name they gave), and who confirmed it when. Part of the record
    (nothing is added once it is signed) and append-only: a second adult is a second row."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    record = models.ForeignKey(SessionRecord, on_delete=models.PROTECT, related_name="supervisors")
    name = EncryptedTextField()
    confirmed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    confirmed_at = models.DateTimeField()

    class Meta:
        ordering = ["confirmed_at", "id"]

    def __str__(self) -> str:
        return f"supervisor confirmed for {self.record_id}"


class HomeReading(models.Model):
    """A reading the patient takes at home during a supervised session and types in themselves
    (blood pressure and pulse from their own cuff; oxygen saturation when they have an
    oximeter). Shown to the clinician watching; the record's vital signs stay the clinician's.
    Part of the record and append-only."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    record = models.ForeignKey(SessionRecord, on_delete=models.PROTECT, related_name="home_readings")
    when = models.CharField(max_length=16, choices=VitalsWhen.choices)
    systolic = models.PositiveSmallIntegerField()
    diastolic = models.PositiveSmallIntegerField()
    heart_rate = models.PositiveSmallIntegerField()
    spo2 = models.PositiveSmallIntegerField(null=True, blank=True)
    entered_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    entered_at = models.DateTimeField()

    class Meta:
        ordering = ["entered_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(when__in=VitalsWhen.values), name="care_home_when_valid"),
            models.CheckConstraint(
                condition=Q(spo2__isnull=True) | Q(spo2__lte=100), name="care_home_spo2_percent"
            ),
            models.CheckConstraint(
                condition=Q(systolic__gt=models.F("diastolic")), name="care_home_bp_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.systolic}/{self.diastolic} HR {self.heart_rate} (at home)"
