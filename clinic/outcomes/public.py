"""What the public "Our outcomes" page shows: the overall figures of the latest snapshot and the
published trials' figures beside them.

The trials' numbers are the checked ones of the evidence page (taken from the clinic's evidence
file, never from elsewhere); the page links there for the sources.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from clinic.care.outcomes import too_few
from clinic.outcomes import report
from clinic.outcomes.models import RegistrySnapshot, Trigger

MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


@dataclass(frozen=True)
class Published:
    study: str
    who: str
    when: str
    response: str
    remission: str
    control: str


PUBLISHED = (
    Published(
        "9 trials pooled (Wilkinson and colleagues, 2019)",
        "367 people, one IV infusion",
        "the day after",
        "about 45%",
        "—",
        "midazolam 18%, saline 1% (response)",
    ),
    Published(
        "Cochrane review, 2021",
        "trials of ketamine against midazolam",
        "24 hours",
        "46.5% (very low certainty)",
        "32.7% (low certainty)",
        "midazolam: response 25.9%, remission 18.0%",
    ),
    Published(
        "KADS, adjusted-dose cohort (2023)",
        "106 people, injections under the skin twice a week",
        "week 4 (MADRS 10 or less)",
        "—",
        "about 20%",
        "midazolam 2% (remission)",
    ),
    Published(
        "KARMA-Dep 2 (2025)",
        "65 people in hospital, up to 8 IV infusions",
        "end of treatment",
        "no significant difference from midazolam",
        "—",
        "midazolam",
    ),
    Published(
        "Older adults in everyday care (2021)",
        "53 people over 60, 4 IV infusions",
        "after 4 infusions",
        "27%",
        "10%",
        "none",
    ),
)


def month_label(as_of_month: str) -> str:
    year, month = as_of_month.split("-")
    return f"{MONTHS[int(month) - 1]} {year}"


def context(snapshot: RegistrySnapshot | None) -> dict[str, Any]:
    if snapshot is None:
        return {"snapshot": None, "published": PUBLISHED}
    data = snapshot.data
    overall = data["overall"]
    few = too_few(data)
    rows = report.timepoint_rows(overall)
    safety = overall["safety"]
    ae = safety["adverse_events"]
    durability = overall["durability"]
    return {
        "snapshot": snapshot,
        "as_of": month_label(snapshot.as_of_month),
        "demo": snapshot.trigger == Trigger.DEMO,
        "too_few": few,
        "patients": report.count(overall["cohort"]["patients"]),
        "started": report.count(overall["cohort"]["started"]),
        "rows": rows,
        "published": PUBLISHED,
        "safety": {
            "sessions": report.count(safety["sessions"]),
            "ae_per_100": report.per_100(ae["all"]["per_100_sessions"]),
            "serious": report.count(ae["serious"]["events"]),
            "held_for_bp_per_100": report.per_100(safety["held_for_blood_pressure"]["per_100_sessions"]),
        },
        "durability": {
            "responders": report.count(durability["responders"]),
            "median": report.weeks(durability.get("median_weeks")),
            "median_ci": report.weeks_interval(durability.get("median_ci95_weeks")),
            "reached": isinstance(durability.get("median_weeks"), int),
        },
    }
