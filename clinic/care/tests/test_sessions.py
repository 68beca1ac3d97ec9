"""Booking sessions through the scheduling engine: the session's own appointment type, no double
booking, the licence checked for every session, reminders and emails as for consults, and the
plan's lapse rules refusing a booking."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from clinic.accounts.models import Licence
from clinic.audit.models import AuditEvent
from clinic.care import actions
from clinic.care.models import Route, SessionStatus
from clinic.intake.models import UrgentItem, UrgentKind
from clinic.scheduling import availability
from clinic.scheduling.models import AppointmentKind, AppointmentType, Booking
from clinic.scheduling.tasks import sweep_reminders
from tests.support import care
from tests.support.personas import client_for

pytestmark = pytest.mark.django_db


def _starts(clinician, kind=AppointmentKind.SESSION_CLINIC, jurisdiction="US-NY", days=5):
    now = timezone.now()
    found, _ = availability.free_slots(
        jurisdiction=jurisdiction,
        appointment_type=AppointmentType.objects.get(kind=kind),
        start=now,
        end=now + dt.timedelta(days=days),
        clinician_ids=[str(clinician.public_id)],
    )
    return [slot.start for slot in found]


def _sessions(plan):
    return list(plan.sessions.order_by("number"))


def test_a_session_is_booked_as_a_150_minute_clinic_appointment_and_emailed(
    frozen, open_clinic, staff, patient, django_capture_on_commit_callbacks
):
    plan = care.ready_plan(patient, open_clinic, staff)
    first = _sessions(plan)[0]
    start = _starts(open_clinic)[0]
    with django_capture_on_commit_callbacks(execute=True):
        booking = actions.do_book_session(actor=open_clinic, session=first, start=start)
    first.refresh_from_db()
    assert first.booking == booking and booking.appointment_type.kind == AppointmentKind.SESSION_CLINIC
    assert booking.end - booking.start == dt.timedelta(minutes=150)
    assert AuditEvent.objects.filter(action="care.session_booked", patient=patient).exists()
    (sent,) = [m for m in mail.outbox if m.to == [patient.email]]
    assert "appointment at the clinic" in sent.body and "free video" not in sent.body
    assert "ketamine" not in sent.body.lower() and "session" not in sent.subject.lower()


def test_the_at_home_route_is_booked_as_a_video_slot(frozen, open_clinic, staff, patient):
    plan = care.ready_plan(patient, open_clinic, staff, route=Route.ORAL_KETAMINE)
    booking = actions.do_book_session(
        actor=open_clinic,
        session=_sessions(plan)[0],
        start=_starts(open_clinic, AppointmentKind.SESSION_HOME)[0],
    )
    assert booking.appointment_type.kind == AppointmentKind.SESSION_HOME
    assert not booking.appointment_type.in_person


def test_no_double_booking_of_the_clinicians_time(frozen, open_clinic, staff, patient, other_patient):
    plan = care.ready_plan(patient, open_clinic, staff)
    first, second = _sessions(plan)[:2]
    start = _starts(open_clinic)[0]
    actions.do_book_session(actor=open_clinic, session=first, start=start)
    with pytest.raises(actions.CareError, match="taken|no longer|available"):
        actions.do_book_session(actor=open_clinic, session=second, start=start)
    # Overlapping by a minute is as taken as the same start.
    with pytest.raises(actions.CareError):
        actions.do_book_session(actor=open_clinic, session=second, start=start + dt.timedelta(minutes=30))
    second.refresh_from_db()
    assert second.booking is None and Booking.objects.filter(patient=patient).count() == 2  # consult + one
    with pytest.raises(actions.CareError, match="already booked"):
        actions.do_book_session(actor=open_clinic, session=first, start=_starts(open_clinic)[-1])


def test_the_licence_is_checked_for_every_session(frozen, open_clinic, staff, patient):
    plan = care.ready_plan(patient, open_clinic, staff)
    first, second = _sessions(plan)[:2]
    # Where the clinician holds no licence, no session (the PDMP state would not fit either).
    care.recheck_pdmp(open_clinic, plan, "US-CA")
    with pytest.raises(actions.CareError):
        actions.do_book_session(
            actor=open_clinic, session=first, start=_starts(open_clinic)[0], jurisdiction="US-CA"
        )
    care.recheck_pdmp(open_clinic, plan, "US-NY")
    # The licence ends on Thursday 3 December (New York): a session on the 2nd is covered, on the 4th not.
    Licence.objects.filter(clinician=open_clinic, jurisdiction="US-NY").update(
        expires_on=dt.date(2026, 12, 3)
    )
    availability.schedule_changed()
    starts = _starts(open_clinic, days=2)
    actions.do_book_session(actor=open_clinic, session=first, start=starts[0])
    later = dt.datetime(2026, 12, 4, 14, 0, tzinfo=dt.UTC)  # 09:00 in New York
    with pytest.raises(actions.CareError):
        actions.do_book_session(actor=open_clinic, session=second, start=later)
    Licence.objects.filter(clinician=open_clinic, jurisdiction="US-NY").update(
        expires_on=dt.date(2027, 12, 3)
    )
    availability.schedule_changed()
    actions.do_book_session(actor=open_clinic, session=second, start=later)


def test_a_lapsed_plan_books_nothing_and_says_why(frozen, open_clinic, staff, patient):
    plan = care.ready_plan(patient, open_clinic, staff, until=dt.date(2026, 11, 30))
    with pytest.raises(actions.CareError, match="legal basis has lapsed") as refused:
        actions.do_book_session(actor=open_clinic, session=_sessions(plan)[0], start=_starts(open_clinic)[0])
    assert refused.value.reasons == ["legal_basis_lapsed"]
    assert not Booking.objects.filter(appointment_type__kind=AppointmentKind.SESSION_CLINIC).exists()


def test_an_open_acute_item_books_no_session(frozen, open_clinic, staff, patient):
    plan = care.ready_plan(patient, open_clinic, staff)
    UrgentItem.objects.create(patient=patient, kind=UrgentKind.ACUTE_SCREEN, created_at=timezone.now())
    with pytest.raises(actions.CareError, match="acute"):
        actions.do_book_session(actor=open_clinic, session=_sessions(plan)[0], start=_starts(open_clinic)[0])


def test_only_the_plans_clinician_books_and_the_page_shows_their_free_times(
    frozen, open_clinic, clinician_elsewhere, staff, patient, other_patient
):
    plan = care.ready_plan(patient, open_clinic, staff)
    session = _sessions(plan)[0]
    with pytest.raises(actions.CareError, match="plan's clinician"):
        actions.do_book_session(actor=clinician_elsewhere, session=session, start=_starts(open_clinic)[0])
    url = reverse("care:session_book", args=[session.public_id])
    for outsider in (clinician_elsewhere,):
        assert client_for(outsider).get(url).status_code == 404
    for wrong in (patient, other_patient, staff):
        assert client_for(wrong).get(url).status_code == 403
    assert client_for(None).get(url).status_code == 302
    page = client_for(open_clinic).get(url)
    assert page.status_code == 200 and 'name="start"' in page.content.decode()
    start = _starts(open_clinic)[0]
    posted = client_for(open_clinic).post(url, {"start": start.isoformat()})
    assert posted.status_code == 302
    session.refresh_from_db()
    assert session.booking is not None and session.status == SessionStatus.SCHEDULED
    # Bad input: a clear message, nothing booked.
    second = _sessions(plan)[1]
    bad = client_for(open_clinic).post(
        reverse("care:session_book", args=[second.public_id]), {"start": "soon"}
    )
    assert bad.status_code == 302
    second.refresh_from_db()
    assert second.booking is None


def test_sessions_get_reminders_as_consults_do_saying_where_not_what(
    frozen, open_clinic, staff, patient, django_capture_on_commit_callbacks
):
    plan = care.ready_plan(patient, open_clinic, staff)
    start = dt.datetime(2026, 12, 4, 14, 0, tzinfo=dt.UTC)
    actions.do_book_session(actor=open_clinic, session=_sessions(plan)[0], start=start)
    mail.outbox.clear()
    frozen.move_to(start - dt.timedelta(hours=23))
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_reminders() == 1
    (sent,) = mail.outbox
    assert sent.to == [patient.email] and "appointment at the clinic" in sent.body
    assert "ketamine" not in sent.body.lower() and "Join from your browser" not in sent.body
