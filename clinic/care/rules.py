"""When a plan may book a new session: a pure rule over plain values (no ORM), so its date
boundaries are tested without a database. ``care.models.plan_may_schedule`` gathers the facts.

Dates are calendar dates where the patient is (the jurisdiction's zone): a legal basis "in force
until 2026-12-31" still holds for a session at 22:00 on the 31st in New York, which is already
1 January in UTC."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass


class Reason(enum.StrEnum):
    PLAN_CLOSED = "plan_closed"
    NO_LEGAL_BASIS = "no_legal_basis"
    LEGAL_BASIS_NOT_YET = "legal_basis_not_yet"
    LEGAL_BASIS_LAPSED = "legal_basis_lapsed"
    NO_PDMP_CHECK = "no_pdmp_check"
    PDMP_OTHER_STATE = "pdmp_other_state"
    PDMP_TOO_OLD = "pdmp_too_old"
    CONSENT_UNSIGNED = "consent_unsigned"
    REVIEWS_OPEN = "reviews_open"
    OPEN_ACUTE_ITEM = "open_acute_item"

    @property
    def label(self) -> str:
        return LABELS[self]


LABELS = {
    Reason.PLAN_CLOSED: "The plan is completed or stopped.",
    Reason.NO_LEGAL_BASIS: "No legal basis for prescribing is recorded.",
    Reason.LEGAL_BASIS_NOT_YET: "The legal basis is not yet in force on that date.",
    Reason.LEGAL_BASIS_LAPSED: "The legal basis has lapsed by that date: record a new one.",
    Reason.NO_PDMP_CHECK: "No prescription-monitoring (PDMP) check is recorded.",
    Reason.PDMP_OTHER_STATE: "The PDMP check is for another state than where the patient is.",
    Reason.PDMP_TOO_OLD: "The PDMP check is older than the clinic's limit by that date: check again.",
    Reason.CONSENT_UNSIGNED: "The patient has not signed the treatment consent.",
    Reason.REVIEWS_OPEN: "Some contraindication flags from the intake are not reviewed yet.",
    Reason.OPEN_ACUTE_ITEM: "An acute safety item for this patient is not yet acknowledged.",
}


@dataclass(frozen=True)
class ScheduleFacts:
    plan_open: bool
    jurisdiction: str
    has_legal_basis: bool
    legal_basis_from: dt.date | None
    legal_basis_until: dt.date | None
    pdmp_state: str | None
    # The PDMP check's date where the patient is.
    pdmp_checked_on: dt.date | None
    pdmp_max_age_days: int
    consent_signed: bool
    open_acute: bool
    reviews_open: bool = False


def pdmp_valid_until(checked_on: dt.date, max_age_days: int) -> dt.date:
    """The last date a check still counts: ``max_age_days`` days after the day it was made."""
    return checked_on + dt.timedelta(days=max_age_days)


def schedule_blockers(facts: ScheduleFacts, on: dt.date) -> list[Reason]:
    """Every reason a session on ``on`` cannot be booked, in a fixed order; empty means it can."""
    reasons: list[Reason] = []
    if not facts.plan_open:
        reasons.append(Reason.PLAN_CLOSED)
    if not facts.has_legal_basis:
        reasons.append(Reason.NO_LEGAL_BASIS)
    elif facts.legal_basis_from is not None and on < facts.legal_basis_from:
        reasons.append(Reason.LEGAL_BASIS_NOT_YET)
    elif facts.legal_basis_until is not None and on > facts.legal_basis_until:
        reasons.append(Reason.LEGAL_BASIS_LAPSED)
    if facts.pdmp_checked_on is None:
        reasons.append(Reason.NO_PDMP_CHECK)
    elif facts.pdmp_state != facts.jurisdiction:
        reasons.append(Reason.PDMP_OTHER_STATE)
    elif on > pdmp_valid_until(facts.pdmp_checked_on, facts.pdmp_max_age_days):
        reasons.append(Reason.PDMP_TOO_OLD)
    if not facts.consent_signed:
        reasons.append(Reason.CONSENT_UNSIGNED)
    if facts.reviews_open:
        reasons.append(Reason.REVIEWS_OPEN)
    if facts.open_acute:
        reasons.append(Reason.OPEN_ACUTE_ITEM)
    return reasons


def lapses_on(facts: ScheduleFacts) -> dt.date | None:
    """The first date on which the plan could no longer book, from the legal basis or the PDMP
    check alone (the dashboard's "lapsing" list), or None when neither ends."""
    ends = []
    if facts.legal_basis_until is not None:
        ends.append(facts.legal_basis_until + dt.timedelta(days=1))
    if facts.pdmp_checked_on is not None:
        ends.append(pdmp_valid_until(facts.pdmp_checked_on, facts.pdmp_max_age_days) + dt.timedelta(days=1))
    return min(ends) if ends else None
