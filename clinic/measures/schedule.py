"""Which check-ins a course asks for and when: plain dates in, plain values out; no ORM.

Due dates are the patient's LOCAL dates. The moment an email goes out and the moment a check-in
closes are computed from them in the patient's IANA zone (``send_moment``, ``close_moment``), so a
check-in due on the Sunday a clock changes is still sent at 09:00 that Sunday, local time.

The default protocol (the measurement-based care issue):

- PHQ-9 + GAD-7 + ASQ weekly from the start of induction until the last session (induction and
  maintenance), the first on the day induction starts (before the first session's dose, it is
  the baseline);
- the same, monthly, for 12 months after the last session (durability);
- a short side-effect check-in the day after each session;
- substance use (AUDIT-C and the single-question drug-use screen) and bladder symptoms monthly,
  from the start of induction until the end of follow-up.

Several check-ins due on one day are one check-in with every instrument (one email, one form).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta

__all__ = [
    "MOOD",
    "MONTHLY",
    "SIDE_EFFECTS",
    "Planned",
    "close_moment",
    "open_days",
    "plan",
    "send_moment",
]

MOOD = ("phq9", "gad7", "asq")
SIDE_EFFECTS = ("side_effects",)
MONTHLY = ("auditc", "drug_use", "bladder")
FOLLOW_UP_MONTHS = 12
SEND_AT = dt.time(9, 0)  # local time; never inside a DST gap (those are at night)

# Purposes, in the order they are named when they fall on one day.
WEEKLY, DURABILITY, AFTER_SESSION, MONTHLY_CHECK = "weekly", "durability", "after_session", "monthly"


@dataclass(frozen=True, slots=True)
class Planned:
    due_on: dt.date
    purposes: tuple[str, ...]
    instruments: tuple[str, ...]


def _months(start: dt.date, count: int) -> list[dt.date]:
    # relativedelta clamps the 31st to the month's last day, from the start each time (never drifts).
    return [start + relativedelta(months=n) for n in range(1, count + 1)]


def plan(
    *,
    induction_start: dt.date,
    sessions: Sequence[dt.date],
    last_session: dt.date | None,
    horizon: dt.date | None = None,
) -> list[Planned]:
    """Every check-in of the course, by due date. ``last_session`` None: the course has no end yet,
    so the weekly check-ins run to the later of the last session known and ``horizon`` (the caller
    plans ahead from today, and extends it each time the sessions change), and no follow-up is
    planned until care gives the last session."""
    end = last_session or max([induction_start, *sessions, *([horizon] if horizon else [])])
    rows: dict[dt.date, list[tuple[str, tuple[str, ...]]]] = {}

    def add(day: dt.date, purpose: str, instruments: tuple[str, ...]) -> None:
        rows.setdefault(day, []).append((purpose, instruments))

    day = induction_start
    while day <= end:
        add(day, WEEKLY, MOOD)
        day += dt.timedelta(weeks=1)
    follow_up_end = end
    if last_session is not None:
        months = _months(last_session, FOLLOW_UP_MONTHS)
        for day in months:
            add(day, DURABILITY, MOOD)
        follow_up_end = months[-1]
    for session in sorted(set(sessions)):
        add(session + dt.timedelta(days=1), AFTER_SESSION, SIDE_EFFECTS)
    day, n = induction_start, 0
    while day <= follow_up_end:
        add(day, MONTHLY_CHECK, MONTHLY)
        n += 1
        day = induction_start + relativedelta(months=n)
    planned = []
    for due_on in sorted(rows):
        purposes = tuple(p for p, _ in rows[due_on])
        instruments = _merged(i for _, ins in rows[due_on] for i in ins)
        planned.append(Planned(due_on=due_on, purposes=purposes, instruments=instruments))
    return planned


ORDER = (*MOOD, *SIDE_EFFECTS, *MONTHLY)


def _merged(keys: Iterable[str]) -> tuple[str, ...]:
    wanted = set(keys)
    return tuple(k for k in ORDER if k in wanted)


def open_days(instruments: Sequence[str]) -> int:
    """How many local days a check-in stays open after its due date before it is missed: a weekly
    one until the next is due; a side-effect one three days (it is about the last session)."""
    if set(instruments) <= set(SIDE_EFFECTS):
        return 3
    if set(MOOD) & set(instruments):
        return 6
    return 13


def send_moment(due_on: dt.date, zone: str) -> dt.datetime:
    """09:00 on the due date in ``zone``, in UTC."""
    local = dt.datetime.combine(due_on, SEND_AT, tzinfo=zoneinfo.ZoneInfo(zone))
    return local.astimezone(dt.UTC)


def close_moment(due_on: dt.date, instruments: Sequence[str], zone: str) -> dt.datetime:
    """The end of the last open local day (midnight starting the next), in UTC."""
    last = due_on + dt.timedelta(days=open_days(instruments) + 1)
    local = dt.datetime.combine(last, dt.time(0, 0), tzinfo=zoneinfo.ZoneInfo(zone))
    return local.astimezone(dt.UTC)
