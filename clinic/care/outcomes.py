"""The de-identified outcomes registry: aggregates only, suppressed before they leave this module.

Pure: plain frozen dataclasses in, one JSON-ready ``dict`` out; no ORM, no Django. The caller passes
one ``Course`` per patient who started a treatment plan (a patient with several plans passes the first:
every threshold below counts *patients*, so a patient counted twice would weaken it) and computes the
age band and the baseline itself.

Contract of ``compute_registry``:

- The snapshot holds counts, shares, rates, confidence intervals and survival estimates, never a
  person, a date finer than a month (only ``as_of_month``) or free text: routes, age bands, adverse
  event kinds and severities are closed vocabularies (``ROUTES`` ...), checked on construction.
- Every count of 1-10 patients reads ``FEWER`` ("fewer than 11"). A 0 is shown: it describes nobody,
  and hiding zeros would hide the headline figures whenever a complement is empty (every baseline
  above 9, nobody missing); ``suppress_zero=True`` hides them too (then unused routes and age bands
  are not listed, so that a publicly known empty one cannot pose as cover).
- A stratum (overall, a route, an age band) of fewer than 11 patients is *withheld*: every figure
  in it is hidden, zeros included, so a reader can bound its counts only to 0-10.
- Cells hidden only so that a small one cannot be recovered by arithmetic read ``SUPPRESSED`` (and
  are 11 or more); so does every share, rate, interval or curve derived from a hidden count, and
  every safety event count whose events come from fewer than 11 distinct patients.
- Complementary suppression: every additive relation the snapshot publishes (a count and its
  complement within their total, routes or age bands against the overall figure, event counts by
  kind or severity against all events ...) is a group. No group is left with exactly one hidden
  cell (the partner is the smallest shown part, else the total), and, to a fixed point, no small
  count can be pinned to one value by any reasoning over the published sums, orderings and
  bounds: interval propagation first, then linear programming (``_Cells``).
- Cost is linear in the number of courses and measures; suppression works on a table whose size does
  not depend on the number of patients.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from statistics import NormalDist
from typing import Any

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import csr_array
from statsmodels.duration.survfunc import SurvfuncRight
from statsmodels.stats.proportion import proportion_confint

from clinic.measures import definitions

__all__ = [
    "AGE_BANDS",
    "AE_KINDS",
    "DEFINITIONS_VERSION",
    "FEWER",
    "ROUTES",
    "SEVERITIES",
    "SUPPRESSED",
    "THRESHOLD",
    "TIMEPOINTS",
    "AdverseEventRecord",
    "Course",
    "Measure",
    "SessionRecord",
    "Timepoint",
    "compute_registry",
    "too_few",
]

DEFINITIONS_VERSION = "1"
THRESHOLD = 11
FEWER = "fewer than 11"
SUPPRESSED = "suppressed"

ROUTES = (
    "iv_ketamine",
    "im_ketamine",
    "subcutaneous_ketamine",
    "oral_ketamine",
    "intranasal_esketamine",
)
AGE_BANDS = ("18-39", "40-59", "60+")
# The side effects EVIDENCE.md names, plus a catch-all: a closed list so that no free text can
# reach the snapshot through an adverse event's description.
AE_KINDS = (
    "dissociation",
    "raised_blood_pressure",
    "raised_heart_rate",
    "nausea_vomiting",
    "dizziness",
    "sedation",
    "perceptual_changes",
    "headache",
    "anxiety",
    "respiratory",
    "bladder",
    "other",
)
SEVERITIES = ("mild", "moderate", "severe")

PHQ9_MAX = 27
# Response, remission, relapse and which baselines count are the clinic's one set of definitions
# (``clinic.measures.definitions``), the same that raise the clinician's alerts. Quality measures
# (CMS159 / NQF 0710 remission, NQF 1884/1885 response) count a patient only when the initial PHQ-9
# was greater than nine; INSTRUMENTS.md records the same rule for response.
RULES = definitions.CURRENT
ASSESSABLE_BASELINE_ABOVE = RULES.assessable_baseline_above
REMISSION_BELOW = RULES.remission_below
RELAPSE_AT_LEAST = RULES.relapse_at_least
AT_RISK_WEEKS = (4, 12, 26, 52)
CURVE_STEP_WEEKS = 4
# Far above any count this registry can hold: "no upper bound" for the disclosure audit.
BIG = 10**9
# What the audit lets a reader assume at most, per patient, of any one kind of event.
EVENTS_PER_PATIENT = 1000
_Z95 = NormalDist().inv_cdf(0.975)
_DIGITS = 4


@dataclass(frozen=True, slots=True)
class Timepoint:
    """An outcome window: the valid PHQ-9 closest to ``target_days`` after the first session, within
    ``±half_width_days`` (inclusive)."""

    key: str
    label: str
    target_days: int
    half_width_days: int

    @property
    def closes_after_days(self) -> int:
        return self.target_days + self.half_width_days


# Windows widen with distance, as visits thin out; they do not overlap, so one measure never serves
# two timepoints.
TIMEPOINTS = (
    Timepoint("week_4", "end of induction (week 4)", 28, 7),
    Timepoint("week_12", "12 weeks", 84, 14),
    Timepoint("week_26", "26 weeks", 182, 28),
    Timepoint("week_52", "52 weeks", 364, 42),
)


def _check_phq9(value: int | None, what: str) -> None:
    if value is not None and not 0 <= value <= PHQ9_MAX:
        raise ValueError(f"{what} {value} is not a PHQ-9 total (0-{PHQ9_MAX})")


@dataclass(frozen=True, slots=True)
class Measure:
    """One PHQ-9 form. ``phq9`` is ``None`` for a partial form: it has no valid total, and the
    registry treats it as no data at all (never as a score)."""

    day: date
    phq9: int | None

    def __post_init__(self) -> None:
        _check_phq9(self.phq9, "PHQ-9")


@dataclass(frozen=True, slots=True)
class AdverseEventRecord:
    """``kind`` in ``AE_KINDS``, ``severity`` in ``SEVERITIES``; ``serious`` is the regulatory flag,
    independent of severity."""

    kind: str
    severity: str
    serious: bool

    def __post_init__(self) -> None:
        if self.kind not in AE_KINDS:
            raise ValueError(f"unknown adverse event kind {self.kind!r}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}")


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """One treatment session held (a session held back for blood pressure still counts as one)."""

    day: date
    held_for_bp: bool = False
    dose_outside_range: bool = False
    adverse_events: tuple[AdverseEventRecord, ...] = ()


@dataclass(frozen=True, slots=True)
class Course:
    """One patient's course from the start of the treatment plan.

    ``first_session`` is ``None`` until a session has been held (then ``sessions`` is empty);
    ``baseline_phq9`` is the last valid PHQ-9 at or before the first session; ``acute_screens``
    counts acute triage results during the course.
    """

    route: str
    age_band: str
    first_session: date | None
    baseline_phq9: int | None
    measures: tuple[Measure, ...] = ()
    sessions: tuple[SessionRecord, ...] = ()
    acute_screens: int = 0

    def __post_init__(self) -> None:
        if self.route not in ROUTES:
            raise ValueError(f"unknown route {self.route!r}")
        if self.age_band not in AGE_BANDS:
            raise ValueError(f"unknown age band {self.age_band!r}")
        _check_phq9(self.baseline_phq9, "baseline PHQ-9")
        if self.acute_screens < 0:
            raise ValueError("acute_screens cannot be negative")
        if self.first_session is None and self.sessions:
            raise ValueError("a course with sessions needs its first_session")
        if self.first_session is not None and any(s.day < self.first_session for s in self.sessions):
            raise ValueError("a session before the first session")


# --- per-course facts ---------------------------------------------------------------------------

_NOT_STARTED, _NOT_YET, _MISSING, _DATA = "not_started", "not_yet", "missing", "data"


@dataclass(frozen=True, slots=True)
class _Outcome:
    status: str
    assessable: bool = False
    responder: bool = False
    remitter: bool = False


@dataclass(frozen=True, slots=True)
class _Durability:
    weeks: float  # from first response to relapse (event) or to the last valid measure (censored)
    relapsed: bool


def _assessable(baseline: int | None) -> bool:
    return RULES.assessable(baseline)


def _is_response(score: int, baseline: int) -> bool:
    # "fell by at least 50 %", in integers.
    return RULES.is_response(score, baseline)


def _is_relapse(score: int, baseline: int) -> bool:
    # Relapse is counted only after the first response (the caller looks only past it): the
    # clinician's relapse watch, once the score is no longer a response. A score of exactly half
    # the baseline is on watch (an alert errs towards looking) but still a response, so it is
    # never a relapse event here: an event needs both.
    watch = RULES.is_relapse_watch(score, baseline, responded_before=True)
    return watch and not _is_response(score, baseline)


def _outcome(course: Course, valid: Sequence[tuple[date, int]], tp: Timepoint, as_of: date) -> _Outcome:
    first = course.first_session
    if first is None:
        return _Outcome(_NOT_STARTED)
    # The window must be wholly in the past: a form could still be filed on its last day.
    if (as_of - first).days <= tp.closes_after_days:
        return _Outcome(_NOT_YET)
    best: tuple[int, date, int] | None = None
    for day, score in valid:
        offset = (day - first).days - tp.target_days
        if abs(offset) <= tp.half_width_days:
            # Closest to the target; on a tie the earlier form (it comes first in ``valid``).
            if best is None or abs(offset) < best[0]:
                best = (abs(offset), day, score)
    if best is None:
        return _Outcome(_MISSING)
    score = best[2]
    baseline = course.baseline_phq9
    if baseline is None or not _assessable(baseline):
        return _Outcome(_DATA)
    return _Outcome(
        _DATA,
        assessable=True,
        responder=_is_response(score, baseline),
        remitter=RULES.is_remission(score),
    )


def _durability(course: Course, valid: Sequence[tuple[date, int]]) -> _Durability | None:
    first, baseline = course.first_session, course.baseline_phq9
    if first is None or baseline is None or not _assessable(baseline):
        return None
    after = [(day, score) for day, score in valid if day > first]
    responded = next((day for day, score in after if _is_response(score, baseline)), None)
    if responded is None:
        return None
    relapse = next((day for day, score in after if day > responded and _is_relapse(score, baseline)), None)
    if relapse is not None:
        return _Durability((relapse - responded).days / 7, True)
    return _Durability((after[-1][0] - responded).days / 7, False)


def _safety(course: Course, as_of: date) -> Counter[tuple[str, ...]]:
    """Event counts of one course, keyed like the safety cells; ``("sessions",)`` is the denominator."""
    counts: Counter[tuple[str, ...]] = Counter()
    for session in course.sessions:
        if session.day > as_of:
            continue
        counts["sessions",] += 1
        if session.held_for_bp:
            counts["held_for_bp",] += 1
        if session.dose_outside_range:
            counts["dose_outside_range",] += 1
        for event in session.adverse_events:
            counts["ae", "all"] += 1
            counts["ae", "kind", event.kind] += 1
            counts["ae", "kind", event.kind, event.severity] += 1
            counts["ae", "severity", event.severity] += 1
            counts["ae", "serious" if event.serious else "non_serious"] += 1
    if course.acute_screens:
        counts["acute_screens",] = course.acute_screens
    return counts


# --- disclosure control -------------------------------------------------------------------------


class _Cells:
    """The published table as the disclosure audit sees it, and its suppression.

    What a reader knows of a hidden cell (the audit grants exactly this):

    - in a *small* stratum (fewer than 11 patients) every figure is hidden, zeros included, so a
      patients count there lies in 0-10 and an event count is only known to be 0 or more;
    - elsewhere a ``FEWER`` patients count is primary: 1-10 (0-10 when zeros are hidden too); a
      hidden patients count of 11 or more was hidden as a complement, and reads ``SUPPRESSED``;
    - a hidden event count is 0 or more, at least the patients behind it (``le``), and 0 when they
      are 0 (``needs``: at most ``EVENTS_PER_PATIENT`` events per patient).

    Groups are published sums (``total = sum(parts)``); ``le`` pairs are published orderings.
    """

    def __init__(self, *, suppress_zero: bool) -> None:
        self.suppress_zero = suppress_zero
        self.keys: list[tuple[str, ...]] = []
        self.values: list[int] = []
        self.counts_patients: list[bool] = []
        self.index: dict[tuple[str, ...], int] = {}
        self.groups: list[tuple[int, tuple[int, ...]]] = []
        self.le: list[tuple[int, int]] = []
        self.needs: list[tuple[int, int]] = []
        self.small_strata: set[tuple[str, ...]] = set()

    def _add(self, key: tuple[str, ...], value: int, *, patients: bool) -> int:
        if key in self.index:
            raise KeyError(key)
        self.index[key] = len(self.keys)
        self.keys.append(key)
        self.values.append(value)
        self.counts_patients.append(patients)
        return self.index[key]

    def small(self, count: int) -> bool:
        """A count of patients that must not be shown."""
        return count < THRESHOLD and (count > 0 or self.suppress_zero)

    def patients(self, key: tuple[str, ...], value: int) -> int:
        return self._add(key, value, patients=True)

    def events(self, key: tuple[str, ...], value: int, *, patients: int) -> int:
        """An event count whose events come from the patients counted in cell ``patients``."""
        cell = self._add(key, value, patients=False)
        self.le.append((patients, cell))
        self.needs.append((patients, cell))
        return cell

    def group(self, total: int, parts: Sequence[int]) -> None:
        assert self.values[total] == sum(self.values[p] for p in parts), self.keys[total]
        self.groups.append((total, tuple(parts)))

    def order(self, small: int, large: int) -> None:
        assert self.values[small] <= self.values[large]
        self.le.append((small, large))

    # Suppression.

    def _primary(self) -> set[int]:
        return {
            i for i in range(len(self.keys)) if self.protected(i) or self.keys[i][:2] in self.small_strata
        }

    def suppress(self, small_strata: Iterable[tuple[str, ...]]) -> set[int]:
        """The hidden cells: every cell of a small stratum and every small count, then complements
        until no group has exactly one hidden cell and no hidden cell is pinned to one value."""
        self.small_strata = set(small_strata)
        if ("overall", "all") in self.small_strata:
            # Fewer than 11 patients in all: nothing is published, so nothing can be worked out.
            return set(range(len(self.keys)))
        self._linked = {events: patients for patients, events in self.needs}
        self._member_of: list[list[int]] = [[] for _ in self.keys]
        for g, (total, parts) in enumerate(self.groups):
            for cell in (total, *parts):
                self._member_of[cell].append(g)
        hidden = self._primary()
        while True:
            self._close_groups(hidden)
            lo, hi = self._propagate(hidden)
            pinned = {
                c: self._tight_candidates(c, lo, hi, hidden) for c in self._worth_protecting(hidden, lo, hi)
            }
            if not pinned:
                # Interval reasoning is quick but incomplete (it misses pins that only a
                # combination of sums reveals); linear programming has the last word.
                pinned = {c: self._candidates(c, hidden) for c in self._lp_pinned(hidden)}
            if not pinned:
                return hidden
            fixes = {candidates[0] for candidates in pinned.values() if candidates}
            if fixes:
                # Fixing one pinned cell often frees others: the next round tells.
                hidden |= fixes
                continue
            # Nothing shown is left to hide beside them: their strata are published as small
            # ones, zeros included, which a reader can only bound to 0-10.
            for cell in pinned:
                self.small_strata.add(self.keys[cell][:2])
            if ("overall", "all") in self.small_strata:
                return set(range(len(self.keys)))
            hidden |= {i for i, k in enumerate(self.keys) if k[:2] in self.small_strata}

    def protected(self, cell: int) -> bool:
        """A cell whose value must never be worked out: a count of 1-10 patients (0-10 when zeros
        are hidden) or the events of such patients. A complementary cell (11 or more) may be pinned
        by the published figures: it was hidden as cover, and a pin that matters shows up on the
        small cell it covers. A zero is published anyway unless ``suppress_zero``."""
        if self.counts_patients[cell]:
            return self.small(self.values[cell])
        return self.small(self.values[self._linked[cell]])

    def _worth_protecting(self, hidden: set[int], lo: list[int], hi: list[int]) -> list[int]:
        return [c for c in sorted(hidden) if lo[c] == hi[c] and self.protected(c)]

    def _close_groups(self, hidden: set[int]) -> None:
        changed = True
        while changed:
            changed = False
            for total, parts in self.groups:
                lone = [m for m in (total, *parts) if m in hidden]
                # A lone hidden 0 (a small stratum hides its zeros) may follow from a published
                # 0: zeros are published anyway, so it needs no cover.
                if len(lone) == 1 and (self.values[lone[0]] > 0 or self.suppress_zero):
                    hidden.add(self._partner(total, parts, hidden))
                    changed = True

    def _partner(self, total: int, parts: tuple[int, ...], hidden: set[int]) -> int:
        """The cell to hide with a lone hidden one: the smallest shown part, else the total.

        Never a shown 0 while anything else will do: a reader could suspect the zero (a route the
        clinic does not offer is known to be empty), and a known zero covers nothing."""
        shown = [p for p in parts if p not in hidden]
        nonzero = [p for p in shown if self.values[p] > 0]
        if nonzero:
            return min(nonzero, key=lambda p: (self.values[p], p))
        if total not in hidden:
            return total
        return min(shown, key=lambda p: (self.values[p], p))

    def _rank(self, cells: Iterable[int]) -> list[int]:
        return sorted(set(cells), key=lambda c: (self.values[c] == 0, self.values[c], c))

    def _candidates(self, cell: int, hidden: set[int]) -> list[int]:
        """Shown cells whose hiding could loosen ``cell``: one per group or ordering it is in."""
        found: list[int] = []
        for g in self._member_of[cell]:
            total, parts = self.groups[g]
            if any(m not in hidden for m in (total, *parts)):
                found.append(self._partner(total, parts, hidden))
        for a, b in self.le:
            other = b if a == cell else a if b == cell else None
            if other is not None and other not in hidden:
                found.append(other)
        return [c for c in self._rank(found) if self.values[c] > 0]

    def _tight_candidates(self, cell: int, lo: list[int], hi: list[int], hidden: set[int]) -> list[int]:
        """Like ``_candidates``, but only from the sums and orderings that give ``cell`` its tight
        lower or upper bound: hiding a cell elsewhere would not free it."""
        found: list[int] = []
        for g in self._member_of[cell]:
            total, parts = self.groups[g]
            if all(m in hidden for m in (total, *parts)):
                continue
            if cell == total:
                low, high = sum(lo[p] for p in parts), sum(hi[p] for p in parts)
            else:
                others = [p for p in parts if p != cell]
                low = lo[total] - sum(hi[p] for p in others)
                high = hi[total] - sum(lo[p] for p in others)
            if low >= lo[cell] or high <= hi[cell]:
                found.append(self._partner(total, parts, hidden))
        for a, b in self.le:
            if (b == cell and lo[a] >= lo[cell] and a not in hidden) or (
                a == cell and hi[b] <= hi[cell] and b not in hidden
            ):
                found.append(b if a == cell else a)
        tight = [c for c in self._rank(found) if self.values[c] > 0]
        return tight or self._candidates(cell, hidden)

    def _bounds(self, hidden: set[int]) -> tuple[list[int], list[int]]:
        lo, hi = list(self.values), list(self.values)
        floor = 0 if self.suppress_zero else 1
        for c in hidden:
            if not self.counts_patients[c]:
                lo[c], hi[c] = 0, BIG
            elif self.keys[c][:2] in self.small_strata:
                # A stratum withheld as a last resort can hold 11 or more: its hidden counts read
                # "suppressed" (11 or more) or "fewer than 11" (0-10), and a reader knows which.
                lo[c], hi[c] = (0, THRESHOLD - 1) if self.values[c] < THRESHOLD else (THRESHOLD, BIG)
            elif self.values[c] < THRESHOLD:
                lo[c], hi[c] = (floor if self.values[c] else 0), THRESHOLD - 1
            else:
                lo[c], hi[c] = THRESHOLD, BIG
        return lo, hi

    def _propagate(self, hidden: set[int]) -> tuple[list[int], list[int]]:
        """What a reader can bound each cell to, by tightening intervals over every published sum and
        ordering until nothing moves (sound: every bound derived holds for the true values)."""
        lo, hi = self._bounds(hidden)
        groups = [g for g in self.groups if g[0] in hidden or any(p in hidden for p in g[1])]
        orders = [(a, b) for a, b in self.le if a in hidden or b in hidden]
        needs = [(p, e) for p, e in self.needs if p in hidden or e in hidden]
        for _ in range(200):
            changed = False
            for total, parts in groups:
                low = sum(lo[p] for p in parts)
                high = sum(hi[p] for p in parts)
                if low > lo[total]:
                    lo[total], changed = low, True
                if high < hi[total]:
                    hi[total], changed = high, True
                for p in parts:
                    new_lo = lo[total] - (high - hi[p])
                    new_hi = hi[total] - (low - lo[p])
                    if new_lo > lo[p]:
                        lo[p], changed = new_lo, True
                    if new_hi < hi[p]:
                        hi[p], changed = new_hi, True
            for a, b in orders:
                if lo[a] > lo[b]:
                    lo[b], changed = lo[a], True
                if hi[b] < hi[a]:
                    hi[a], changed = hi[b], True
            for p, e in needs:
                if hi[p] == 0 and hi[e] > 0:
                    hi[e], changed = 0, True
                if lo[e] > 0 and lo[p] == 0:
                    lo[p], changed = 1, True
            if not changed:
                break
        return lo, hi

    def _lp_pinned(self, hidden: set[int]) -> list[int]:
        """Hidden cells that no solution of the published sums, orderings and bounds can move by a
        whole patient from its true value (linear programming, HiGHS).

        The true values are one feasible point. LPs with random objectives move most cells at once,
        which clears them; each cell still standing then gets its own minimum and maximum, and
        every solution found clears whatever else it moved."""
        cols = sorted(hidden)
        if not any(self.protected(c) for c in cols):
            return []
        n = len(cols)
        pos = {c: j for j, c in enumerate(cols)}
        lo, hi = self._bounds(hidden)
        bounds = [(float(lo[c]), float(hi[c])) for c in cols]
        eq: tuple[list[int], list[int], list[float]] = ([], [], [])
        eq_rhs: list[float] = []
        for total, parts in self.groups:
            members = [(total, 1.0)] + [(p, -1.0) for p in parts]
            if not any(m in hidden for m, _ in members):
                continue
            rhs = 0.0
            for m, sign in members:
                if m in hidden:
                    eq[0].append(len(eq_rhs))
                    eq[1].append(pos[m])
                    eq[2].append(sign)
                else:
                    rhs -= sign * self.values[m]
            eq_rhs.append(rhs)
        ub: tuple[list[int], list[int], list[float]] = ([], [], [])
        ub_rhs: list[float] = []

        def at_most(terms: list[tuple[int, float]], rhs: float) -> None:
            live = [(c, w) for c, w in terms if c in hidden]
            rhs -= sum(w * self.values[c] for c, w in terms if c not in hidden)
            for c, w in live:
                ub[0].append(len(ub_rhs))
                ub[1].append(pos[c])
                ub[2].append(w)
            ub_rhs.append(rhs)

        for a, b in self.le:
            if a in hidden or b in hidden:
                at_most([(a, 1.0), (b, -1.0)], 0.0)
        for p, e in self.needs:
            if p in hidden or e in hidden:
                at_most([(e, 1.0), (p, -float(EVENTS_PER_PATIENT))], 0.0)
        a_eq = csr_array((eq[2], (eq[0], eq[1])), shape=(len(eq_rhs), n)) if eq_rhs else None
        a_ub = csr_array((ub[2], (ub[0], ub[1])), shape=(len(ub_rhs), n)) if ub_rhs else None
        b_eq = np.array(eq_rhs) if eq_rhs else None
        b_ub = np.array(ub_rhs) if ub_rhs else None
        truth = np.array([self.values[c] for c in cols], dtype=float)
        standing = np.array([self.protected(c) for c in cols], dtype=bool)

        def clear(objective: np.ndarray) -> None:
            result = linprog(
                objective, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs"
            )
            if result.status != 0:
                raise RuntimeError(f"disclosure audit failed: {result.message}")
            standing[np.abs(np.asarray(result.x) - truth) >= 1 - 1e-6] = False

        rng = np.random.default_rng(0)
        for _ in range(8):
            before = int(standing.sum())
            for sign in (1.0, -1.0):
                clear(np.where(standing, sign * rng.uniform(0.5, 1.5, n), 0.0))
            if not standing.any() or int(standing.sum()) == before:
                break
        pinned = []
        for j in range(n):
            for sign in (1.0, -1.0):
                if standing[j]:
                    unit = np.zeros(n)
                    unit[j] = sign
                    clear(unit)
            if standing[j]:
                pinned.append(cols[j])
                standing[j] = False
        return pinned


# --- statistics ---------------------------------------------------------------------------------


def _round(x: float) -> float:
    return round(float(x), _DIGITS)


def _wilson(count: int, nobs: int) -> list[float]:
    low, high = proportion_confint(count, nobs, alpha=0.05, method="wilson")
    return [_round(low), _round(high)]


def _loglog_ci(surv: float, se: float) -> tuple[float | None, float | None]:
    """Pointwise 95 % interval of S(t) on the complementary log-log scale (Kalbfleisch-Prentice).

    statsmodels gives the Greenwood standard error but no pointwise interval (only a simultaneous
    Hall-Wellner band); this is the same g(x) = log(-log x) its median interval inverts."""
    if surv >= 1.0:
        return 1.0, 1.0
    if surv <= 0.0 or not math.isfinite(se):
        return None, None
    spread = _Z95 * se / (surv * abs(math.log(surv)))
    return _round(surv ** math.exp(spread)), _round(surv ** math.exp(-spread))


def _km(durations: Sequence[_Durability]) -> dict[str, Any]:
    """Kaplan-Meier (statsmodels ``SurvfuncRight``) of time from first response to relapse.

    The curve is read at whole multiples of ``CURVE_STEP_WEEKS`` and stops before the first point
    where fewer than ``THRESHOLD`` responders remain at risk: there each step is one or two people.
    The median and its interval (statsmodels, cloglog inversion) are in whole weeks."""
    times = np.array([d.weeks for d in durations], dtype=float)
    status = np.array([1 if d.relapsed else 0 for d in durations], dtype=int)
    fit = SurvfuncRight(times, status)
    curve = []
    week = 0
    while int((times >= week).sum()) >= THRESHOLD:
        steps = np.flatnonzero(fit.surv_times <= week)
        if steps.size:
            surv, se = float(fit.surv_prob[steps[-1]]), float(fit.surv_prob_se[steps[-1]])
        else:
            surv, se = 1.0, 0.0
        lower, upper = _loglog_ci(surv, se)
        curve.append({"week": week, "survival": _round(surv), "lower": lower, "upper": upper})
        week += CURVE_STEP_WEEKS
    median = float(fit.quantile(0.5))
    # statsmodels takes log(-log S) at S = 1 and S = 0 on the way; those times are never in the
    # interval, so the warnings say nothing.
    with np.errstate(divide="ignore", invalid="ignore"):
        low, high = (float(x) for x in fit.quantile_ci(0.5))

    def weeks(x: float) -> int | str:
        if math.isnan(x):
            return "not estimable"
        return "not reached" if math.isinf(x) else round(x)

    return {
        "curve": curve,
        "median_weeks": "not reached" if math.isnan(median) else round(median),
        "median_ci95_weeks": [weeks(low), weeks(high)] if not math.isnan(median) else "not reached",
    }


# --- the registry -------------------------------------------------------------------------------


def _strata(courses: Sequence[Course], *, suppress_zero: bool) -> list[tuple[str, str]]:
    """Every route and age band, in vocabulary order; when zeros are hidden, only those with a
    course, so that a publicly known empty one cannot pose as cover for a real small cell."""
    routes = {c.route for c in courses} if suppress_zero else set(ROUTES)
    bands = {c.age_band for c in courses} if suppress_zero else set(AGE_BANDS)
    return (
        [("overall", "all")]
        + [("route", r) for r in ROUTES if r in routes]
        + [("age_band", b) for b in AGE_BANDS if b in bands]
    )


_OUTCOME_KINDS = (
    "eligible",
    "not_yet_reached",
    "with_data",
    "missing",
    "assessable",
    "not_assessable",
    "responders",
    "non_responders",
    "remitters",
    "non_remitters",
)
_SAFETY_ITEMS: tuple[tuple[str, ...], ...] = (
    ("ae", "all"),
    *(("ae", "kind", k) for k in AE_KINDS),
    *(("ae", "kind", k, s) for k in AE_KINDS for s in SEVERITIES),
    *(("ae", "severity", s) for s in SEVERITIES),
    ("ae", "serious"),
    ("ae", "non_serious"),
    ("held_for_bp",),
    ("dose_outside_range",),
    ("acute_screens",),
)


def compute_registry(
    courses: Iterable[Course], *, as_of: date, suppress_zero: bool = False
) -> dict[str, Any]:
    """The registry snapshot at ``as_of`` (see the module docstring for its privacy contract).

    Forms and sessions dated after ``as_of`` are ignored. ``definitions`` states every rule in words;
    ``definitions_version`` changes whenever one of them does.
    """
    courses = list(courses)
    strata = _strata(courses, suppress_zero=suppress_zero)
    cells = _Cells(suppress_zero=suppress_zero)

    # Per-stratum tallies, built in one pass over the courses.
    cohort: dict[tuple[str, str], Counter[str]] = {s: Counter() for s in strata}
    outcome: dict[tuple[str, str, str], Counter[str]] = {
        (*s, tp.key): Counter() for s in strata for tp in TIMEPOINTS
    }
    durable: dict[tuple[str, str], list[_Durability]] = {s: [] for s in strata}
    events: dict[tuple[str, str], Counter[tuple[str, ...]]] = {s: Counter() for s in strata}
    people: dict[tuple[str, str], Counter[tuple[str, ...]]] = {s: Counter() for s in strata}
    for course in courses:
        valid = sorted((m.day, m.phq9) for m in course.measures if m.phq9 is not None and m.day <= as_of)
        facts = [(tp, _outcome(course, valid, tp, as_of)) for tp in TIMEPOINTS]
        durability = _durability(course, valid)
        safety = _safety(course, as_of)
        for s in (("overall", "all"), ("route", course.route), ("age_band", course.age_band)):
            tally = cohort[s]
            tally["patients"] += 1
            tally["started" if course.first_session is not None else "not_started"] += 1
            for tp, fact in facts:
                if fact.status == _NOT_STARTED:
                    continue
                out = outcome[(*s, tp.key)]
                if fact.status == _NOT_YET:
                    out["not_yet_reached"] += 1
                    continue
                out["eligible"] += 1
                if fact.status == _MISSING:
                    out["missing"] += 1
                    continue
                out["with_data"] += 1
                if not fact.assessable:
                    out["not_assessable"] += 1
                    continue
                out["assessable"] += 1
                out["responders" if fact.responder else "non_responders"] += 1
                out["remitters" if fact.remitter else "non_remitters"] += 1
            if durability is not None:
                durable[s].append(durability)
            events[s].update(safety)
            people[s].update(dict.fromkeys(safety, 1))

    # The table: every published count as a cell, every published sum as a group.
    def key(s: tuple[str, str], *rest: str) -> tuple[str, ...]:
        return (*s, *rest)

    for s in strata:
        patients = cells.patients(key(s, "patients"), cohort[s]["patients"])
        started = cells.patients(key(s, "started"), cohort[s]["started"])
        not_started = cells.patients(key(s, "not_started"), cohort[s]["not_started"])
        cells.group(patients, [started, not_started])
        for tp in TIMEPOINTS:
            out = outcome[(*s, tp.key)]
            c = {k: cells.patients(key(s, tp.key, k), out[k]) for k in _OUTCOME_KINDS}
            cells.group(started, [c["eligible"], c["not_yet_reached"]])
            cells.group(c["eligible"], [c["with_data"], c["missing"]])
            cells.group(c["with_data"], [c["assessable"], c["not_assessable"]])
            cells.group(c["assessable"], [c["responders"], c["non_responders"]])
            cells.group(c["assessable"], [c["remitters"], c["non_remitters"]])
        responders = durable[s]
        ever = cells.patients(key(s, "durability", "responders"), len(responders))
        relapsed = cells.patients(key(s, "durability", "relapsed"), sum(d.relapsed for d in responders))
        censored = cells.patients(key(s, "durability", "censored"), sum(not d.relapsed for d in responders))
        cells.group(ever, [relapsed, censored])
        cells.order(ever, started)
        previous = ever
        for week in AT_RISK_WEEKS:
            at_risk = cells.patients(
                key(s, "durability", f"at_risk_week_{week}"), sum(d.weeks >= week for d in responders)
            )
            cells.order(at_risk, previous)
            previous = at_risk
        with_sessions = cells.patients(key(s, "safety", "sessions", "patients"), people[s]["sessions",])
        cells.events(key(s, "safety", "sessions", "events"), events[s]["sessions",], patients=with_sessions)
        cells.order(with_sessions, started)
        for item in _SAFETY_ITEMS:
            p = cells.patients(key(s, "safety", *item, "patients"), people[s][item])
            cells.events(key(s, "safety", *item, "events"), events[s][item], patients=p)
            cells.order(p, patients if item == ("acute_screens",) else with_sessions)

        def ev(*item: str, s: tuple[str, str] = s) -> int:
            return cells.index[key(s, "safety", *item, "events")]

        def pt(*item: str, s: tuple[str, str] = s) -> int:
            return cells.index[key(s, "safety", *item, "patients")]

        cells.group(ev("ae", "all"), [ev("ae", "kind", k) for k in AE_KINDS])
        cells.group(ev("ae", "all"), [ev("ae", "severity", sv) for sv in SEVERITIES])
        cells.group(ev("ae", "all"), [ev("ae", "serious"), ev("ae", "non_serious")])
        for k in AE_KINDS:
            cells.group(ev("ae", "kind", k), [ev("ae", "kind", k, sv) for sv in SEVERITIES])
            cells.order(pt("ae", "kind", k), pt("ae", "all"))
            for sv in SEVERITIES:
                cells.order(pt("ae", "kind", k, sv), pt("ae", "kind", k))
                cells.order(pt("ae", "kind", k, sv), pt("ae", "severity", sv))
        for sv in SEVERITIES:
            cells.group(ev("ae", "severity", sv), [ev("ae", "kind", k, sv) for k in AE_KINDS])
            cells.order(pt("ae", "severity", sv), pt("ae", "all"))
        cells.order(pt("ae", "serious"), pt("ae", "all"))
        cells.order(pt("ae", "non_serious"), pt("ae", "all"))

    # Routes and age bands each partition the overall figure, cell by cell (one course per patient).
    overall = ("overall", "all")
    for dimension in ("route", "age_band"):
        parts = [s for s in strata if s[0] == dimension]
        for cell_key in [c for c in cells.keys if c[:2] == overall]:
            cells.group(cells.index[cell_key], [cells.index[(*s, *cell_key[2:])] for s in parts])

    small = {s for s in strata if cells.small(cohort[s]["patients"])}
    hidden = cells.suppress(small)
    snapshot: dict[str, Any] = {
        "definitions_version": DEFINITIONS_VERSION,
        "measures_definitions_version": RULES.version,
        "as_of_month": f"{as_of.year:04d}-{as_of.month:02d}",
        "definitions": _definitions(suppress_zero=suppress_zero),
        "overall": None,
        "by_route": {},
        "by_age_band": {},
    }
    for s in strata:
        block = _stratum_block(s, cells, hidden, durable[s])
        if s[0] == "overall":
            snapshot["overall"] = block
        else:
            snapshot["by_" + s[0]][s[1]] = block
    return snapshot


def _stratum_block(
    s: tuple[str, str], cells: _Cells, hidden: set[int], responders: list[_Durability]
) -> dict[str, Any]:
    def shown(*rest: str) -> bool:
        return cells.index[(*s, *rest)] not in hidden

    def val(*rest: str) -> int | str:
        i = cells.index[(*s, *rest)]
        if i not in hidden:
            return cells.values[i]
        return FEWER if cells.counts_patients[i] and cells.values[i] < THRESHOLD else SUPPRESSED

    def raw(*rest: str) -> int:
        return cells.values[cells.index[(*s, *rest)]]

    def proportion(numerator: tuple[str, ...], denominator: tuple[str, ...]) -> dict[str, Any]:
        if not (shown(*numerator) and shown(*denominator)) or raw(*denominator) == 0:
            return {"rate": SUPPRESSED, "ci95": SUPPRESSED}
        n, d = raw(*numerator), raw(*denominator)
        return {"rate": _round(n / d), "ci95": _wilson(n, d)}

    timepoints: dict[str, Any] = {}
    for tp in TIMEPOINTS:
        k = tp.key
        share: float | str = SUPPRESSED
        if shown(k, "missing") and shown(k, "eligible") and raw(k, "eligible"):
            share = _round(raw(k, "missing") / raw(k, "eligible"))
        timepoints[k] = {
            "label": tp.label,
            "target_day": tp.target_days,
            "window_days": tp.half_width_days,
            "eligible": val(k, "eligible"),
            "not_yet_reached": val(k, "not_yet_reached"),
            "with_data": val(k, "with_data"),
            "missing": val(k, "missing"),
            "missing_share": share,
            "assessable": val(k, "assessable"),
            "not_assessable": val(k, "not_assessable"),
            "response": {
                "responders": val(k, "responders"),
                "non_responders": val(k, "non_responders"),
                **proportion((k, "responders"), (k, "assessable")),
            },
            "remission": {
                "remitters": val(k, "remitters"),
                "non_remitters": val(k, "non_remitters"),
                **proportion((k, "remitters"), (k, "assessable")),
            },
        }

    durability: dict[str, Any] = {
        "responders": val("durability", "responders"),
        "relapsed": val("durability", "relapsed"),
        "censored": val("durability", "censored"),
        "at_risk": {f"week_{w}": val("durability", f"at_risk_week_{w}") for w in AT_RISK_WEEKS},
    }
    # A curve's drops count its relapses: it is shown only where the responders and the relapses
    # are both shown (so each is at least 11).
    if shown("durability", "responders") and shown("durability", "relapsed"):
        durability.update(_km(responders))
    else:
        durability.update({"curve": SUPPRESSED, "median_weeks": SUPPRESSED, "median_ci95_weeks": SUPPRESSED})

    sessions_shown = shown("safety", "sessions", "events")
    session_count = raw("safety", "sessions", "events")

    def item(*name: str) -> dict[str, Any]:
        rate: float | str = SUPPRESSED
        if shown("safety", *name, "events") and sessions_shown and session_count:
            rate = _round(100 * raw("safety", *name, "events") / session_count)
        return {
            "events": val("safety", *name, "events"),
            "patients": val("safety", *name, "patients"),
            "per_100_sessions": rate,
        }

    safety = {
        "sessions": val("safety", "sessions", "events"),
        "patients_with_sessions": val("safety", "sessions", "patients"),
        "adverse_events": {
            "all": item("ae", "all"),
            "by_kind": {
                k: {
                    "all": item("ae", "kind", k),
                    "by_severity": {sv: item("ae", "kind", k, sv) for sv in SEVERITIES},
                }
                for k in AE_KINDS
            },
            "by_severity": {sv: item("ae", "severity", sv) for sv in SEVERITIES},
            "serious": item("ae", "serious"),
            "non_serious": item("ae", "non_serious"),
        },
        "held_for_blood_pressure": item("held_for_bp"),
        "dose_outside_protocol_range": item("dose_outside_range"),
        "acute_screens": {
            "events": val("safety", "acute_screens", "events"),
            "patients": val("safety", "acute_screens", "patients"),
        },
    }
    return {
        # Every figure of a withheld stratum is hidden, zeros included (fewer than 11 patients, or,
        # as a last resort, nothing else left to hide to protect a small cell).
        "withheld": s in cells.small_strata,
        "cohort": {
            "patients": val("patients"),
            "started": val("started"),
            "not_started": val("not_started"),
        },
        "outcomes": timepoints,
        "durability": durability,
        "safety": safety,
    }


def too_few(snapshot: dict[str, Any]) -> bool:
    """True when the overall cohort is under ``THRESHOLD`` patients: a page then says "too few
    patients yet" instead of showing tables of hidden cells."""
    patients = snapshot["overall"]["cohort"]["patients"]
    # FEWER is the only marker that means "under 11"; a complementary SUPPRESSED total is 11 or more.
    return patients == FEWER or (isinstance(patients, int) and patients < THRESHOLD)


def _definitions(*, suppress_zero: bool) -> dict[str, Any]:
    windows = {
        tp.key: f"{tp.label}: the valid PHQ-9 closest to day {tp.target_days} after the first session, "
        f"within {tp.half_width_days} days either side (ties go to the earlier form)"
        for tp in TIMEPOINTS
    }
    return {
        "cohort": "One course per patient who started a treatment plan; 'started' means at least one "
        "treatment session was held.",
        "valid_measure": "A PHQ-9 with every item answered. A partial form has no total and counts as no "
        "data; nothing is imputed or carried forward.",
        "baseline": "The last valid PHQ-9 at or before the first session.",
        "windows": windows,
        "eligible": "Started patients whose window closed before the snapshot date; the others are 'not "
        "yet reached' and are never counted as missing.",
        "missing": "Eligible patients with no valid PHQ-9 in the window, shown as a count and a share of "
        "the eligible; never imputed.",
        "assessable": "Patients with data whose baseline PHQ-9 was above 9, as the quality measures for "
        "depression response and remission require (CMS159 / NQF 0710, NQF 1884); response and remission "
        "are counted only among them.",
        "response": "PHQ-9 fell by at least 50 % from baseline.",
        "remission": "PHQ-9 below 5.",
        "confidence_intervals": "Wilson score 95 % intervals (statsmodels proportion_confint).",
        "durability": "Among assessable patients who ever responded after the first session: time from "
        "their first response to relapse, Kaplan-Meier (statsmodels SurvfuncRight), censored at the last "
        "valid PHQ-9. The curve is read every 4 weeks with pointwise 95 % intervals (log-log scale, "
        "Greenwood standard errors) and stops where fewer than 11 remain at risk; the median and its "
        "95 % interval (statsmodels, log-log inversion) are in whole weeks.",
        "relapse": "After a response, a PHQ-9 of 10 or more that is also more than half the baseline "
        "(no longer a response).",
        "safety": "Per 100 sessions held: adverse events by kind and severity, serious adverse events, "
        "sessions held back for blood pressure, doses outside the protocol range; acute screens during "
        "a course are counted per patient.",
        "suppression": (
            f"A count of 0 to {THRESHOLD - 1} patients reads '{FEWER}'; routes and age bands with no "
            "patients are not listed. "
            if suppress_zero
            else f"A count of 1 to {THRESHOLD - 1} patients reads '{FEWER}'; a 0 is shown. "
        )
        + "A group "
        f"(overall, a route, an age band) of fewer than {THRESHOLD} patients is withheld: every figure in "
        f"it is hidden, zeros included. Cells hidden so that a small one cannot be worked out from the "
        f"others read '{SUPPRESSED}', as do rates, intervals and curves derived from a hidden count and "
        f"event counts contributed by fewer than {THRESHOLD} patients.",
    }
