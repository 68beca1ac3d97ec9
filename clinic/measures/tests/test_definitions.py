"""The course rules on their boundaries. Expected values are worked out by hand from the rules
(INSTRUMENTS.md and the measurement-based care issue), never from the module."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from clinic.measures.definitions import CURRENT, VERSIONS, Measure, evaluate, get

FIRST = date(2026, 3, 2)


def series(*scores: int | None, start: date = FIRST) -> list[Measure]:
    """One measure a week; the first one is on the day of the first session."""
    return [Measure(start + timedelta(weeks=i), s) for i, s in enumerate(scores)]


def test_version_is_registered_and_current():
    assert CURRENT.version == "1"
    assert get("1") is CURRENT
    assert VERSIONS["1"] is CURRENT
    with pytest.raises(KeyError):
        get("0")


@pytest.mark.parametrize(
    ("baseline", "score", "response"),
    [
        (20, 10, True),
        (20, 11, False),
        (21, 10, True),
        (21, 11, False),
        (10, 5, True),
        (1, 0, True),
        (0, 0, False),
    ],
)
def test_response_is_a_fall_of_at_least_half(baseline, score, response):
    assert CURRENT.is_response(score, baseline) is response


@pytest.mark.parametrize(("score", "remission"), [(4, True), (5, False), (0, True)])
def test_remission_is_below_five(score, remission):
    assert CURRENT.is_remission(score) is remission


@pytest.mark.parametrize(
    ("baseline", "score", "watch"),
    [
        (20, 10, True),  # exactly half and exactly 10: still a response, and on watch
        (20, 9, False),  # below 10
        (24, 11, False),  # 10 or more but under half the baseline
        (24, 12, True),  # exactly half
        (12, 10, True),
        (18, 9, False),  # half the baseline, but under 10
    ],
)
def test_relapse_watch_boundaries(baseline, score, watch):
    assert CURRENT.is_relapse_watch(score, baseline, responded_before=True) is watch
    assert CURRENT.is_relapse_watch(score, baseline, responded_before=False) is False


def test_exactly_half_is_both_a_response_and_on_watch():
    assert CURRENT.is_response(10, 20)
    assert CURRENT.is_relapse_watch(10, 20, responded_before=True)


@pytest.mark.parametrize(
    ("previous", "score", "worse"), [(5, 10, True), (5, 9, False), (10, 5, False), (0, 27, True)]
)
def test_worsening_is_a_rise_of_five(previous, score, worse):
    assert CURRENT.is_worsening(previous, score) is worse


def test_baseline_is_the_last_complete_form_on_or_before_the_first_session():
    measures = [
        Measure(FIRST - timedelta(days=20), 22),
        Measure(FIRST - timedelta(days=3), 18),
        Measure(FIRST, None),  # partial on the day: not a baseline
        Measure(FIRST + timedelta(days=1), 17),
    ]
    ev = evaluate(measures, FIRST)
    assert ev.baseline == 18
    assert ev.baseline_day == FIRST - timedelta(days=3)
    assert [p.is_baseline for p in ev.points] == [False, True, False, False]
    assert not ev.provisional_baseline


def test_a_form_on_the_first_session_day_is_the_baseline():
    ev = evaluate([Measure(FIRST - timedelta(days=7), 15), Measure(FIRST, 19)], FIRST)
    assert ev.baseline == 19


def test_no_first_session_gives_a_provisional_baseline():
    ev = evaluate(series(15, 16), None)
    assert ev.baseline == 16
    assert ev.provisional_baseline
    assert not any(p.response for p in ev.points)


def test_a_course_response_then_relapse_watch():
    # baseline 20 on the first session day; 9 is a response; 10 after it is half: response + watch.
    ev = evaluate(series(20, 14, 9, 10, 12, 8), FIRST)
    flags = [(p.phq9, p.response, p.relapse_watch, p.remission) for p in ev.points]
    assert flags == [
        (20, False, False, False),  # the baseline itself is not "after the first session"
        (14, False, False, False),
        (9, True, False, False),
        (10, True, True, False),
        (12, False, True, False),
        (8, True, False, False),
    ]
    assert ev.ever_responded


def test_relapse_watch_needs_an_earlier_response():
    ev = evaluate(series(20, 15, 12, 10), FIRST)
    # 10 is the first response: nothing responded before it, so it is not on watch.
    assert [p.relapse_watch for p in ev.points] == [False, False, False, False]
    ev = evaluate(series(20, 15, 12, 11), FIRST)
    assert not any(p.relapse_watch for p in ev.points)


def test_partial_forms_have_no_flags_and_are_skipped_between_check_ins():
    ev = evaluate(series(12, 4, None, 9), FIRST)
    partial = ev.points[2]
    assert partial.phq9 is None
    assert not (partial.response or partial.remission or partial.relapse_watch or partial.worsening)
    assert ev.points[3].worsening and ev.points[3].rise == 5  # compared with 4, the last valid total


def test_worsening_before_the_first_session_counts():
    ev = evaluate([Measure(FIRST - timedelta(days=14), 10), Measure(FIRST - timedelta(days=7), 15)], FIRST)
    assert ev.points[1].worsening


def test_same_day_forms_keep_their_order():
    ev = evaluate([Measure(FIRST, 10), Measure(FIRST, 16)], None)
    assert ev.points[1].worsening
    assert ev.baseline == 16


def test_out_of_range_totals_are_refused():
    with pytest.raises(ValueError):
        Measure(FIRST, 28)
    with pytest.raises(ValueError):
        Measure(FIRST, -1)


def test_rules_are_described_with_the_version_numbers():
    words = CURRENT.describe()
    assert "50 %" in words["response"]
    assert "below 5" in words["remission"]
    assert "10 or more" in words["relapse_watch"]
    assert "5 points" in words["worsening"]
