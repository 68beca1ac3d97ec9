"""When a plan may book: the pure rule on its date boundaries (no database)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from clinic.care.rules import Reason, ScheduleFacts, lapses_on, schedule_blockers

UNTIL = dt.date(2026, 12, 31)
CHECKED = dt.date(2026, 12, 1)
READY = ScheduleFacts(
    plan_open=True,
    jurisdiction="US-NY",
    has_legal_basis=True,
    legal_basis_from=dt.date(2026, 1, 1),
    legal_basis_until=UNTIL,
    pdmp_state="US-NY",
    pdmp_checked_on=CHECKED,
    pdmp_max_age_days=90,
    consent_signed=True,
    open_acute=False,
)


def test_a_ready_plan_books() -> None:
    assert schedule_blockers(READY, dt.date(2026, 12, 15)) == []


def test_the_legal_basis_holds_through_its_last_day_and_lapses_the_day_after() -> None:
    assert schedule_blockers(READY, UNTIL) == []
    assert schedule_blockers(READY, UNTIL + dt.timedelta(days=1)) == [Reason.LEGAL_BASIS_LAPSED]


def test_the_legal_basis_counts_from_its_first_day() -> None:
    assert schedule_blockers(READY, dt.date(2026, 1, 1)) == []
    assert schedule_blockers(READY, dt.date(2025, 12, 31)) == [Reason.LEGAL_BASIS_NOT_YET]


def test_a_basis_without_an_end_never_lapses() -> None:
    forever = replace(READY, legal_basis_until=None, pdmp_checked_on=dt.date(2099, 1, 1))
    assert schedule_blockers(forever, dt.date(2099, 1, 2)) == []


def test_a_pdmp_check_counts_for_the_clinics_limit_in_days_then_not() -> None:
    last = CHECKED + dt.timedelta(days=90)
    assert last == dt.date(2027, 3, 1)
    assert schedule_blockers(replace(READY, legal_basis_until=None), last) == []
    assert schedule_blockers(replace(READY, legal_basis_until=None), last + dt.timedelta(days=1)) == [
        Reason.PDMP_TOO_OLD
    ]


def test_a_pdmp_check_of_another_state_does_not_count() -> None:
    assert schedule_blockers(replace(READY, jurisdiction="US-NJ"), dt.date(2026, 12, 2)) == [
        Reason.PDMP_OTHER_STATE
    ]


def test_every_missing_piece_is_named_in_order() -> None:
    bare = ScheduleFacts(
        plan_open=False,
        jurisdiction="US-NY",
        has_legal_basis=False,
        legal_basis_from=None,
        legal_basis_until=None,
        pdmp_state=None,
        pdmp_checked_on=None,
        pdmp_max_age_days=90,
        consent_signed=False,
        open_acute=True,
        reviews_open=True,
    )
    assert schedule_blockers(bare, dt.date(2026, 12, 2)) == [
        Reason.PLAN_CLOSED,
        Reason.NO_LEGAL_BASIS,
        Reason.NO_PDMP_CHECK,
        Reason.CONSENT_UNSIGNED,
        Reason.REVIEWS_OPEN,
        Reason.OPEN_ACUTE_ITEM,
    ]
    assert all(reason.label.endswith(".") for reason in Reason)


def test_the_first_blocked_day_is_the_earlier_of_basis_and_pdmp() -> None:
    assert lapses_on(READY) == dt.date(2027, 1, 1)
    assert lapses_on(replace(READY, legal_basis_until=None)) == dt.date(2027, 3, 2)
    assert lapses_on(replace(READY, legal_basis_until=None, pdmp_checked_on=None)) is None
