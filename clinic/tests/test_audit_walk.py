"""Every page that shows personal health data writes an audit row, matched to its request.

The pages come from the URL map itself: every GET page is opened as the role it is for, and
unless it is listed below as showing no health data (with the reason), the request must leave
at least one read row carrying its request id (X-Request-ID) and naming the patient. A new page
is therefore walked the day it is added, and fails here until it audits its reads or is listed.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from clinic.accounts.models import Role
from clinic.audit.models import READ_ACTIONS, AuditEvent
from tests.support.personas import client_for, make_nurse
from tests.support.register import administer, stocked_site
from tests.support.scenario import tell
from tests.support.treatment_session import attend, make_signed_record

pytestmark = pytest.mark.django_db

# GET pages that show no personal health data, by URL name (or route for unnamed ones).
NO_HEALTH_DATA = {
    "content:home": "public page",
    "content:learn_index": "public page",
    "content:learn_page": "public page",
    "content:crisis": "public page",
    "content:contact": "public form",
    "content:contact_thanks": "public page",
    "content:privacy": "public page",
    "content:terms": "public page",
    "content:healthz": "database and worker status",
    "content:inbox": "who wrote and when, no message text; opening a message is audited",
    "favicon.ico": "a redirect to the icon",
    "accounts:home": "a redirect to the role's home",
    "accounts:mfa_required": "asks to set up two-factor sign-in",
    "accounts:people": "staff and clinicians, no patient",
    "portal:patient_home": "the patient's own appointment times and doctors (what their emails say)",
    "portal:staff_home": "counts only",
    "portal:funnel": "counts only",
    "scheduling:book": "public free times",
    "scheduling:confirm": "the person's own held time, while they book it",
    "scheduling:booked_ics": "the patient's own calendar file (what the email attaches)",
    "scheduling:manage": "the appointment time and doctor, to whoever holds the emailed link",
    "scheduling:manage_reschedule": "free times, to whoever holds the emailed link",
    "scheduling:manage_reschedule_confirm": "the held new time, to whoever holds the emailed link",
    "scheduling:manage_move": "the appointment time and doctor, to whoever holds the emailed link",
    "portal:clinician_pulse": "a fingerprint of the dashboard, no personal data",
    "visits:note_token": "a fresh CSRF token for the note's autosave",
    "scheduling:my_reschedule": "the patient's own appointment and free times",
    "scheduling:my_reschedule_confirm": "the patient's own held new time",
    "scheduling:availability": "the clinician's own hours",
    "scheduling:licences": "clinicians' licences, no patient",
    "scheduling:appointment_types": "clinic settings",
    "register:index": "sites, lots and balances, no patient",
    "register:site": "a site's lots, balances, waste and counts waiting, no patient",
    "intake:start": "a redirect into the questionnaire",
    "intake:step": "the patient's own answers while they type them",
    "intake:done": "a thank-you page",
    "intake:crisis": "crisis numbers and the call-back form, to the patient themselves",
    "visits:status": "call state only (waiting, admitted)",
    "visits:ice": "TURN credentials",
    "visits:follow_up": "the clinician's own free times",
    "api:openapi-json": "the API schema",
    "api:health": "status",
    "api:list_slots": "public free times",
    "api:my_bookings": "the patient's own appointment times and doctors",
    "api:api-root": "the API index",
    "api:create_booking": "a write (POST); a GET on its path is api:my_bookings",
    "outcomes:public": "public page: the registry's suppressed aggregates, no person",
    "measures:link": "uses the emailed link up and redirects to the check-in, after sign-in",
    "measures:answer": "the patient's own check-in form while they answer it",
    "measures:help_now": "crisis numbers, to the patient themselves",
    "measures:take_care": "crisis numbers and a same-day call, to the patient themselves",
    "care:protocols": "the clinic's protocols, routes and legal-basis rules, no patient",
    "care:protocol_new": "a protocol form, no patient",
    "care:protocol_version_new": "a protocol form, no patient",
    "care:checkin": "the patient's own answers while they type them",
    "care:checkin_crisis": "crisis numbers, to the patient themselves",
    "care:session_status": "the observation clock and the names of the record's empty sections, no values",
}
NO_HEALTH_DATA_PREFIXES = {
    "account_": "allauth: the person's own sign-in and security pages",
    "mfa_": "allauth: the person's own two-factor settings",
    "admin:": "Django's admin, for superusers' maintenance: not a clinic role",
    "admin/": "Django's admin, for superusers' maintenance: not a clinic role",
}
# Pages behind ``signed_in`` (both participants of a visit): the role whose view shows health data.
ROLE_OF = {"visits:visit": Role.CLINICIAN, "care:session": Role.CLINICIAN, "care:rems_form": Role.CLINICIAN}


@dataclass
class Page:
    name: str
    route: str
    view: Any
    converters: list[str]


def pages(resolver: URLResolver | None = None, namespace: str = "", prefix: str = "") -> list[Page]:
    resolver = resolver or get_resolver()
    found = []
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            found += pages(entry, inner, route)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}{entry.name}" if entry.name else route
            converters = list(entry.pattern.converters) if hasattr(entry.pattern, "converters") else []
            found.append(Page(name, route, entry.callback, converters))
    return found


def exempt(name: str) -> str | None:
    if name in NO_HEALTH_DATA:
        return NO_HEALTH_DATA[name]
    return next((why for prefix, why in NO_HEALTH_DATA_PREFIXES.items() if name.startswith(prefix)), None)


def roles_of(page: Page) -> tuple[Role | None, ...]:
    """Whom to open the page as: its role, or (for a page without one) everyone in turn."""
    if page.name in ROLE_OF:
        return (ROLE_OF[page.name],)
    return tuple(getattr(page.view, "roles", ())) or (Role.CLINICIAN, Role.PATIENT, Role.STAFF, None)


def test_every_exemption_names_a_real_page():
    names = {page.name for page in pages()}
    assert set(NO_HEALTH_DATA) <= names, set(NO_HEALTH_DATA) - names


def test_every_page_with_health_data_audits_its_read_by_request_id(
    frozen, open_clinic, clinician_elsewhere, patient, staff, django_capture_on_commit_callbacks
):
    story = tell(frozen, patient, open_clinic, clinician_elsewhere, staff, django_capture_on_commit_callbacks)
    # The story's planned session, booked and attended, its record signed (for the REMS form).
    # (The next day: the clinician's hours today hold the story's consultation.)
    session = attend(story.session, nurse=make_nurse(staff), start=story.booking.start + dt.timedelta(days=1))
    make_signed_record(session, nurse=session.nurse)
    persona = {
        Role.PATIENT: patient,
        Role.CLINICIAN: open_clinic,
        Role.STAFF: staff,
        Role.NURSE: session.nurse,
        None: None,
    }
    site, lot = stocked_site(staff)
    administer(site, lot, patient=patient, clinician=open_clinic)
    values = {
        **story.kwargs(),
        "site_id": site.public_id,
        "lot_id": lot.public_id,
        "waste_id": uuid.uuid4(),
        "count_id": uuid.uuid4(),
        "check_id": uuid.uuid4(),
        # Arguments of write-only URLs: any well-formed value reaches their 405.
        "token": "t" * 32,
        "kind": "weekly",
        "row_id": uuid.uuid4(),
        "licence_id": open_clinic.licences.get().public_id,
        "hold_id": uuid.uuid4(),
        "schedule_id": uuid.uuid4(),
        "checkin_id": uuid.uuid4(),
        "session_id": session.public_id,
    }
    counter = itertools.count()
    walked, writes, problems = [], [], []
    for page in pages():
        if exempt(page.name) is not None:
            continue
        missing = [arg for arg in page.converters if arg not in values]
        if missing:
            problems.append(f"{page.name}: the walk has no value for {missing}; add it to the story")
            continue
        url = reverse(page.name, kwargs={arg: values[arg] for arg in page.converters})
        for role in roles_of(page):
            request_id = f"walk{next(counter)}"
            response = client_for(persona[role]).get(url, HTTP_X_REQUEST_ID=request_id)
            if response.status_code in (200, 405):
                break
        if response.status_code == 405:
            writes.append(page.name)  # a write (POST only): audited by its action
            continue
        if response.status_code != 200:
            problems.append(f"{page.name}: {url} answered {response.status_code} to {role}")
            continue
        assert response["X-Request-ID"] == request_id
        rows = AuditEvent.objects.filter(request_id=request_id, action__in=READ_ACTIONS)
        if not rows.exists():
            problems.append(f"{page.name}: {url} shows health data and wrote no read audit row")
            continue
        about_a_patient = {"booking_id", "patient_id", "intake_id", "lot_id", "site_id", "session_id"} & set(
            page.converters
        )
        names_patient = any(
            row.patient_id == patient.pk or str(patient.public_id) in (row.patients or []) for row in rows
        )
        if about_a_patient and not names_patient:
            problems.append(f"{page.name}: its audit row does not name the patient")
        keys = [(row.action, row.subject_id, row.patient_id) for row in rows]
        if len(keys) != len(set(keys)):
            problems.append(f"{page.name}: the same read was recorded twice for one request")
        walked.append(page.name)
    assert not problems, "\n".join(problems)
    # The walk really reached the pages the issue names, and more.
    for name in (
        "visits:visit",
        "portal:clinician_home",
        "visits:appointment",
        "visits:chart",
        "visits:patient_intake",
        "visits:my_appointment",
        "visits:my_data",
        "intake:mine",
        "scheduling:booked",
        "scheduling:day",
        "portal:audit_log",
        "content:inbox_message",
        "visits:break_glass_review",
        "register:lot",
        "register:export",
        "measures:mine",
        "measures:patient_chart",
        "care:course",
        "care:plan_start",
        "care:session_book",
        "care:my_plan",
        "care:my_consent",
        "care:lapsing",
        "care:session",
        "care:rems_form",
        "care:rems_due",
        "portal:nurse_home",
    ):
        assert name in walked, f"{name} was not walked"
    assert "scheduling:staff_cancel" in writes and "visits:note_save" in writes


def test_the_dashboard_writes_one_row_listing_its_patients_not_one_per_line(
    frozen,
    open_clinic,
    clinician_elsewhere,
    patient,
    other_patient,
    staff,
    django_capture_on_commit_callbacks,
):
    story = tell(frozen, patient, open_clinic, clinician_elsewhere, staff, django_capture_on_commit_callbacks)
    client_for(open_clinic).get(reverse("portal:clinician_home"), HTTP_X_REQUEST_ID="dash1")
    (row,) = AuditEvent.objects.filter(request_id="dash1")
    assert row.action == "dashboard.viewed" and row.actor == open_clinic
    assert row.patients == [str(patient.public_id)]
    assert str(other_patient.public_id) not in row.patients
    # Staff find it when they look for the patient in the audit log.
    page = client_for(staff).get(reverse("portal:audit_log"), {"patient": str(story.patient.public_id)})
    assert "<td>Clinician dashboard opened</td>" in page.content.decode()
    page = client_for(staff).get(reverse("portal:audit_log"), {"patient": str(uuid.uuid4())})
    assert "<td>Clinician dashboard opened</td>" not in page.content.decode()
