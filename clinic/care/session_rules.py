"""The rules of a monitored treatment session, as plain values in and plain values out.

Every clinical number here comes from the clinic's protocol version (its hold limits, dose range
and minimum observation time), never from this module: it only compares. The times at which the
record asks for readings follow INSTRUMENTS.md's esketamine monitoring: blood pressure before
dosing, about 40 minutes after it and before discharge; sedation, dissociation and breathing are
asked at the same two times after dosing, since the source names no others.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

__all__ = [
    "POST_DOSE_READING_AFTER",
    "DoseCheck",
    "HoldLimits",
    "Reading",
    "RecordState",
    "check_dose",
    "discharge_allowed",
    "hold_problems",
    "minutes_observed",
    "missing_before_signing",
    "mg_per_kg",
    "post_dose_reading_due",
]

# "About 40 minutes after" dosing (INSTRUMENTS.md, esketamine session monitoring).
POST_DOSE_READING_AFTER = dt.timedelta(minutes=40)


# Vital signs and the hold rule ----------------------------------------------------------------


@dataclass(frozen=True)
class HoldLimits:
    """The protocol's limits that hold a dose. A value *above* a maximum or *below* a minimum
    holds it (the label's "above 140/90": 140/90 itself does not). None: no limit on that sign."""

    systolic_max: int | None = None
    diastolic_max: int | None = None
    heart_rate_max: int | None = None
    heart_rate_min: int | None = None
    spo2_min: int | None = None


@dataclass(frozen=True)
class Reading:
    systolic: int
    diastolic: int
    heart_rate: int
    spo2: int


def hold_problems(reading: Reading, limits: HoldLimits) -> list[str]:
    """Each way the reading is outside the protocol's limits, in words for the clinician; an
    empty list when the dose may be given without a written reason."""
    problems = []
    if limits.systolic_max is not None and reading.systolic > limits.systolic_max:
        problems.append(f"Systolic {reading.systolic} is above {limits.systolic_max}")
    if limits.diastolic_max is not None and reading.diastolic > limits.diastolic_max:
        problems.append(f"Diastolic {reading.diastolic} is above {limits.diastolic_max}")
    if limits.heart_rate_max is not None and reading.heart_rate > limits.heart_rate_max:
        problems.append(f"Heart rate {reading.heart_rate} is above {limits.heart_rate_max}")
    if limits.heart_rate_min is not None and reading.heart_rate < limits.heart_rate_min:
        problems.append(f"Heart rate {reading.heart_rate} is below {limits.heart_rate_min}")
    if limits.spo2_min is not None and reading.spo2 < limits.spo2_min:
        problems.append(f"SpO2 {reading.spo2}% is below {limits.spo2_min}%")
    return problems


# The dose --------------------------------------------------------------------------------------

MG = "mg"
MG_PER_KG = "mg_per_kg"


def mg_per_kg(dose_mg: Decimal, weight_kg: Decimal) -> Decimal:
    """The dose per kilogram, to two decimals (half up)."""
    if weight_kg <= 0:
        raise ValueError("weight must be positive")
    return (dose_mg / weight_kg).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class DoseCheck:
    per_kg: Decimal | None
    in_range: bool
    compared: Decimal
    unit: str

    def describe(self, low: Decimal, high: Decimal) -> str:
        label = "mg/kg" if self.unit == MG_PER_KG else "mg"
        where = "within" if self.in_range else "outside"
        return f"{self.compared} {label} is {where} the protocol's range {low}–{high} {label}"


def check_dose(
    *, dose_mg: Decimal, weight_kg: Decimal | None, low: Decimal, high: Decimal, unit: str
) -> DoseCheck:
    """The dose against the protocol's range, both ends included. A range in mg/kg compares the
    dose per kilogram of the plan's weight (exactly, not the rounded figure shown); a range in mg
    compares the dose itself."""
    per_kg = mg_per_kg(dose_mg, weight_kg) if weight_kg else None
    if unit == MG_PER_KG:
        if not weight_kg:
            raise ValueError("a range in mg/kg needs the patient's weight")
        exact = dose_mg / weight_kg
        return DoseCheck(per_kg=per_kg, in_range=low <= exact <= high, compared=per_kg or exact, unit=unit)
    if unit != MG:
        raise ValueError(f"unknown dose unit {unit!r}")
    return DoseCheck(per_kg=per_kg, in_range=low <= dose_mg <= high, compared=dose_mg, unit=unit)


# The observation clock -------------------------------------------------------------------------


def minutes_observed(dosed_at: dt.datetime, now: dt.datetime) -> int:
    """Whole minutes since the dose (never negative): 119 minutes 59 seconds is 119."""
    return max(0, int((now - dosed_at).total_seconds() // 60))


def discharge_allowed(dosed_at: dt.datetime | None, now: dt.datetime, minimum_minutes: int) -> bool:
    return dosed_at is not None and minutes_observed(dosed_at, now) >= minimum_minutes


def post_dose_reading_due(dosed_at: dt.datetime | None, now: dt.datetime, *, have_it: bool) -> bool:
    """Whether the form should ask for the about-40-minute reading now (it stays asked until
    one is recorded; a late reading carries its real time)."""
    return dosed_at is not None and not have_it and now - dosed_at >= POST_DOSE_READING_AFTER


# What is missing before signing ---------------------------------------------------------------


@dataclass
class RecordState:
    """A snapshot of a session record, plain values only (the caller reads the models)."""

    pre_dose: Reading | None = None
    limits: HoldLimits = field(default_factory=HoldLimits)
    hold_reason: str = ""
    dose_mg: Decimal | None = None
    dose_in_range: bool | None = None
    dose_reason: str = ""
    lot_number: str = ""
    route: str = ""
    dosed_at: dt.datetime | None = None
    post_dose_vitals: bool = False
    discharge_vitals: bool = False
    post_dose_observation: bool = False
    discharge_observation: bool = False
    adverse_events_answered: bool = False
    discharged_at: dt.datetime | None = None
    discharged_by: bool = False
    checklist: dict[str, bool] = field(default_factory=dict)
    minimum_minutes: int = 0
    # At home, supervised over video: the adult staying with the patient, seen on camera.
    at_home: bool = False
    supervisor_confirmed: bool = False


SUPERVISOR_MISSING = "The adult staying with the patient, confirmed on camera"


def missing_before_signing(state: RecordState) -> list[str]:
    """What must still be recorded before the record can be signed, in the order of the session;
    empty when it is complete. The page shows this list and the sign action refuses while it is
    not empty."""
    missing = []
    if state.at_home and not state.supervisor_confirmed:
        missing.append(SUPERVISOR_MISSING)
    if state.pre_dose is None:
        missing.append("Pre-dose vital signs")
    elif hold_problems(state.pre_dose, state.limits) and not state.hold_reason.strip():
        missing.append("A reason for dosing outside the protocol's vital-sign limits")
    if state.dose_mg is None or state.dosed_at is None:
        missing.append("The dose given and its time")
    else:
        if state.dose_in_range is False and not state.dose_reason.strip():
            missing.append("A reason for a dose outside the protocol's range")
        if not state.lot_number.strip():
            missing.append("The lot number")
        if not state.route:
            missing.append("The route")
    if not state.post_dose_vitals:
        missing.append("Vital signs about 40 minutes after dosing")
    if not state.post_dose_observation:
        missing.append("Sedation and dissociation after dosing")
    if not state.discharge_vitals:
        missing.append("Vital signs before discharge")
    if not state.discharge_observation:
        missing.append("Sedation and dissociation before discharge")
    if not state.adverse_events_answered:
        missing.append("Adverse events (or none)")
    if state.discharged_at is None or not state.discharged_by:
        missing.append("Discharge")
    else:
        unticked = [label for label, done in state.checklist.items() if not done]
        if unticked:
            missing.append("Discharge checklist: " + ", ".join(unticked))
        if not discharge_allowed(state.dosed_at, state.discharged_at, state.minimum_minutes):
            missing.append(f"At least {state.minimum_minutes} minutes of observation before discharge")
    return missing
