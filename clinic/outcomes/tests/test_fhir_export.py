"""FHIR R4 export of one patient's record from the real models: every resource validated with
fhir.resources, the codes checked; the patient's own download and staff's, both audited."""

from __future__ import annotations

import json
import uuid

import pytest
from django.urls import reverse
from fhir.resources.R4B import get_fhir_model_class

from clinic.audit.models import Action, AuditEvent
from clinic.care import fhir
from clinic.outcomes.fhir_export import export_bundle
from tests.support.intake import GAD7, phq9
from tests.support.personas import client_for
from tests.support.scenario import tell

pytestmark = pytest.mark.django_db


@pytest.fixture
def story(frozen, patient, open_clinic, clinician_elsewhere, staff, django_capture_on_commit_callbacks):
    told = tell(frozen, patient, open_clinic, clinician_elsewhere, staff, django_capture_on_commit_callbacks)
    intake = told.intake
    intake.set_answers({**phq9(each="2"), **GAD7})
    intake.phq9_total, intake.gad7_total = 16, 7
    intake.consent_version, intake.consented_at = "1", intake.submitted_at
    intake.save()
    return told


def resources(bundle: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def test_the_export_is_a_valid_bundle_with_the_right_codes(story):
    bundle = export_bundle(story.patient)
    fhir.validate_bundle(bundle)
    for entry in bundle["entry"]:  # each resource on its own, too
        get_fhir_model_class(entry["resource"]["resourceType"]).model_validate(entry["resource"])
    (patient,) = resources(bundle, "Patient")
    assert patient["id"] == str(story.patient.public_id)
    encounters = {e["id"]: e for e in resources(bundle, "Encounter")}
    assert encounters[str(story.booking.public_id)]["class"]["code"] == "VR"
    assert encounters[str(story.cancelled.public_id)]["status"] == "cancelled"
    forms = resources(bundle, "QuestionnaireResponse")
    items = {tuple(i["linkId"] for i in f["item"]) for f in forms}
    assert (*fhir.PHQ9_ITEMS, fhir.PHQ9_DIFFICULTY) in items
    assert fhir.GAD7_ITEMS in items
    totals = {o["code"]["coding"][0]["code"]: o["valueInteger"] for o in resources(bundle, "Observation")}
    intake = story.intake
    assert totals == {"44261-6": intake.phq9_total, "70274-6": intake.gad7_total}
    for form in forms:
        for item in form["item"]:
            assert item["answer"][0]["valueCoding"]["system"] == "http://loinc.org"
            assert item["answer"][0]["valueCoding"]["code"].startswith("LA")
    (consent,) = resources(bundle, "Consent")
    assert consent["patient"]["reference"] == f"urn:uuid:{patient['id']}"


def test_a_second_export_names_every_record_the_same(story):
    ids = lambda b: sorted(e["resource"]["id"] for e in b["entry"])  # noqa: E731
    assert ids(export_bundle(story.patient)) == ids(export_bundle(story.patient))


def test_the_patient_downloads_their_own_record_audited(story, other_patient):
    response = client_for(story.patient).get(reverse("outcomes:my_fhir"), HTTP_X_REQUEST_ID="fhir1")
    assert response.status_code == 200 and response["Content-Type"] == "application/fhir+json"
    bundle = json.loads(response.content)
    fhir.validate_bundle(bundle)
    assert resources(bundle, "Patient")[0]["id"] == str(story.patient.public_id)
    row = AuditEvent.objects.get(request_id="fhir1")
    assert row.action == Action.DATA_EXPORTED and row.patient == story.patient and row.reason == "fhir"
    # Another patient gets their own record only; the download page offers it.
    other = json.loads(client_for(other_patient).get(reverse("outcomes:my_fhir")).content)
    assert resources(other, "Patient")[0]["id"] == str(other_patient.public_id)
    assert not resources(other, "QuestionnaireResponse")
    page = client_for(story.patient).get(reverse("visits:my_data")).content.decode()
    assert reverse("outcomes:my_fhir") in page


def test_staff_export_any_patient_audited_and_no_one_else_can(story, open_clinic):
    url = reverse("outcomes:staff_fhir", args=[story.patient.public_id])
    local_day = story.booking.start.astimezone(story.staff.zone).date().isoformat()
    day = client_for(story.staff).get(reverse("scheduling:day"), {"date": local_day})
    assert url in day.content.decode()  # offered beside each booking of the staff's day view
    response = client_for(story.staff).get(url, HTTP_X_REQUEST_ID="fhir2")
    assert response.status_code == 200
    fhir.validate_bundle(json.loads(response.content))
    row = AuditEvent.objects.get(request_id="fhir2")
    assert row.actor == story.staff and row.patient == story.patient and row.action == Action.DATA_EXPORTED
    assert client_for(open_clinic).get(url).status_code == 403
    assert client_for(story.patient).get(url).status_code == 403
    assert client_for(None).get(url).status_code == 302
    assert client_for(story.staff).get(reverse("outcomes:staff_fhir", args=[uuid.uuid4()])).status_code == 404
    staff_as_patient = reverse("outcomes:staff_fhir", args=[story.staff.public_id])
    assert client_for(story.staff).get(staff_as_patient).status_code == 404
    assert client_for(story.staff).get(reverse("outcomes:my_fhir")).status_code == 403


def test_treatment_sessions_are_encounters_of_their_own(db):
    from clinic.care.models import TreatmentSession
    from clinic.outcomes import demo

    demo.create_cohort(3)
    session = TreatmentSession.objects.select_related("plan__patient", "booking").first()
    assert session is not None and session.booking is not None
    bundle = export_bundle(session.plan.patient)
    fhir.validate_bundle(bundle)
    encounters = {e["id"]: e for e in resources(bundle, "Encounter")}
    assert encounters[str(session.public_id)]["class"]["code"] == "AMB"
    assert encounters[str(session.public_id)]["status"] == "finished"
    assert str(session.booking.public_id) not in encounters  # not a consultation too
    kinds = [e["class"]["code"] for e in encounters.values()]
    assert kinds.count("VR") == 1 and kinds.count("AMB") == session.plan.sessions.count()
