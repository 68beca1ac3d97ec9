"""The demo cohort: real rows the registry reads back, labelled, computed into a demo snapshot."""

from __future__ import annotations

import pytest
from django.urls import reverse

from clinic.accounts.models import User
from clinic.care.models import TreatmentPlan
from clinic.outcomes import demo
from clinic.outcomes.extract import collect_courses
from clinic.outcomes.models import RegistrySnapshot, Trigger

pytestmark = pytest.mark.django_db


def test_the_demo_cohort_is_read_back_as_courses_and_computed(client, django_assert_max_num_queries):
    snapshot = demo.seed(120)
    assert snapshot is not None and snapshot.trigger == Trigger.DEMO
    assert snapshot.cohort_size == 120 == TreatmentPlan.objects.count()
    assert User.objects.filter(email__endswith="@demo-cohort.mendwell.example", role="patient").count() == 120
    # One read per table (plans, profiles, sessions, session records, vital signs, adverse events,
    # pre-session check-ins, schedules, check-ins), whatever the cohort's size.
    with django_assert_max_num_queries(9):
        courses = collect_courses(snapshot.computed_at.date())
    assert len(courses) == 120
    assert {c.route for c in courses} >= {"iv_ketamine", "intranasal_esketamine"}
    assert all(c.first_session is not None and c.sessions and c.measures for c in courses)
    overall = snapshot.data["overall"]
    assert overall["cohort"]["patients"] == 120
    assert isinstance(overall["outcomes"]["week_4"]["response"]["rate"], float)
    # Shown as demo data on the public page; a second seed adds nothing.
    assert "Demo data." in client.get(reverse("outcomes:public")).content.decode()
    assert demo.seed(120) is None and RegistrySnapshot.objects.count() == 1
