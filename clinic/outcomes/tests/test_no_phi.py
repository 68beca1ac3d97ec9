"""The public page carries no personal health information: no name, no email, no date finer
than a month, no free text, for a cohort whose patients have all of those."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse

from clinic.accounts.models import PatientProfile, Role
from clinic.care.outcomes import Course
from clinic.outcomes import actions
from clinic.outcomes.models import Trigger
from clinic.outcomes.tests.factories import course
from tests.support.personas import make_user

pytestmark = pytest.mark.django_db

MONTH = (
    r"(January|February|March|April|May|June|July|August|September|October|November|December"
    r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)"
)
FINER_THAN_A_MONTH = [
    re.compile(r"\b\d{4}-\d{2}-\d{2}"),  # ISO dates and datetimes
    re.compile(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b"),
    re.compile(rf"\b\d{{1,2}}(st|nd|rd|th)? {MONTH}\b"),
    re.compile(rf"\b{MONTH}\.? \d{{1,2}}(st|nd|rd|th)?\b(?! ?\d{{3}})"),
]


def seeded_courses(n: int) -> list[Course]:
    return [
        course(
            route=("iv_ketamine", "intranasal_esketamine")[i % 2],
            band=("18-39", "40-59", "60+")[i % 3],
            weeks_ago=20 + i,
            baseline=14 + i % 10,
            scores=((4, 5 + i % 9), (12, 4 + i % 11), (26, None if i % 7 == 0 else 3 + i % 13)),
        )
        for i in range(n)
    ]


def seeded_cohort(n: int = 60) -> tuple[list[str], list[str]]:
    """Patients with names, emails, dates of birth and typed text, and their courses."""
    names, emails = [], []
    for i in range(n):
        email = f"phi.patient{i}@example.org"
        user = make_user(email, Role.PATIENT, name=f"Quentin{i} Zebulon")
        PatientProfile.objects.create(
            user=user,
            legal_name=f"Quentin{i} Xavier Zebulon",
            preferred_name=f"Quentin{i}",
            date_of_birth=(dt.date(1970, 1, 1) + dt.timedelta(days=97 * i)).isoformat(),
            home_address=f"{i} Privet Drive, Springfield",
        )
        names += [f"Quentin{i}", "Zebulon", "Privet Drive"]
        emails.append(email)
    actions.do_compute_snapshot(trigger=Trigger.NIGHTLY, courses=seeded_courses(n))
    return names, emails


def test_the_public_page_html_carries_no_phi(client):
    names, emails = seeded_cohort()
    html = client.get(reverse("outcomes:public")).content.decode()
    assert "How people were doing over time" in html  # the figures are there
    for name in names:
        assert name not in html
    for email in emails:
        assert email not in html
    assert "@" not in re.sub(r"mailto:[^\"']+|[\w.+-]+@demo\.mendwell\.example", "", html)
    for pattern in FINER_THAN_A_MONTH:
        found = pattern.findall(html)
        assert not found, (pattern.pattern, found)
    # Only the month and year of the snapshot.
    assert re.search(rf"as of {MONTH} \d{{4}}", html)
