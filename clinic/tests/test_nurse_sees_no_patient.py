"""A nurse reads no patient's data anywhere that exists before the treatment course: every page
of the URL map that shows health data answers a nurse 403 or 404 and writes no read row, and
every page meant for another role refuses them, reading or writing. The course's session pages
open to a nurse only for the patients they are scheduled with, and are tested there."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from clinic.audit.models import READ_ACTIONS, AuditEvent
from clinic.tests.test_audit_walk import exempt, pages
from clinic.visits.access import access_reason, participant_booking
from tests.support.personas import client_for
from tests.support.register import administer, stocked_site
from tests.support.scenario import tell

pytestmark = pytest.mark.django_db

# Pages a nurse may open: their own home and what every signed-in person may.
THEIRS = {"portal:nurse_home"}


def test_a_nurse_opens_no_page_with_health_data_and_no_other_roles_page(
    frozen, open_clinic, clinician_elsewhere, patient, staff, nurse, django_capture_on_commit_callbacks
):
    story = tell(frozen, patient, open_clinic, clinician_elsewhere, staff, django_capture_on_commit_callbacks)
    site, lot = stocked_site(staff)
    administer(site, lot, patient=patient, clinician=open_clinic)
    values = {
        **story.kwargs(),
        "site_id": site.public_id,
        "lot_id": lot.public_id,
        "waste_id": uuid.uuid4(),
        "count_id": uuid.uuid4(),
        "check_id": uuid.uuid4(),
        "token": "t" * 32,
        "kind": "weekly",
        "row_id": uuid.uuid4(),
        "licence_id": open_clinic.licences.get().public_id,
        "hold_id": uuid.uuid4(),
    }
    client = client_for(nurse)
    refused, problems = [], []
    for page in pages():
        if page.name in THEIRS or any(arg not in values for arg in page.converters):
            continue
        roles = getattr(page.view, "roles", None)
        health = exempt(page.name) is None
        if roles is None and not health:
            continue  # public pages and the person's own sign-in pages
        url = reverse(page.name, kwargs={arg: values[arg] for arg in page.converters})
        before = AuditEvent.objects.filter(action__in=READ_ACTIONS).count()
        answers = [client.get(url).status_code]
        if roles is not None or answers == [405]:
            # The API refuses a body that is not JSON (415) before it asks who is calling.
            api = page.name.startswith("api:")
            answers.append(
                (client.post(url, "{}", "application/json") if api else client.post(url)).status_code
            )
        # 400/401: a public write (a hold, the waitlist) or the API refusing the bare request.
        if any(code not in (400, 401, 403, 404, 405) for code in answers) or set(answers) == {405}:
            problems.append(f"{page.name}: a nurse got {answers}")
        if AuditEvent.objects.filter(action__in=READ_ACTIONS).count() != before:
            problems.append(f"{page.name}: a nurse's request read health data")
        refused.append(page.name)
    assert not problems, "\n".join(problems)
    for name in (
        "portal:clinician_home",
        "portal:patients",
        "visits:visit",
        "visits:appointment",
        "visits:chart",
        "visits:patient_intake",
        "scheduling:day",
        "portal:audit_log",
        "intake:mine",
        "visits:note_save",
        "register:lot",
        "register:export",
        "register:receive",
    ):
        assert name in refused, f"{name} was not tried"


def test_the_one_access_rule_gives_a_nurse_no_reason_and_no_part_in_a_visit(
    frozen, open_clinic, clinician_elsewhere, patient, staff, nurse, django_capture_on_commit_callbacks
):
    story = tell(frozen, patient, open_clinic, clinician_elsewhere, staff, django_capture_on_commit_callbacks)
    # What the pages and the visit's websocket both ask.
    assert access_reason(nurse, patient.pk) is None
    assert participant_booking(nurse, story.booking.public_id) is None
    # Even on call (a flag meant for clinicians), a nurse is never handed urgent items.
    type(nurse).objects.filter(pk=nurse.pk).update(on_call=True)
    assert nurse not in type(nurse).objects.on_call()
