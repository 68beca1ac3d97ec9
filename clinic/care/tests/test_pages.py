"""The course pages: each opens for its persona only (404/403 for everyone else), writes its read
audit row, and the patient's page shows no dose and no clinical number."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse

from clinic.accounts.models import PatientProfile
from clinic.audit.models import AuditEvent
from clinic.care import actions
from clinic.care.models import ProtocolVersion, Route
from tests.support import care
from tests.support.personas import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan(frozen, open_clinic, staff, patient):
    PatientProfile.objects.update_or_create(user=patient, defaults={"legal_name": "Patricia Patient"})
    plan = care.ready_plan(patient, open_clinic, staff)
    first = plan.sessions.order_by("number").first()
    actions.do_book_session(
        actor=open_clinic, session=first, start=dt.datetime(2026, 12, 2, 14, 0, tzinfo=dt.UTC)
    )
    return plan


def test_the_course_page_opens_for_the_plans_clinician_and_audits_the_read(plan, open_clinic, patient):
    url = reverse("care:course", args=[patient.public_id])
    response = client_for(open_clinic).get(url, HTTP_X_REQUEST_ID="course1")
    text = response.content.decode()
    assert response.status_code == 200
    assert "56–84 mg" in text and "at least 120 minutes" in text and "140/90" in text
    assert "New sessions can be booked." in text and "DEA telemedicine flexibilities" in text
    assert 'data-status="scheduled"' in text and ">to book<" in text
    (row,) = AuditEvent.objects.filter(request_id="course1")
    assert row.action == "care.course_viewed" and row.patient == patient and row.reason == "plan clinician"


def test_the_course_page_is_not_found_for_everyone_else(
    plan, patient, other_patient, clinician_elsewhere, staff
):
    url = reverse("care:course", args=[patient.public_id])
    assert client_for(clinician_elsewhere).get(url).status_code == 404
    for wrong in (patient, other_patient, staff):
        assert client_for(wrong).get(url).status_code == 403
    assert client_for(None).get(url).status_code == 302
    for name in ("care:plan_review", "care:plan_pdmp", "care:plan_legal_basis"):
        post = client_for(clinician_elsewhere).post(reverse(name, args=[plan.public_id]), {})
        assert post.status_code == 404, name
    start = reverse("care:plan_start", args=[plan.consult_note.booking.public_id])
    assert client_for(clinician_elsewhere).get(start).status_code == 404


def test_the_patients_plan_page_speaks_plainly_and_shows_no_dose(plan, patient, other_patient):
    response = client_for(patient).get(reverse("care:my_plan"), HTTP_X_REQUEST_ID="mine1")
    text = response.content.decode()
    assert response.status_code == 200
    assert "8 sessions over 4 weeks" in text and "at the clinic" in text
    assert "take you home" in text and "Do not drive" in text and "next day" in text
    assert "Answer the check-in" in text  # the session tomorrow: its check-in is due
    main = text.split("<main", 1)[1].split("</main>", 1)[0]
    for clinical in (r"\bmg\b", r"\b56\b", r"\b84\b", r"\b140\b", "120 minutes", "PHQ", "dose", "ketamine"):
        assert not re.search(clinical, main, re.IGNORECASE), clinical
    assert AuditEvent.objects.get(request_id="mine1").action == "care.plan_viewed"
    # Another patient sees their own (empty) page, never this plan.
    other = client_for(other_patient).get(reverse("care:my_plan")).content.decode()
    assert "You do not have a treatment plan" in other and "Dr Dana Doc" not in other


def test_at_home_the_plan_page_says_who_watches_and_who_stays(frozen, open_clinic, staff, patient):
    care.ready_plan(patient, open_clinic, staff, route=Route.ORAL_KETAMINE)
    text = client_for(patient).get(reverse("care:my_plan")).content.decode()
    assert "at home" in text and "watches over video" in text and "blood-pressure monitor" in text


def test_lapsing_plans_show_on_the_dashboard_and_the_staff_page_before_they_bite(
    frozen, open_clinic, clinician_elsewhere, staff, patient
):
    care.ready_plan(patient, open_clinic, staff, until=dt.date(2026, 12, 10))
    dashboard = client_for(open_clinic).get(reverse("portal:clinician_home")).content.decode()
    assert "Plans lapsing (1)" in dashboard and "no booking from 11 Dec 2026 (10 days)" in dashboard
    row = AuditEvent.objects.filter(action="dashboard.viewed").latest("at")
    assert str(patient.public_id) in row.patients
    assert (
        "Plans lapsing"
        not in client_for(clinician_elsewhere).get(reverse("portal:clinician_home")).content.decode()
    )
    page = client_for(staff).get(reverse("care:lapsing"), HTTP_X_REQUEST_ID="lapse1")
    text = page.content.decode()
    assert (
        page.status_code == 200 and "Pat Patient" in text and "legal basis" in text and "11 Dec 2026" in text
    )
    assert "Patricia" not in text and "PDMP" not in text.split("<tbody>")[1].split("</tbody>")[0]
    assert AuditEvent.objects.get(request_id="lapse1").patients == [str(patient.public_id)]
    for wrong in (open_clinic, patient):
        assert client_for(wrong).get(reverse("care:lapsing")).status_code == 403


def test_staff_run_protocols_and_routes_and_clinicians_approve(staff, clinician, patient):
    page = client_for(staff).get(reverse("care:protocols"))
    assert page.status_code == 200 and "Turn on" in page.content.decode()
    assert client_for(patient).get(reverse("care:protocols")).status_code == 403
    on = client_for(staff).post(
        reverse("care:route_toggle", args=["intranasal_esketamine"]), {"enabled": "1"}
    )
    assert on.status_code == 302 and actions.route_enabled("intranasal_esketamine")
    assert (
        client_for(staff).post(reverse("care:route_toggle", args=["at_home_esketamine"]), {}).status_code
        == 404
    )
    assert (
        client_for(clinician).post(reverse("care:route_toggle", args=["iv_ketamine"]), {}).status_code == 403
    )
    form = {
        "name": "Esketamine nasal spray",
        "route": "intranasal_esketamine",
        "induction_sessions": "8",
        "induction_weeks": "4",
        "induction_min_days_between": "2",
        "maintenance_sessions": "0",
        "dose_unit": "mg",
        "dose_min": "56",
        "dose_max": "84",
        "observation_minutes": "90",
        "hold_systolic_above": "140",
        "hold_diastolic_above": "90",
    }
    refused = client_for(staff).post(reverse("care:protocol_new"), form)
    assert refused.status_code == 400 and "120 minutes" in refused.content.decode()
    saved = client_for(staff).post(reverse("care:protocol_new"), {**form, "observation_minutes": "120"})
    assert saved.status_code == 302
    listing = client_for(clinician).get(reverse("care:protocols")).content.decode()
    assert "Approve" in listing
    version = ProtocolVersion.objects.get()
    assert (
        client_for(staff).post(reverse("care:protocol_approve", args=[version.public_id])).status_code == 403
    )
    assert (
        client_for(clinician).post(reverse("care:protocol_approve", args=[version.public_id])).status_code
        == 302
    )
    version.refresh_from_db()
    assert version.approved_by == clinician
    assert AuditEvent.objects.filter(action="care.protocol_approved", actor=clinician).exists()
