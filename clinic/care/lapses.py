"""Plans whose legal basis or PDMP check lapses soon (or has lapsed): listed on the clinician's
dashboard and the staff page before it bites. Reads only; the callers audit the showing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from clinic.accounts.models import User
from clinic.care.models import TreatmentPlan, local_date
from clinic.care.models.plans import schedule_facts
from clinic.care.rules import pdmp_valid_until


@dataclass(frozen=True)
class Lapse:
    plan: TreatmentPlan
    what: str  # "legal basis" or "PDMP check"
    # The first date (where the patient is) on which no new session can be booked; None: missing.
    blocks_on: dt.date | None
    today: dt.date

    @property
    def lapsed(self) -> bool:
        return self.blocks_on is None or self.blocks_on <= self.today

    @property
    def days_left(self) -> int:
        return 0 if self.blocks_on is None else max(0, (self.blocks_on - self.today).days)


def plan_lapses(
    plan: TreatmentPlan, *, now: dt.datetime | None = None, within_days: int | None = None
) -> list[Lapse]:
    """What of this plan has lapsed or lapses within ``within_days`` (the clinic's setting)."""
    now = now or timezone.now()
    within = settings.CARE_LAPSE_WARNING_DAYS if within_days is None else within_days
    today = local_date(now, plan.jurisdiction)
    horizon = today + dt.timedelta(days=within)
    facts = schedule_facts(plan)
    found = []
    if not facts.has_legal_basis:
        found.append(Lapse(plan, "legal basis", None, today))
    elif facts.legal_basis_until is not None:
        blocks = facts.legal_basis_until + dt.timedelta(days=1)
        if blocks <= horizon:
            found.append(Lapse(plan, "legal basis", blocks, today))
    if facts.pdmp_checked_on is None:
        found.append(Lapse(plan, "PDMP check", None, today))
    else:
        blocks = pdmp_valid_until(facts.pdmp_checked_on, facts.pdmp_max_age_days) + dt.timedelta(days=1)
        if blocks <= horizon:
            found.append(Lapse(plan, "PDMP check", blocks, today))
    return found


def lapsing(*, clinician: User | None = None, now: dt.datetime | None = None) -> list[Lapse]:
    """Every open plan's lapses (of one clinician's plans, when given), soonest first."""
    plans = TreatmentPlan.objects.open().select_related("patient", "clinician", "protocol_version")
    if clinician is not None:
        plans = plans.filter(clinician=clinician)
    found = [lapse for plan in plans for lapse in plan_lapses(plan, now=now)]
    return sorted(found, key=lambda lapse: (lapse.blocks_on or dt.date.min, lapse.what))
