"""The clinic's treatment protocols: one per route, versioned; a plan keeps the version it started
with. Staff write a version, a clinician approves it; only an approved version of an enabled route
can start a plan. Every number here is clinician-facing: nothing in this module reaches a patient."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.db import models
from django.db.models import Q

from clinic.accounts.models import User


class Route(models.TextChoices):
    """How the medicine is given, and therefore where. The values are the outcomes registry's
    closed vocabulary (``clinic.care.outcomes.ROUTES``): a test keeps them equal."""

    IV_KETAMINE = "iv_ketamine", "Intravenous ketamine infusion in clinic"
    IM_KETAMINE = "im_ketamine", "Intramuscular ketamine injection in clinic"
    SUBCUTANEOUS_KETAMINE = "subcutaneous_ketamine", "Subcutaneous ketamine injection in clinic"
    ORAL_KETAMINE = "oral_ketamine", "Oral/sublingual ketamine at home, supervised over video"
    # INSTRUMENTS.md: esketamine is given in a certified healthcare setting only, never at home.
    INTRANASAL_ESKETAMINE = "intranasal_esketamine", "Esketamine nasal spray in a certified clinic"


# The one route taken at home (supervised over video). Every other route is in clinic; esketamine
# is deliberately not here and a test keeps it out.
AT_HOME_ROUTES = frozenset({Route.ORAL_KETAMINE})


def is_at_home(route: str) -> bool:
    return route in AT_HOME_ROUTES


class DoseUnit(models.TextChoices):
    MG_PER_KG = "mg_per_kg", "mg/kg"
    MG = "mg", "mg"


class PreSessionItem(models.TextChoices):
    """What a patient may be asked before a session. ASQ is always asked (the intake's triage
    rules apply before every dose); the at-home items are always asked at home."""

    ASQ = "asq", "Suicide-risk screen (ASQ)"
    SYMPTOMS = "symptoms", "New symptoms since the last session"
    MEDICINES = "medicines", "New or changed medicines"
    HOME_BP = "home_bp", "Home blood-pressure reading"
    COMPANION = "companion", "Who is with them during and after the session"


ALWAYS_ASKED = (PreSessionItem.ASQ,)
ALWAYS_ASKED_AT_HOME = (PreSessionItem.HOME_BP, PreSessionItem.COMPANION)

# INSTRUMENTS.md (esketamine label): consider delaying a dose above 140/90; observe at least 2 hours.
LABEL_HOLD_SYSTOLIC_ABOVE = 140
LABEL_HOLD_DIASTOLIC_ABOVE = 90
ESKETAMINE_MIN_OBSERVATION_MINUTES = 120


class RouteSetting(models.Model):
    """Whether the clinic offers a route at all. A route without a row is off."""

    route = models.CharField(max_length=32, choices=Route.choices, unique=True)
    enabled = models.BooleanField(default=False)
    changed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["route"]
        constraints = [
            models.CheckConstraint(condition=Q(route__in=Route.values), name="care_routesetting_route_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.route} {'on' if self.enabled else 'off'}"


class Protocol(models.Model):
    """A named protocol of the clinic. Its content lives in its versions."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=120)
    route = models.CharField(max_length=32, choices=Route.choices)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["route", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(route__in=Route.values), name="care_protocol_route_valid"),
        ]

    def __str__(self) -> str:
        return self.name

    def current_version(self) -> ProtocolVersion | None:
        """The newest approved version: the one a new plan starts on."""
        return self.versions.filter(approved_at__isnull=False).order_by("-number").first()


class ProtocolVersion(models.Model):
    """One version of a protocol. Written by staff, approved by a clinician; once approved it is
    never changed (a change is a new version), so a plan's version says what it was started on.

    ``route`` repeats the protocol's route so that the label rules can be database checks."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    protocol = models.ForeignKey(Protocol, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveSmallIntegerField()
    route = models.CharField(max_length=32, choices=Route.choices)
    # Induction: e.g. 6 sessions over 3 weeks, at least N days apart.
    induction_sessions = models.PositiveSmallIntegerField()
    induction_weeks = models.PositiveSmallIntegerField()
    induction_min_days_between = models.PositiveSmallIntegerField(default=1)
    # Maintenance: 0 sessions means none planned yet; one every ``maintenance_interval_days``.
    maintenance_sessions = models.PositiveSmallIntegerField(default=0)
    maintenance_interval_days = models.PositiveSmallIntegerField(null=True, blank=True)
    dose_unit = models.CharField(max_length=16, choices=DoseUnit.choices)
    dose_min = models.DecimalField(max_digits=7, decimal_places=3)
    dose_max = models.DecimalField(max_digits=7, decimal_places=3)
    observation_minutes = models.PositiveSmallIntegerField()
    # Vital-sign limits that hold a dose: a pre-dose value above (or, for SpO2, below) holds it.
    hold_systolic_above = models.PositiveSmallIntegerField(default=LABEL_HOLD_SYSTOLIC_ABOVE)
    hold_diastolic_above = models.PositiveSmallIntegerField(default=LABEL_HOLD_DIASTOLIC_ABOVE)
    hold_heart_rate_above = models.PositiveSmallIntegerField(null=True, blank=True)
    hold_spo2_below = models.PositiveSmallIntegerField(null=True, blank=True)
    # PreSessionItem values, in the order they are asked.
    checkins = models.JSONField(default=list)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    approved_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["protocol", "number"]
        constraints = [
            models.UniqueConstraint(fields=["protocol", "number"], name="care_protocol_version_once"),
            models.CheckConstraint(condition=Q(route__in=Route.values), name="care_version_route_valid"),
            models.CheckConstraint(
                condition=Q(dose_unit__in=DoseUnit.values), name="care_version_unit_valid"
            ),
            models.CheckConstraint(condition=Q(dose_min__gt=0), name="care_version_dose_min_positive"),
            models.CheckConstraint(
                condition=Q(dose_max__gte=models.F("dose_min")), name="care_version_dose_range_ordered"
            ),
            models.CheckConstraint(
                condition=Q(induction_sessions__gte=1), name="care_version_induction_some"
            ),
            models.CheckConstraint(condition=Q(induction_weeks__gte=1), name="care_version_induction_weeks"),
            models.CheckConstraint(condition=Q(observation_minutes__gte=1), name="care_version_observes"),
            # INSTRUMENTS.md: esketamine observation is at least 2 hours.
            models.CheckConstraint(
                condition=~Q(route=Route.INTRANASAL_ESKETAMINE)
                | Q(observation_minutes__gte=ESKETAMINE_MIN_OBSERVATION_MINUTES),
                name="care_version_esketamine_observed_120",
            ),
            models.CheckConstraint(
                condition=Q(maintenance_sessions=0) | Q(maintenance_interval_days__gte=1),
                name="care_version_maintenance_spaced",
            ),
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True, approved_at__isnull=True)
                | Q(approved_by__isnull=False, approved_at__isnull=False),
                name="care_version_approved_by_and_at_together",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.protocol} v{self.number}"

    @property
    def is_approved(self) -> bool:
        return self.approved_at is not None

    @property
    def at_home(self) -> bool:
        return is_at_home(self.route)

    @property
    def dose_range(self) -> tuple[Decimal, Decimal]:
        return self.dose_min, self.dose_max

    @property
    def total_sessions(self) -> int:
        return self.induction_sessions + self.maintenance_sessions

    def holds_dose(self, *, systolic: int, diastolic: int, heart_rate: int | None = None,
                   spo2: int | None = None) -> list[str]:  # fmt: skip
        """The limits a pre-dose reading breaks (empty: the dose may go ahead). At the limit
        itself the dose goes ahead: the label speaks of *above* 140/90."""
        broken = []
        if systolic > self.hold_systolic_above:
            broken.append(f"systolic above {self.hold_systolic_above}")
        if diastolic > self.hold_diastolic_above:
            broken.append(f"diastolic above {self.hold_diastolic_above}")
        if heart_rate is not None and self.hold_heart_rate_above is not None:
            if heart_rate > self.hold_heart_rate_above:
                broken.append(f"heart rate above {self.hold_heart_rate_above}")
        if spo2 is not None and self.hold_spo2_below is not None and spo2 < self.hold_spo2_below:
            broken.append(f"SpO2 below {self.hold_spo2_below}")
        return broken

    def dose_in_range(self, amount: Decimal) -> bool:
        """``amount`` in the protocol's unit; both ends of the range are inside it."""
        return self.dose_min <= amount <= self.dose_max
