"""The session rules on their boundaries: the hold rule, the dose range, the observation minimum,
the 40-minute reading and what is missing before signing. No database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from clinic.care import session_rules as rules
from clinic.care.session_rules import HoldLimits, Reading, RecordState

# The label's default (INSTRUMENTS.md): consider delaying above 140/90.
LABEL = HoldLimits(systolic_max=140, diastolic_max=90)
FULL = HoldLimits(systolic_max=140, diastolic_max=90, heart_rate_max=110, heart_rate_min=50, spo2_min=94)
DOSED = dt.datetime(2026, 12, 2, 15, 0, tzinfo=dt.UTC)


def reading(systolic=120, diastolic=80, heart_rate=70, spo2=98) -> Reading:
    return Reading(systolic=systolic, diastolic=diastolic, heart_rate=heart_rate, spo2=spo2)


@pytest.mark.parametrize(
    ("systolic", "diastolic", "held"),
    [(140, 90, False), (141, 90, True), (140, 91, True), (139, 89, False), (180, 60, True)],
)
def test_blood_pressure_above_the_limit_holds_the_dose_and_the_limit_itself_does_not(
    systolic, diastolic, held
):
    assert bool(rules.hold_problems(reading(systolic, diastolic), LABEL)) is held


def test_each_sign_outside_its_limit_is_named():
    assert rules.hold_problems(reading(heart_rate=110, spo2=94), FULL) == []
    assert rules.hold_problems(reading(heart_rate=111), FULL) == ["Heart rate 111 is above 110"]
    assert rules.hold_problems(reading(heart_rate=49), FULL) == ["Heart rate 49 is below 50"]
    assert rules.hold_problems(reading(heart_rate=50), FULL) == []
    assert rules.hold_problems(reading(spo2=93), FULL) == ["SpO2 93% is below 94%"]
    assert rules.hold_problems(reading(141, 95, 120, 90), FULL) == [
        "Systolic 141 is above 140",
        "Diastolic 95 is above 90",
        "Heart rate 120 is above 110",
        "SpO2 90% is below 94%",
    ]


def test_a_protocol_without_a_limit_on_a_sign_never_holds_for_it():
    assert rules.hold_problems(reading(heart_rate=190, spo2=70), LABEL) == []


def test_mg_per_kg_rounds_half_up_to_two_decimals():
    assert rules.mg_per_kg(Decimal("35"), Decimal("70")) == Decimal("0.50")
    assert rules.mg_per_kg(Decimal("56"), Decimal("80")) == Decimal("0.70")
    assert rules.mg_per_kg(Decimal("10"), Decimal("3")) == Decimal("3.33")
    assert rules.mg_per_kg(Decimal("0.125"), Decimal("1")) == Decimal("0.13")
    with pytest.raises(ValueError):
        rules.mg_per_kg(Decimal("10"), Decimal("0"))


@pytest.mark.parametrize(
    ("dose", "in_range"),
    [("35", True), ("52.5", True), ("34.99", False), ("52.51", False), ("40", True)],
)
def test_a_range_in_mg_per_kg_includes_both_ends(dose, in_range):
    # 0.5–0.75 mg/kg at 70 kg is 35–52.5 mg.
    check = rules.check_dose(
        dose_mg=Decimal(dose),
        weight_kg=Decimal("70"),
        low=Decimal("0.5"),
        high=Decimal("0.75"),
        unit=rules.MG_PER_KG,
    )
    assert check.in_range is in_range


def test_the_range_compares_the_exact_dose_per_kg_not_the_rounded_one():
    # 52.52 / 70 = 0.75028…: shown as 0.75, still above the range.
    check = rules.check_dose(
        dose_mg=Decimal("52.52"),
        weight_kg=Decimal("70"),
        low=Decimal("0.5"),
        high=Decimal("0.75"),
        unit=rules.MG_PER_KG,
    )
    assert check.per_kg == Decimal("0.75") and not check.in_range


@pytest.mark.parametrize(("dose", "in_range"), [("56", True), ("84", True), ("55", False), ("85", False)])
def test_a_range_in_mg_compares_the_dose_itself_and_still_shows_mg_per_kg(dose, in_range):
    check = rules.check_dose(
        dose_mg=Decimal(dose), weight_kg=Decimal("80"), low=Decimal("56"), high=Decimal("84"), unit=rules.MG
    )
    assert check.in_range is in_range and check.per_kg is not None
    assert "mg is" in check.describe(Decimal("56"), Decimal("84"))


def test_a_range_in_mg_per_kg_without_a_weight_is_refused():
    with pytest.raises(ValueError):
        rules.check_dose(
            dose_mg=Decimal("35"), weight_kg=None, low=Decimal("0.5"), high=Decimal("1"), unit="mg_per_kg"
        )


def test_the_observation_clock_counts_whole_minutes_and_the_minimum_is_reached_at_its_minute():
    assert rules.minutes_observed(DOSED, DOSED - dt.timedelta(minutes=3)) == 0
    almost = DOSED + dt.timedelta(minutes=119, seconds=59)
    assert rules.minutes_observed(DOSED, almost) == 119
    assert not rules.discharge_allowed(DOSED, almost, 120)
    assert rules.discharge_allowed(DOSED, DOSED + dt.timedelta(minutes=120), 120)
    assert not rules.discharge_allowed(None, DOSED, 120)


def test_the_post_dose_reading_is_asked_from_40_minutes_until_it_is_recorded():
    assert not rules.post_dose_reading_due(DOSED, DOSED + dt.timedelta(minutes=39, seconds=59), have_it=False)
    assert rules.post_dose_reading_due(DOSED, DOSED + dt.timedelta(minutes=40), have_it=False)
    assert rules.post_dose_reading_due(DOSED, DOSED + dt.timedelta(minutes=95), have_it=False)
    assert not rules.post_dose_reading_due(DOSED, DOSED + dt.timedelta(minutes=95), have_it=True)
    assert not rules.post_dose_reading_due(None, DOSED, have_it=False)


def complete(**changes) -> RecordState:
    state = RecordState(
        pre_dose=reading(),
        limits=LABEL,
        dose_mg=Decimal("56"),
        dose_in_range=True,
        lot_number="L123",
        route="intranasal_esketamine",
        dosed_at=DOSED,
        post_dose_vitals=True,
        discharge_vitals=True,
        post_dose_observation=True,
        discharge_observation=True,
        adverse_events_answered=True,
        discharged_at=DOSED + dt.timedelta(minutes=120),
        discharged_by=True,
        checklist={"alert and oriented": True, "escort present": True},
        minimum_minutes=120,
    )
    for name, value in changes.items():
        setattr(state, name, value)
    return state


def test_a_complete_record_misses_nothing():
    assert rules.missing_before_signing(complete()) == []


def test_an_empty_record_lists_everything_in_session_order():
    missing = rules.missing_before_signing(RecordState(minimum_minutes=120))
    assert missing == [
        "Pre-dose vital signs",
        "The dose given and its time",
        "Vital signs about 40 minutes after dosing",
        "Sedation and dissociation after dosing",
        "Vital signs before discharge",
        "Sedation and dissociation before discharge",
        "Adverse events (or none)",
        "Discharge",
    ]


def test_a_held_dose_needs_its_reason_and_an_out_of_range_dose_its_own():
    held = complete(pre_dose=reading(141, 80))
    assert rules.missing_before_signing(held) == [
        "A reason for dosing outside the protocol's vital-sign limits"
    ]
    assert rules.missing_before_signing(complete(pre_dose=reading(141, 80), hold_reason="BP settled")) == []
    assert rules.missing_before_signing(complete(pre_dose=reading(141, 80), hold_reason="   ")) != []
    outside = complete(dose_in_range=False)
    assert rules.missing_before_signing(outside) == ["A reason for a dose outside the protocol's range"]
    assert rules.missing_before_signing(complete(dose_in_range=False, dose_reason="titration")) == []


def test_discharge_before_the_minimum_or_with_an_unticked_box_is_missing():
    early = complete(discharged_at=DOSED + dt.timedelta(minutes=119, seconds=59))
    assert rules.missing_before_signing(early) == ["At least 120 minutes of observation before discharge"]
    unticked = complete(checklist={"alert and oriented": True, "escort present": False})
    assert rules.missing_before_signing(unticked) == ["Discharge checklist: escort present"]
    assert rules.missing_before_signing(complete(lot_number="")) == ["The lot number"]
