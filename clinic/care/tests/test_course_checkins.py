"""A course's check-ins follow its sessions: scheduled when the plan becomes active, moved when a
session is booked or cancelled, and charted on the course page under its one audit row."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from clinic.audit.models import Action, AuditEvent
from clinic.care import actions
from clinic.care.models import SessionStatus
from clinic.measures.models import CheckIn, CheckInStatus, Schedule
from clinic.scheduling import actions as booking_actions
from tests.support import care
from tests.support.personas import client_for

pytestmark = pytest.mark.django_db

TOMORROW = dt.datetime(2026, 12, 2, 14, 0, tzinfo=dt.UTC)  # 09:00 in New York


def test_an_active_plan_has_its_checkins_and_a_booked_session_moves_them(frozen, open_clinic, staff, patient):
    plan = care.ready_plan(patient, open_clinic, staff)
    schedule = Schedule.objects.get(course_ref=plan.public_id)
    assert schedule.patient == patient
    before = set(CheckIn.objects.filter(schedule=schedule).values_list("due_on", flat=True))
    assert before, "the plan's weekly check-ins are scheduled as it becomes active"
    session = plan.sessions.order_by("number").first()
    actions.do_book_session(actor=open_clinic, session=session, start=TOMORROW)
    schedule.refresh_from_db()
    # The session's day is now known: the day after it has its side-effect check-in.
    due = set(CheckIn.objects.filter(schedule=schedule).values_list("due_on", flat=True))
    assert dt.date(2026, 12, 3) in due and dt.date(2026, 12, 3) not in before
    actions.do_cancel_session(actor=open_clinic, session=session, reason_code="clinic")
    # Cancelled: the side-effect check-in of that session is taken off the plan, kept and shown.
    assert actions.session_dates(plan) == []
    after = CheckIn.objects.get(schedule=schedule, due_on=dt.date(2026, 12, 3))
    assert after.status == CheckInStatus.WITHDRAWN
    assert Schedule.objects.filter(course_ref=plan.public_id).count() == 1


def test_the_course_page_charts_the_measures_under_its_one_read(frozen, open_clinic, staff, patient):
    plan = care.ready_plan(patient, open_clinic, staff)
    before = AuditEvent.objects.filter(action=Action.COURSE_VIEWED).count()
    page = client_for(open_clinic).get(reverse("care:course", args=[patient.public_id]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="course-measures-title"' in html
    assert reverse("measures:patient_chart", args=[patient.public_id]) in html
    assert AuditEvent.objects.filter(action=Action.COURSE_VIEWED).count() == before + 1
    assert Schedule.objects.filter(course_ref=plan.public_id).exists()


def test_a_session_cancelled_by_the_patient_leaves_the_course_and_its_checkins_follow(
    frozen, open_clinic, staff, patient
):
    plan = care.ready_plan(patient, open_clinic, staff)
    session = plan.sessions.order_by("number").first()
    booking = actions.do_book_session(actor=open_clinic, session=session, start=TOMORROW)
    planned = plan.sessions.count()
    booking_actions.do_cancel(actor=patient, booking=booking)
    session.refresh_from_db()
    assert session.status == SessionStatus.CANCELLED
    assert plan.sessions.count() == planned + 1  # a new one planned in its place
    assert actions.session_dates(plan) == []
    side_effects = CheckIn.objects.get(schedule__course_ref=plan.public_id, due_on=dt.date(2026, 12, 3))
    assert side_effects.status == CheckInStatus.WITHDRAWN
    assert AuditEvent.objects.filter(action=Action.SESSION_CANCELLED, reason="booking_cancelled").count() == 1
    # The clinic's own cancellation of another session is recorded once, by the course.
    other = plan.sessions.filter(status=SessionStatus.SCHEDULED).order_by("number").first()
    actions.do_book_session(actor=open_clinic, session=other, start=TOMORROW + dt.timedelta(days=2))
    actions.do_cancel_session(actor=open_clinic, session=other, reason_code="clinic")
    assert AuditEvent.objects.filter(action=Action.SESSION_CANCELLED).count() == 2
    assert plan.sessions.count() == planned + 2


def test_the_patient_sees_a_session_as_such_and_cannot_move_it_themselves(
    frozen, open_clinic, staff, patient
):
    plan = care.ready_plan(patient, open_clinic, staff)
    session = plan.sessions.order_by("number").first()
    booking = actions.do_book_session(actor=open_clinic, session=session, start=TOMORROW)
    home = client_for(patient).get(reverse("portal:patient_home")).content.decode()
    assert "Treatment session in clinic" in home and "at the clinic" in home
    assert "Join your video visit" not in home
    assert reverse("scheduling:my_reschedule", args=[booking.public_id]) not in home
    moved = client_for(patient).get(reverse("scheduling:my_reschedule", args=[booking.public_id]))
    assert moved.status_code == 302
    booking.refresh_from_db()
    assert booking.start == TOMORROW


def test_a_session_marked_a_no_show_is_missed_and_replanned(frozen, open_clinic, staff, patient):
    plan = care.ready_plan(patient, open_clinic, staff)
    session = plan.sessions.order_by("number").first()
    booking = actions.do_book_session(actor=open_clinic, session=session, start=TOMORROW)
    planned = plan.sessions.count()
    frozen.move_to(TOMORROW + dt.timedelta(minutes=30))
    booking_actions.do_mark_no_show(actor=open_clinic, booking=booking)
    session.refresh_from_db()
    assert session.status == SessionStatus.MISSED
    assert plan.sessions.count() == planned + 1  # a new one planned in its place
    assert AuditEvent.objects.filter(action=Action.SESSION_MISSED, reason="no_show").count() == 1
    page = client_for(open_clinic).get(reverse("care:course", args=[patient.public_id]))
    assert f'id="session-{session.public_id}" data-status="missed"' in page.content.decode()


def test_a_no_show_marked_after_the_record_was_begun_leaves_the_session_as_it_is(
    frozen, open_clinic, staff, patient
):
    plan = care.ready_plan(patient, open_clinic, staff)
    session = plan.sessions.order_by("number").first()
    booking = actions.do_book_session(actor=open_clinic, session=session, start=TOMORROW)
    type(session).objects.filter(pk=session.pk).update(status=SessionStatus.IN_PROGRESS)
    frozen.move_to(TOMORROW + dt.timedelta(minutes=30))
    booking_actions.do_mark_no_show(actor=open_clinic, booking=booking)
    session.refresh_from_db()
    assert session.status == SessionStatus.IN_PROGRESS
    assert not AuditEvent.objects.filter(action=Action.SESSION_MISSED).exists()
