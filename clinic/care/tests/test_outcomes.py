"""The outcomes registry against hand-computed figures, and its disclosure control against an
independent attacker that rebuilds the published sums from the JSON alone (no access to the module's
own bookkeeping) and bounds every hidden cell with linear programming."""

from __future__ import annotations

import json
import math
import random
import re
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import numpy as np
import pytest
from scipy.optimize import linprog
from scipy.sparse import csr_array

from clinic.care.outcomes import (
    AE_KINDS,
    AGE_BANDS,
    FEWER,
    ROUTES,
    SEVERITIES,
    SUPPRESSED,
    AdverseEventRecord,
    Course,
    Measure,
    SessionRecord,
    compute_registry,
    too_few,
)

AS_OF = date(2026, 3, 15)
Z = 1.959963984540054  # the 97.5 % point of the standard normal


def course(
    *,
    days_ago: int = 40,
    baseline: int | None = 20,
    scores: tuple[tuple[int, int | None], ...] = (),
    route: str = "iv_ketamine",
    band: str = "40-59",
    sessions: tuple[SessionRecord, ...] | None = None,
    acute: int = 0,
) -> Course:
    """A course whose first session was ``days_ago`` days before AS_OF; ``scores`` are (day after
    the first session, PHQ-9 or None for a partial form)."""
    first = AS_OF - timedelta(days=days_ago)
    measures = tuple(Measure(first + timedelta(days=d), s) for d, s in scores)
    if sessions is None:
        sessions = (SessionRecord(first),)
    return Course(route, band, first, baseline, measures, sessions, acute)


def week4(snapshot: dict[str, Any], where: str = "overall", name: str = "") -> dict[str, Any]:
    block = snapshot[where] if where == "overall" else snapshot[where][name]
    return block["outcomes"]["week_4"]


def wilson_by_hand(x: int, n: int) -> tuple[float, float]:
    p = x / n
    denominator = 1 + Z**2 / n
    centre = (p + Z**2 / (2 * n)) / denominator
    half = Z * math.sqrt(p * (1 - p) / n + Z**2 / (4 * n**2)) / denominator
    return centre - half, centre + half


# --- statistics -----------------------------------------------------------------------------------


def test_response_and_remission_with_wilson_intervals_by_hand() -> None:
    cohort = (
        [course(scores=((28, 4),))] * 11  # response and remission
        + [course(scores=((28, 10),))]  # exactly 50 % lower: a response, not a remission
        + [course(scores=((28, 15),))] * 18
    )
    w4 = week4(compute_registry(cohort, as_of=AS_OF))
    assert (w4["eligible"], w4["with_data"], w4["missing"], w4["assessable"]) == (30, 30, 0, 30)
    assert w4["response"]["responders"] == 12 and w4["response"]["non_responders"] == 18
    assert w4["response"]["rate"] == pytest.approx(0.4, abs=1e-4)
    low, high = wilson_by_hand(12, 30)
    assert (low, high) == pytest.approx((0.24588, 0.57680), abs=1e-4)  # the formula, worked out
    assert w4["response"]["ci95"] == pytest.approx([low, high], abs=1e-4)
    assert w4["remission"]["remitters"] == 11
    assert w4["remission"]["ci95"] == pytest.approx(list(wilson_by_hand(11, 30)), abs=1e-4)


def test_kaplan_meier_with_censoring_matches_the_product_limit_by_hand() -> None:
    # 24 responders (week 1 after the first session, PHQ-9 20 -> 8); 12 relapse (PHQ-9 15) and 12
    # are censored at their last form, in threes at whole weeks after the response.
    def responder(weeks: int, relapse: bool) -> Course:
        return course(days_ago=400, scores=((7, 8), (7 + 7 * weeks, 15 if relapse else 8)))

    cohort = [responder(w, True) for w in (2, 6, 10, 20) for _ in range(3)]
    cohort += [responder(w, False) for w in (4, 8, 16, 30) for _ in range(3)]
    durability = compute_registry(cohort, as_of=AS_OF)["overall"]["durability"]
    assert (durability["responders"], durability["relapsed"], durability["censored"]) == (24, 12, 12)
    # Product limit: at risk 24, 18, 12, 6 at the relapse weeks 2, 6, 10, 20 (3 censored at 4, 8, 16).
    s2 = 1 - 3 / 24
    s6 = s2 * (1 - 3 / 18)
    s10 = s6 * (1 - 3 / 12)
    s20 = s10 * (1 - 3 / 6)
    assert (s2, s6, s10, s20) == pytest.approx((0.875, 0.7291667, 0.546875, 0.2734375))
    # Read every 4 weeks while at least 11 remain at risk: 24, 21, 15 at weeks 0, 4, 8; 9 at week 12.
    curve = durability["curve"]
    assert [p["week"] for p in curve] == [0, 4, 8]
    assert [p["survival"] for p in curve] == pytest.approx([1.0, s2, s6], abs=1e-4)
    # Greenwood variance and the log-log interval at week 8.
    se = s6 * math.sqrt(3 / (24 * 21) + 3 / (18 * 15))
    spread = Z * se / (s6 * abs(math.log(s6)))
    assert curve[2]["lower"] == pytest.approx(s6 ** math.exp(spread), abs=1e-4)
    assert curve[2]["upper"] == pytest.approx(s6 ** math.exp(-spread), abs=1e-4)
    assert (curve[0]["lower"], curve[0]["upper"]) == (1.0, 1.0)
    # Median: the first time S falls below one half.
    assert durability["median_weeks"] == 20
    # Its interval: event times whose log-log z statistic against 0.5 is within 1.96 (SAS method).
    risk = {2: 24, 6: 18, 10: 12, 20: 6}
    surv = {2: s2, 6: s6, 10: s10, 20: s20}
    greenwood = 0.0
    inside = []
    for t in (2, 6, 10, 20):
        greenwood += 3 / (risk[t] * (risk[t] - 3))
        s, se_t = surv[t], surv[t] * math.sqrt(greenwood)
        z = (math.log(-math.log(s)) - math.log(-math.log(0.5))) / (-1 / (s * math.log(s)) * se_t)
        if abs(z) <= Z:
            inside.append(t)
    times = [2, 6, 10, 20]
    upper: int | str = "not reached" if inside[-1] == 20 else times[times.index(inside[-1]) + 1]
    assert durability["median_ci95_weeks"] == [inside[0], upper]
    assert durability["at_risk"] == {"week_4": 21, "week_12": FEWER, "week_26": FEWER, "week_52": 0}


def test_median_not_reached_and_curve_hidden_without_eleven_relapses() -> None:
    few_relapses = [course(days_ago=400, scores=((7, 8), (70, 15)))] * 5
    few_relapses += [course(days_ago=400, scores=((7, 8), (70, 8)))] * 20
    durability = compute_registry(few_relapses, as_of=AS_OF)["overall"]["durability"]
    assert durability["relapsed"] == FEWER
    # Its drops would count the relapses, so the curve goes with them.
    assert durability["curve"] == SUPPRESSED and durability["median_weeks"] == SUPPRESSED

    slow = [course(days_ago=400, scores=((7, 8), (7 + 7 * 30, 15)))] * 11
    slow += [course(days_ago=400, scores=((7, 8), (7 + 7 * 40, 8)))] * 11
    durability = compute_registry(slow, as_of=AS_OF)["overall"]["durability"]
    # S drops to 0.5 exactly at week 30, never below: statsmodels (SAS) reports it as not reached.
    assert durability["median_weeks"] == "not reached"
    assert [(p["week"], p["survival"]) for p in durability["curve"]][-3:] == [(32, 0.5), (36, 0.5), (40, 0.5)]


def test_relapse_needs_ten_or_more_and_above_half_the_baseline() -> None:
    def responders(later: int) -> list[Course]:
        return [course(days_ago=400, scores=((7, 8), (70, later)))] * 11

    def relapsed(cohort: list[Course]) -> Any:
        return compute_registry(cohort, as_of=AS_OF)["overall"]["durability"]["relapsed"]

    assert relapsed(responders(10)) == 0  # exactly half the baseline of 20: still a response
    assert relapsed(responders(11)) == 11


def test_response_needs_a_baseline_above_nine() -> None:
    cohort = [course(baseline=9, scores=((28, 2),))] * 11 + [course(baseline=10, scores=((28, 5),))] * 12
    w4 = week4(compute_registry(cohort, as_of=AS_OF))
    assert (w4["with_data"], w4["assessable"], w4["not_assessable"]) == (23, 12, 11)
    assert w4["response"]["responders"] == 12  # 5 is half of 10
    assert w4["remission"]["remitters"] == 0  # 5 is not below 5; the baseline-9 group is not counted
    durability = compute_registry(cohort, as_of=AS_OF)["overall"]["durability"]
    assert durability["responders"] == 12


def test_first_response_counts_only_after_the_first_session() -> None:
    before = [course(days_ago=400, scores=((-3, 8), (70, 15)))] * 11
    assert compute_registry(before, as_of=AS_OF)["overall"]["durability"]["responders"] == 0


# --- windows and eligibility --------------------------------------------------------------------


@pytest.mark.parametrize(("days_ago", "eligible"), [(35, False), (36, True)])
def test_a_window_counts_once_it_has_wholly_closed(days_ago: int, eligible: bool) -> None:
    w4 = week4(compute_registry([course(days_ago=days_ago, scores=((28, 4),))] * 11, as_of=AS_OF))
    assert w4["eligible"] == (11 if eligible else 0)
    assert w4["not_yet_reached"] == (0 if eligible else 11)
    assert w4["missing"] == 0  # not yet reached is never missing


@pytest.mark.parametrize(("day", "counted"), [(20, False), (21, True), (35, True), (36, False)])
def test_week_4_window_is_plus_or_minus_seven_days(day: int, counted: bool) -> None:
    w4 = week4(compute_registry([course(days_ago=60, scores=((day, 4),))] * 11, as_of=AS_OF))
    assert (w4["with_data"], w4["missing"]) == ((11, 0) if counted else (0, 11))
    assert w4["missing_share"] == (0.0 if counted else 1.0)


def test_the_form_closest_to_the_target_counts_and_a_tie_goes_to_the_earlier() -> None:
    closest = [course(scores=((25, 4), (30, 15)))] * 11  # 3 days vs 2 days from day 28
    assert week4(compute_registry(closest, as_of=AS_OF))["response"]["responders"] == 0
    tie = [course(scores=((26, 4), (30, 15)))] * 11  # 2 days either side
    assert week4(compute_registry(tie, as_of=AS_OF))["response"]["responders"] == 11


def test_partial_forms_are_never_data() -> None:
    skips_partial = [course(scores=((28, None), (34, 4)))] * 11
    w4 = week4(compute_registry(skips_partial, as_of=AS_OF))
    assert w4["with_data"] == 11 and w4["remission"]["remitters"] == 11
    only_partial = [course(scores=((28, None),))] * 11
    w4 = week4(compute_registry(only_partial, as_of=AS_OF))
    assert (w4["with_data"], w4["missing"]) == (0, 11)


def test_forms_after_the_snapshot_date_are_ignored() -> None:
    future = [course(days_ago=36, scores=((37, 4),))] * 11  # dated one day after AS_OF
    w4 = week4(compute_registry(future, as_of=AS_OF))
    assert (w4["eligible"], w4["missing"]) == (11, 11)


def test_longer_timepoints_use_their_own_windows() -> None:
    # 52 weeks = day 364 +/- 42: a form on day 322 counts, the window closed on day 406.
    cohort = [course(days_ago=407, scores=((322, 3),))] * 11 + [course(days_ago=406, scores=((322, 3),))] * 11
    w52 = compute_registry(cohort, as_of=AS_OF)["overall"]["outcomes"]["week_52"]
    assert (w52["eligible"], w52["not_yet_reached"], w52["with_data"]) == (11, 11, 11)
    assert w52["remission"]["remitters"] == 11


# --- privacy ------------------------------------------------------------------------------------


def test_ten_is_hidden_and_eleven_shown() -> None:
    ten = compute_registry([course()] * 10, as_of=AS_OF)
    eleven = compute_registry([course()] * 11, as_of=AS_OF)
    assert ten["overall"]["cohort"]["patients"] == FEWER and too_few(ten)
    assert eleven["overall"]["cohort"]["patients"] == 11 and not too_few(eleven)


def test_too_few_for_an_empty_registry() -> None:
    snapshot = compute_registry([], as_of=AS_OF)
    assert too_few(snapshot)
    assert snapshot["overall"]["cohort"]["patients"] == 0  # a zero is shown (see suppress_zero)


def test_a_small_cell_hides_its_complement() -> None:
    cohort = [course(scores=((28, 4),))] * 20 + [course()] * 5  # 5 with no form in the window
    w4 = week4(compute_registry(cohort, as_of=AS_OF))
    assert w4["missing"] == FEWER
    assert w4["eligible"] == 25
    assert w4["with_data"] == SUPPRESSED  # 25 - 20 would give the 5 away
    assert w4["missing_share"] == SUPPRESSED


def test_the_other_routes_cannot_give_a_small_route_away() -> None:
    cohort = [course(route="iv_ketamine")] * 30 + [course(route="intranasal_esketamine")] * 8
    snapshot = compute_registry(cohort, as_of=AS_OF)
    assert snapshot["overall"]["cohort"]["patients"] == 38
    assert snapshot["by_route"]["intranasal_esketamine"]["cohort"]["patients"] == FEWER
    # Overall minus every other route would be 8: the largest other route is hidden with it.
    shown = [b["cohort"]["patients"] for r, b in snapshot["by_route"].items() if r != "intranasal_esketamine"]
    assert not all(isinstance(v, int) for v in shown)
    assert_nothing_pinned(snapshot)


def test_a_small_route_is_withheld_whole_zeros_included() -> None:
    cohort = [course(route="iv_ketamine")] * 30 + [course(route="intranasal_esketamine")] * 8
    snapshot = compute_registry(cohort, as_of=AS_OF)
    small, large = snapshot["by_route"]["intranasal_esketamine"], snapshot["by_route"]["iv_ketamine"]
    assert small["withheld"] and not large["withheld"] and not snapshot["overall"]["withheld"]
    assert small["cohort"]["not_started"] == FEWER  # a 0, hidden with the rest
    assert snapshot["overall"]["cohort"]["not_started"] == 0
    assert small["safety"]["held_for_blood_pressure"]["events"] == SUPPRESSED


def test_a_curve_is_hidden_with_its_responders_even_when_they_are_many() -> None:
    def responders(route: str, n: int) -> list[Course]:
        relapse = [course(route=route, days_ago=400, scores=((7, 8), (70, 15)))] * (n - n // 2)
        return relapse + [course(route=route, days_ago=400, scores=((7, 8), (140, 8)))] * (n // 2)

    snapshot = compute_registry(
        responders("iv_ketamine", 30) + responders("intranasal_esketamine", 6), as_of=AS_OF
    )
    assert snapshot["overall"]["durability"]["curve"] != SUPPRESSED
    # IV alone has 30 responders, but overall minus IV would give esketamine's 6 away.
    iv = snapshot["by_route"]["iv_ketamine"]["durability"]
    assert iv["responders"] == SUPPRESSED and iv["curve"] == SUPPRESSED
    assert_nothing_pinned(snapshot)


def test_the_other_age_band_cannot_give_a_small_band_away() -> None:
    cohort = [course(band="18-39")] * 5 + [course(band="40-59")] * 33
    snapshot = compute_registry(cohort, as_of=AS_OF)
    bands = snapshot["by_age_band"]
    assert bands["18-39"]["cohort"]["patients"] == FEWER
    assert bands["40-59"]["cohort"]["patients"] == SUPPRESSED
    assert snapshot["overall"]["cohort"]["patients"] == 38
    assert_nothing_pinned(snapshot)


def test_two_small_cells_that_add_up_to_their_bounds_are_not_left_alone() -> None:
    # eligible 20 = with data 10 + missing 10: both "fewer than 11", but 10 + 10 = 20 pins both.
    cohort = [course(scores=((28, 4),))] * 10 + [course()] * 10 + [course(days_ago=10)] * 11
    snapshot = compute_registry(cohort, as_of=AS_OF)
    w4 = week4(snapshot)
    assert w4["with_data"] == FEWER and w4["missing"] == FEWER
    assert w4["eligible"] == SUPPRESSED
    assert_nothing_pinned(snapshot)


@pytest.mark.parametrize("seed", range(6))
def test_no_hidden_cell_can_be_worked_out_in_random_small_clinics(seed: int) -> None:
    snapshot = compute_registry(random_cohort(random.Random(seed), size=12 + 13 * seed), as_of=AS_OF)
    assert_nothing_pinned(snapshot)


def test_safety_counts_are_hidden_by_the_number_of_patients_behind_them() -> None:
    def sessions(*events: AdverseEventRecord) -> tuple[SessionRecord, ...]:
        first = AS_OF - timedelta(days=40)
        return tuple(SessionRecord(first + timedelta(days=7 * i)) for i in range(4)) + (
            SessionRecord(first + timedelta(days=28), adverse_events=events),
        )

    mild = AdverseEventRecord("dissociation", "mild", serious=False)
    sick = AdverseEventRecord("nausea_vomiting", "moderate", serious=False)
    cohort = [course(sessions=sessions(mild))] * 12 + [course(sessions=sessions(*[sick] * 15))]
    snapshot = compute_registry(cohort, as_of=AS_OF)
    safety = snapshot["overall"]["safety"]
    assert safety["sessions"] == 65 and safety["patients_with_sessions"] == 13
    assert safety["adverse_events"]["by_kind"]["dissociation"]["by_severity"]["mild"]["patients"] == 12
    nausea = safety["adverse_events"]["by_kind"]["nausea_vomiting"]["all"]
    # 15 events, but from one patient.
    assert nausea == {"events": SUPPRESSED, "patients": FEWER, "per_100_sessions": SUPPRESSED}
    # All adverse events (27) minus dissociation (12) would give nausea's 15 away: one goes with it.
    everything = safety["adverse_events"]["all"]["events"]
    dissociation = safety["adverse_events"]["by_kind"]["dissociation"]["all"]["events"]
    assert SUPPRESSED in (everything, dissociation)
    assert_nothing_pinned(snapshot)
    assert safety["held_for_blood_pressure"] == {"events": 0, "patients": 0, "per_100_sessions": 0.0}


def test_safety_rates_per_hundred_sessions() -> None:
    first = AS_OF - timedelta(days=40)
    held = (SessionRecord(first, held_for_bp=True, dose_outside_range=True),) + tuple(
        SessionRecord(first + timedelta(days=i + 1)) for i in range(3)
    )
    safety = compute_registry([course(sessions=held, acute=1)] * 11, as_of=AS_OF)["overall"]["safety"]
    assert safety["sessions"] == 44
    assert safety["held_for_blood_pressure"] == {"events": 11, "patients": 11, "per_100_sessions": 25.0}
    assert safety["dose_outside_protocol_range"]["per_100_sessions"] == 25.0
    assert safety["acute_screens"] == {"events": 11, "patients": 11}


def test_zeros_can_be_hidden_too_and_then_empty_groups_are_not_listed() -> None:
    cohort = [course(route="iv_ketamine", scores=((28, 4),))] * 30
    snapshot = compute_registry(cohort, as_of=AS_OF, suppress_zero=True)
    assert set(snapshot["by_route"]) == {"iv_ketamine"}
    assert set(snapshot["by_age_band"]) == {"40-59"}
    assert week4(snapshot)["missing"] == FEWER
    assert snapshot["overall"]["cohort"]["not_started"] == FEWER
    assert_nothing_pinned(snapshot, zero_hidden=True)
    shown = compute_registry(cohort, as_of=AS_OF)
    assert set(shown["by_route"]) == set(ROUTES) and set(shown["by_age_band"]) == set(AGE_BANDS)


def test_no_date_finer_than_a_month_and_plain_json() -> None:
    snapshot = compute_registry(random_cohort(random.Random(99), size=400), as_of=AS_OF)
    text = json.dumps(snapshot, allow_nan=False)
    assert snapshot["as_of_month"] == "2026-03"
    assert not re.search(r"\d{4}-\d{2}-\d{2}", text)
    assert "definitions" in snapshot and snapshot["definitions_version"]


def test_unknown_vocabulary_is_refused() -> None:
    with pytest.raises(ValueError, match="route"):
        course(route="IV ketamine, Dr Smith's protocol")
    with pytest.raises(ValueError, match="kind"):
        AdverseEventRecord("patient cried", "mild", serious=False)
    with pytest.raises(ValueError, match="PHQ-9"):
        Measure(AS_OF, 28)


def test_runs_for_a_thousand_and_ten_thousand_courses() -> None:
    rng = random.Random(5)
    small = compute_registry(random_cohort(rng, size=1000), as_of=AS_OF)
    large = compute_registry(random_cohort(rng, size=10_000), as_of=AS_OF)
    assert small["overall"]["cohort"]["patients"] == 1000
    assert large["overall"]["cohort"]["patients"] == 10_000


# --- helpers ------------------------------------------------------------------------------------


def random_cohort(rng: random.Random, *, size: int) -> list[Course]:
    """Plausible courses with skewed routes and bands, so that small cells are common."""
    cohort = []
    for _ in range(size):
        days_ago = rng.randint(0, 450)
        baseline = rng.randint(6, 27)
        score, scores, day = baseline, [], 0
        while day < days_ago:
            day += rng.randint(4, 30)
            score = max(0, min(27, score + rng.randint(-7, 4)))
            scores.append((day, score if rng.random() > 0.07 else None))
        first = AS_OF - timedelta(days=days_ago)
        sessions = tuple(
            SessionRecord(
                first + timedelta(days=7 * i),
                held_for_bp=rng.random() < 0.05,
                dose_outside_range=rng.random() < 0.02,
                adverse_events=tuple(
                    AdverseEventRecord(rng.choice(AE_KINDS[:5]), rng.choice(SEVERITIES), rng.random() < 0.03)
                    for _ in range(rng.choice((0, 0, 0, 1, 2)))
                ),
            )
            for i in range(rng.randint(1, 8))
            if 7 * i <= days_ago
        )
        cohort.append(
            Course(
                rng.choices(ROUTES, weights=(10, 1, 2, 0.5, 6))[0],
                rng.choices(AGE_BANDS, weights=(5, 4, 1))[0],
                first,
                baseline,
                tuple(Measure(first + timedelta(days=d), s) for d, s in scores),
                sessions,
                rng.choice((0,) * 15 + (1,)),
            )
        )
    return cohort


def _blocks(snapshot: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    yield "overall", snapshot["overall"]
    for dimension in ("by_route", "by_age_band"):
        for name, block in snapshot[dimension].items():
            yield f"{dimension}:{name}", block


def _published_sums(
    snapshot: dict[str, Any],
) -> tuple[dict[tuple[str, str], Any], list[tuple[Any, list[Any]]]]:
    """The reader's view: every count by (stratum, name) and every sum the page implies."""
    cells: dict[tuple[str, str], Any] = {}
    sums: list[tuple[Any, list[Any]]] = []
    for stratum, block in _blocks(snapshot):

        def put(name: str, value: Any, stratum: str = stratum) -> tuple[str, str]:
            cells[(stratum, name)] = value
            return (stratum, name)

        c = {k: put(k, v) for k, v in block["cohort"].items()}
        sums.append((c["patients"], [c["started"], c["not_started"]]))
        for tp, o in block["outcomes"].items():
            n = {k: put(f"{tp}.{k}", o[k]) for k in ("eligible", "not_yet_reached", "with_data", "missing")}
            n |= {k: put(f"{tp}.{k}", o[k]) for k in ("assessable", "not_assessable")}
            for part in ("response", "remission"):
                for k in ("responders", "non_responders", "remitters", "non_remitters"):
                    if k in o[part]:
                        n[k] = put(f"{tp}.{k}", o[part][k])
            sums.append((c["started"], [n["eligible"], n["not_yet_reached"]]))
            sums.append((n["eligible"], [n["with_data"], n["missing"]]))
            sums.append((n["with_data"], [n["assessable"], n["not_assessable"]]))
            sums.append((n["assessable"], [n["responders"], n["non_responders"]]))
            sums.append((n["assessable"], [n["remitters"], n["non_remitters"]]))
        d = block["durability"]
        r = [put(f"durability.{k}", d[k]) for k in ("responders", "relapsed", "censored")]
        sums.append((r[0], r[1:]))
        for w, v in d["at_risk"].items():
            put(f"at_risk.{w}", v)
        ae = block["safety"]["adverse_events"]

        def events(name: str, item: dict[str, Any], stratum: str = stratum) -> tuple[str, str]:
            put(f"{name}.patients", item["patients"])
            return put(name, item["events"])

        ev = {"all": events("ae.all", ae["all"])}
        for k, kind in ae["by_kind"].items():
            ev[k] = events(f"ae.{k}", kind["all"])
            sev = [events(f"ae.{k}.{s}", kind["by_severity"][s]) for s in SEVERITIES]
            sums.append((ev[k], sev))
        sums.append((ev["all"], [ev[k] for k in AE_KINDS]))
        sums.append((ev["all"], [events(f"ae.sev.{s}", ae["by_severity"][s]) for s in SEVERITIES]))
        sums.append((ev["all"], [events("ae.serious", ae["serious"]), events("ae.ns", ae["non_serious"])]))
    names = {name for _, name in cells}
    for dimension in ("by_route", "by_age_band"):
        parts = [f"{dimension}:{n}" for n in snapshot[dimension]]
        for name in names:
            sums.append((("overall", name), [(p, name) for p in parts]))
    return cells, sums


def assert_nothing_pinned(snapshot: dict[str, Any], *, zero_hidden: bool = False) -> None:
    """No hidden cell is alone in a published sum (one subtraction would give it away), and no
    small count (a ``FEWER`` cell, or the events of a ``FEWER`` group of patients) can be pinned
    to one value by linear programming over every published sum with the bounds the markers
    reveal. A cell worked out to be 0 is allowed unless zeros are hidden: zeros are published."""
    cells, sums = _published_sums(snapshot)
    for total, parts in sums:
        lone = [m for m in (total, *parts) if not isinstance(cells[m], int)]
        if len(lone) == 1:
            known = [cells[m] for m in (total, *parts) if m != lone[0]]
            value = (known[0] - sum(known[1:])) if lone[0] != total else sum(known)
            assert value == 0 and not zero_hidden, f"{lone[0]} = {value} by subtraction"
    keys = sorted(cells)
    pos = {k: i for i, k in enumerate(keys)}
    # A withheld stratum (fewer than 11 patients, or withheld as a last resort) hides its zeros too.
    withheld = {name for name, block in _blocks(snapshot) if block["withheld"]}
    bounds = []
    for k in keys:
        v = cells[k]
        if isinstance(v, int):
            bounds.append((v, v))
        elif v == FEWER:
            bounds.append((0 if zero_hidden or k[0] in withheld else 1, 10))
        elif k[1].startswith("ae.") and not k[1].endswith(".patients"):
            bounds.append((0, 1e6))  # hidden events: any number, whatever the marker
        else:
            bounds.append((11, 1e6))
    entries: dict[tuple[int, int], float] = {}
    for r, (total, parts) in enumerate(sums):
        entries[(r, pos[total])] = entries.get((r, pos[total]), 0.0) + 1
        for p in parts:
            entries[(r, pos[p])] = entries.get((r, pos[p]), 0.0) - 1
    rows = csr_array(
        (list(entries.values()), ([r for r, _ in entries], [c for _, c in entries])),
        shape=(len(sums), len(keys)),
    )
    protected = [
        pos[k]
        for k in keys
        if cells[k] == FEWER or (k[1].startswith("ae.") and cells.get((k[0], f"{k[1]}.patients")) == FEWER)
    ]
    # Every solution found widens the range seen for every cell; a cell seen at two values a whole
    # patient apart is not pinned. Random objectives first, then each remaining cell's own min/max.
    seen_low = np.full(len(keys), np.inf)
    seen_high = np.full(len(keys), -np.inf)

    def solve(objective: np.ndarray) -> None:
        result = linprog(objective, A_eq=rows, b_eq=np.zeros(len(sums)), bounds=bounds, method="highs")
        assert result.status == 0, result.message  # the published figures are consistent
        np.minimum(seen_low, result.x, out=seen_low)
        np.maximum(seen_high, result.x, out=seen_high)

    rng = np.random.default_rng(1)
    standing = list(protected)
    for _ in range(20):
        mask = np.zeros(len(keys))
        mask[standing] = 1.0
        for sign in (1.0, -1.0):
            solve(sign * mask * rng.uniform(0.5, 1.5, len(keys)))
        still = [j for j in standing if seen_high[j] - seen_low[j] <= 0.5]
        if len(still) == len(standing):
            break
        standing = still
    for j in protected:
        for sign in (-1.0, 1.0):  # the maximum first: a cell that cannot leave 0 needs no minimum
            if seen_high[j] - seen_low[j] <= 0.5 and (sign < 0 or seen_high[j] >= 0.5 or zero_hidden):
                unit = np.zeros(len(keys))
                unit[j] = sign
                solve(unit)
        if seen_high[j] < 0.5 and not zero_hidden:
            continue  # a zero that follows from a published zero: zeros are published anyway
        assert seen_high[j] - seen_low[j] > 0.5, f"{keys[j]} is pinned to {seen_low[j]}"
