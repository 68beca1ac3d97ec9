"""The check-in before each session, triaged with the intake's rules: an acute answer cancels the
session, shows the crisis page, raises the urgent item and alerts the on-call clinician."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse

from clinic.care import actions
from clinic.care.models import PreSessionCheckIn, Reason, Route, SessionStatus, local_date, plan_may_schedule
from clinic.intake.models import UrgentItem, UrgentKind
from clinic.scheduling.models import BookingStatus
from tests.support import care
from tests.support.personas import client_for

pytestmark = pytest.mark.django_db

NO = {"asq1": "no", "asq2": "no", "asq3": "no", "asq4": "no"}
ACUTE = {"asq1": "yes", "asq2": "no", "asq3": "yes", "asq4": "no", "asq5": "yes"}
NON_ACUTE = {"asq1": "yes", "asq2": "no", "asq3": "no", "asq4": "no", "asq5": "no"}
TOMORROW = dt.datetime(2026, 12, 2, 14, 0, tzinfo=dt.UTC)  # 09:00 in New York


@pytest.fixture
def booked(frozen, open_clinic, staff, patient):
    plan = care.ready_plan(patient, open_clinic, staff)
    session = plan.sessions.order_by("number").first()
    actions.do_book_session(actor=open_clinic, session=session, start=TOMORROW)
    session.refresh_from_db()
    return session


def test_an_acute_answer_cancels_the_session_shows_the_crisis_page_and_alerts_on_call(
    booked, patient, open_clinic, django_capture_on_commit_callbacks
):
    type(open_clinic).objects.filter(pk=open_clinic.pk).update(on_call=True)
    mail.outbox.clear()
    url = reverse("care:checkin", args=[booked.public_id])
    page = client_for(patient).get(url)
    assert (
        page.status_code == 200
        and "Are you having thoughts of killing yourself right now?" in page.content.decode()
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(patient).post(url, {**ACUTE, "symptoms": "none", "medicines": "none"})
    assert response.status_code == 302
    assert response["Location"] == reverse("care:checkin_crisis", args=[booked.public_id])
    crisis = client_for(patient).get(response["Location"])
    assert crisis.status_code == 200 and "988" in crisis.content.decode()
    booked.refresh_from_db()
    assert booked.status == SessionStatus.CANCELLED
    assert booked.booking.status == BookingStatus.CANCELLED
    item = UrgentItem.objects.get(patient=patient)
    assert item.kind == UrgentKind.ACUTE_SCREEN and item.acknowledged_at is None
    assert [m.to for m in mail.outbox if "urgent" in m.subject.lower()] == [[open_clinic.email]]
    # The course keeps the cancelled session and plans a new one in its place.
    plan = booked.plan
    assert plan.sessions.filter(status=SessionStatus.SCHEDULED, booking__isnull=True).count() == 8
    # Nothing more can be booked until a clinician acknowledges the item.
    assert Reason.OPEN_ACUTE_ITEM in plan_may_schedule(plan, local_date(TOMORROW, "US-NY"))
    # Back on the check-in page: the crisis page again, never the form.
    assert client_for(patient).get(url)["Location"] == response["Location"]


def test_a_non_acute_positive_marks_the_session_and_raises_a_same_day_item(booked, patient):
    checkin = actions.do_submit_checkin(
        patient=patient, session=booked, answers={**NON_ACUTE, "symptoms": "none", "medicines": "none"}
    )
    assert checkin.triage == "safety_assessment_first"
    booked.refresh_from_db()
    assert booked.status == SessionStatus.SCHEDULED and booked.booking.safety_first
    assert UrgentItem.objects.get(patient=patient).kind == UrgentKind.FOLLOW_UP


def test_a_non_acute_positive_through_the_page_says_a_clinician_calls_today_with_the_crisis_lines(
    booked, patient
):
    client = client_for(patient)
    response = client.post(
        reverse("care:checkin", args=[booked.public_id]),
        {**NON_ACUTE, "symptoms": "none", "medicines": "none"},
    )
    assert response.status_code == 302 and response["Location"] == reverse("care:my_plan")
    page = client.get(response["Location"]).content.decode()
    assert "a clinician will contact you today" in page and "988" in page
    assert "will see your answers before the session" not in page


def test_a_routine_checkin_keeps_the_session_and_raises_nothing(booked, patient):
    checkin = actions.do_submit_checkin(patient=patient, session=booked, answers={**NO})
    assert checkin.triage == "routine" and checkin.answers["asq1"] == "no"
    assert not UrgentItem.objects.exists()
    with pytest.raises(actions.CareError, match="already answered"):
        actions.do_submit_checkin(patient=patient, session=booked, answers={**NO})


def test_an_incomplete_asq_is_refused_and_changes_nothing(booked, patient):
    response = client_for(patient).post(
        reverse("care:checkin", args=[booked.public_id]),
        {"asq1": "yes", "asq2": "no", "asq3": "no", "asq4": "no"},
    )
    assert response.status_code == 400 and "asq5" in response.content.decode()
    assert not PreSessionCheckIn.objects.exists()


def test_at_home_the_reading_and_the_companion_are_asked(frozen, open_clinic, staff, patient):
    plan = care.ready_plan(patient, open_clinic, staff, route=Route.ORAL_KETAMINE)
    session = plan.sessions.order_by("number").first()
    actions.do_book_session(actor=open_clinic, session=session, start=TOMORROW)
    with pytest.raises(actions.CareError, match="home_systolic"):
        actions.do_submit_checkin(patient=patient, session=session, answers={**NO})
    checkin = actions.do_submit_checkin(
        patient=patient,
        session=session,
        answers={**NO, "home_systolic": 128, "home_diastolic": 84, "companion": "Sam, my partner"},
    )
    assert checkin.answers["companion"] == "Sam, my partner"


def test_the_checkin_opens_two_days_before_and_only_to_the_patient(frozen, booked, patient, other_patient):
    frozen.move_to(TOMORROW - dt.timedelta(hours=49))
    assert not actions.checkin_open(booked)
    with pytest.raises(actions.CareError, match="not open"):
        actions.do_submit_checkin(patient=patient, session=booked, answers={**NO})
    frozen.move_to(TOMORROW - dt.timedelta(hours=47))
    assert actions.checkin_open(booked)
    url = reverse("care:checkin", args=[booked.public_id])
    assert client_for(other_patient).get(url).status_code == 404
    assert client_for(other_patient).post(url, {**NO}).status_code == 404
    assert (
        client_for(other_patient).get(reverse("care:checkin_crisis", args=[booked.public_id])).status_code
        == 404
    )
    with pytest.raises(actions.CareError, match="not your session"):
        actions.do_submit_checkin(patient=other_patient, session=booked, answers={**NO})
