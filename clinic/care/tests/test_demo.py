"""The demo: a protocol per route and one patient mid-course, idempotent."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from clinic.accounts.models import User
from clinic.care.models import Protocol, Route, SessionStatus, TreatmentPlan
from clinic.care.models.sessions import SessionRecord
from clinic.measures.models import AttentionItem
from tests.support.personas import client_for

pytestmark = pytest.mark.django_db


def test_the_demo_has_a_protocol_per_route_and_a_patient_mid_course(frozen):
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())
    assert sorted(Protocol.objects.values_list("route", flat=True)) == sorted(Route.values)
    plan = TreatmentPlan.objects.get(patient__email="alex.rivera@demo.mendwell.example")
    statuses = list(plan.sessions.order_by("number").values_list("status", flat=True))
    done = statuses.count(SessionStatus.DONE)
    assert done >= 3 and statuses[:done] == [SessionStatus.DONE] * done
    assert plan.sessions.filter(status=SessionStatus.SCHEDULED, booking__isnull=False).count() == 2
    clinician = User.objects.get(email="maya.chen@demo.mendwell.example")
    page = client_for(clinician).get(reverse("care:course", args=[plan.patient.public_id]))
    html = page.content.decode()
    assert page.status_code == 200 and f"{done} done · {len(statuses) - done} to come" in html
    # The course's own check-ins, weeks of them answered, charted on its page.
    assert 'id="course-measures-title"' in html and "<svg" in html
    # Its last answer is worse after a response: the item waits on the clinician's Today.
    assert AttentionItem.objects.filter(patient=plan.patient, reason="relapse_watch").exists()


def test_the_demo_courses_past_sessions_have_signed_records_shown_on_the_course_page(frozen):
    call_command("seed_demo", stdout=io.StringIO())
    plan = TreatmentPlan.objects.get(patient__email="alex.rivera@demo.mendwell.example")
    done = plan.sessions.filter(status=SessionStatus.DONE)
    assert done.count() == SessionRecord.objects.filter(session__in=done, signed_at__isnull=False).count()
    clinician = User.objects.get(email="maya.chen@demo.mendwell.example")
    html = client_for(clinician).get(reverse("care:course", args=[plan.patient.public_id])).content.decode()
    assert html.count("BP 124/80") == done.count() and "Nausea or vomiting" in html
    assert html.count("submitted ") == done.count() and "overdue" not in html
