"""Crafted courses for the outcomes tests."""

from __future__ import annotations

import datetime as dt

from clinic.care.outcomes import Course, Measure, SessionRecord

AS_OF = dt.date(2026, 11, 15)


def course(
    *,
    route: str = "iv_ketamine",
    band: str = "40-59",
    weeks_ago: int = 30,
    baseline: int = 20,
    scores: tuple[tuple[int, int | None], ...] = ((4, 8), (12, 6)),
    sessions: int = 6,
) -> Course:
    """A course that started ``weeks_ago`` before ``AS_OF``; ``scores`` are (week, PHQ-9)."""
    first = AS_OF - dt.timedelta(weeks=weeks_ago)
    return Course(
        route=route,
        age_band=band,
        first_session=first,
        baseline_phq9=baseline,
        measures=(Measure(first, baseline), *(Measure(first + dt.timedelta(weeks=w), s) for w, s in scores)),
        sessions=tuple(SessionRecord(first + dt.timedelta(days=3 * i)) for i in range(sessions)),
    )


def cohort(n: int, **kwargs: object) -> list[Course]:
    return [course(**kwargs) for _ in range(n)]  # type: ignore[arg-type]
