"""What a series of PHQ-9 totals means over a course: baseline, response, remission, relapse watch
and worsening. Pure: plain values in, plain values out; no ORM, no Django.

The thresholds are the clinic's, versioned: a clinic that changes one registers a NEW
``Definitions`` under a new version string and makes it ``CURRENT``; old versions stay in
``VERSIONS`` so an alert raised under one still says which rule raised it. Version "1" takes its
numbers from INSTRUMENTS.md (response, remission) and from the measurement-based care issue
(relapse watch, worsening).

Contract (version "1"):

- **Valid total.** Only a PHQ-9 with every item answered has a total; a partial form is passed as
  ``phq9=None`` and is no data: it is never a baseline, never a response, and is skipped when
  comparing consecutive check-ins (the comparison is with the last *valid* total before it).
- **Baseline.** The last valid PHQ-9 dated on or before the first session's date (a form filled
  in on the morning of the first session, before dosing, is the pre-treatment measure; dates are
  the patient's local dates). The same rule as the outcomes registry in ``clinic.care.outcomes``.
  No first session yet: the baseline is the last valid PHQ-9 so far (provisional).
- **Response.** A total after the first session that fell by at least 50 % from the baseline,
  in integers: ``2 * score <= baseline``. A baseline of 0 cannot fall, so it has no response.
  (The registry additionally counts response only where the baseline was above 9; alerting does
  not, and ``assessable`` says which baselines the registry counts.)
- **Remission.** A total below 5.
- **Relapse watch.** The patient responded at an earlier check-in after the first session, and
  this total is at least 10 AND at least 50 % of the baseline (``2 * score >= baseline``). A total
  of exactly half the baseline is therefore BOTH still a response and on relapse watch: the watch
  is an alert asking a clinician to look, and errs towards looking. (The registry's relapse is the
  strict complement of response, ``2 * score > baseline``: an event counted, not an alert.)
- **Worsening.** A valid total at least 5 points above the previous valid total, at any point in
  the course (before the first session too). PHQ-9 only: no clinic source gives a GAD-7 rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

__all__ = [
    "CURRENT",
    "PHQ9_MAX",
    "VERSIONS",
    "Definitions",
    "Evaluation",
    "Measure",
    "Point",
    "evaluate",
    "get",
]

PHQ9_MAX = 27


@dataclass(frozen=True, slots=True)
class Definitions:
    """One version of the clinic's rules. Fractions are ``numerator / denominator`` so that every
    comparison is done in integers (no 0.5 rounding surprises on the boundary)."""

    version: str
    response_fall_num: int  # response: score <= baseline * (1 - num/den)
    response_fall_den: int
    remission_below: int
    relapse_at_least: int
    relapse_fraction_num: int  # relapse watch: score >= baseline * num/den
    relapse_fraction_den: int
    worsening_rise: int
    assessable_baseline_above: int  # the registry's rule, recorded here for its users

    def baseline_of(self, measures: Sequence[Measure], first_session: date | None) -> int | None:
        valid = [
            m for m in measures if m.phq9 is not None and (first_session is None or m.day <= first_session)
        ]
        return valid[-1].phq9 if valid else None

    def is_response(self, score: int, baseline: int) -> bool:
        if baseline <= 0:
            return False
        # fell by >= num/den of baseline: (baseline - score) * den >= baseline * num
        return (baseline - score) * self.response_fall_den >= baseline * self.response_fall_num

    def is_remission(self, score: int) -> bool:
        return score < self.remission_below

    def is_relapse_watch(self, score: int, baseline: int, *, responded_before: bool) -> bool:
        return (
            responded_before
            and score >= self.relapse_at_least
            and score * self.relapse_fraction_den >= baseline * self.relapse_fraction_num
        )

    def is_worsening(self, previous: int, score: int) -> bool:
        return score - previous >= self.worsening_rise

    def assessable(self, baseline: int | None) -> bool:
        return baseline is not None and baseline > self.assessable_baseline_above

    def describe(self) -> dict[str, str]:
        """The rules in words, for the clinician's page and exports."""
        fall = f"{100 * self.response_fall_num // self.response_fall_den} %"
        share = f"{100 * self.relapse_fraction_num // self.relapse_fraction_den} %"
        return {
            "baseline": "The last complete PHQ-9 on or before the day of the first session.",
            "response": f"PHQ-9 fell by {fall} or more from the baseline.",
            "remission": f"PHQ-9 below {self.remission_below}.",
            "relapse_watch": (
                f"After a response: PHQ-9 of {self.relapse_at_least} or more and at least {share} of the "
                "baseline (a score of exactly half the baseline is still a response and is on watch)."
            ),
            "worsening": f"PHQ-9 rose by {self.worsening_rise} points or more since the previous check-in.",
            "partial": "A PHQ-9 with a missing answer has no total and is left out of every rule.",
        }


VERSION_1 = Definitions(
    version="1",
    response_fall_num=1,
    response_fall_den=2,
    remission_below=5,
    relapse_at_least=10,
    relapse_fraction_num=1,
    relapse_fraction_den=2,
    worsening_rise=5,
    assessable_baseline_above=9,
)

VERSIONS: dict[str, Definitions] = {VERSION_1.version: VERSION_1}
CURRENT = VERSION_1


def get(version: str) -> Definitions:
    """The definitions of ``version``; ``KeyError`` for an unknown one."""
    return VERSIONS[version]


@dataclass(frozen=True, slots=True)
class Measure:
    """One PHQ-9 check-in on the patient's local ``day``; ``phq9=None`` for a partial form."""

    day: date
    phq9: int | None

    def __post_init__(self) -> None:
        if self.phq9 is not None and not 0 <= self.phq9 <= PHQ9_MAX:
            raise ValueError(f"PHQ-9 {self.phq9} is outside 0-{PHQ9_MAX}")


@dataclass(frozen=True, slots=True)
class Point:
    """What one measure means. Every flag is False for a partial form (``phq9 is None``)."""

    day: date
    phq9: int | None
    after_first_session: bool
    is_baseline: bool = False
    response: bool = False
    remission: bool = False
    relapse_watch: bool = False
    worsening: bool = False
    rise: int | None = None  # points above the previous valid total, when there is one


@dataclass(frozen=True, slots=True)
class Evaluation:
    version: str
    baseline: int | None
    baseline_day: date | None
    provisional_baseline: bool  # no first session yet
    points: tuple[Point, ...]

    @property
    def latest(self) -> Point | None:
        return self.points[-1] if self.points else None

    @property
    def ever_responded(self) -> bool:
        return any(p.response for p in self.points)


def evaluate(
    measures: Sequence[Measure], first_session: date | None, *, definitions: Definitions = CURRENT
) -> Evaluation:
    """Every measure of one course, in day order (a stable sort: same-day forms keep the caller's
    order, which should be the order they were answered), with what it means under ``definitions``."""
    d = definitions
    ordered = sorted(measures, key=lambda m: m.day)
    baseline_measure: Measure | None = None
    for m in ordered:
        if m.phq9 is not None and (first_session is None or m.day <= first_session):
            baseline_measure = m
    baseline = baseline_measure.phq9 if baseline_measure else None
    points: list[Point] = []
    previous: int | None = None
    responded = False
    for m in ordered:
        after = first_session is not None and m.day > first_session
        if m.phq9 is None:
            points.append(Point(day=m.day, phq9=None, after_first_session=after))
            continue
        score = m.phq9
        response = after and baseline is not None and d.is_response(score, baseline)
        watch = (
            after and baseline is not None and d.is_relapse_watch(score, baseline, responded_before=responded)
        )
        rise = None if previous is None else score - previous
        points.append(
            Point(
                day=m.day,
                phq9=score,
                after_first_session=after,
                is_baseline=m is baseline_measure,
                response=response,
                remission=d.is_remission(score),
                relapse_watch=watch,
                worsening=previous is not None and d.is_worsening(previous, score),
                rise=rise,
            )
        )
        responded = responded or response
        previous = score
    return Evaluation(
        version=d.version,
        baseline=baseline,
        baseline_day=baseline_measure.day if baseline_measure else None,
        provisional_baseline=first_session is None,
        points=tuple(points),
    )
