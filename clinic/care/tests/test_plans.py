"""Starting a plan, its reviews and consent, and the prescribing record's lapse rules on their
date boundaries where the patient is."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import DatabaseError, transaction
from django.urls import reverse

from clinic.audit.models import AuditEvent
from clinic.care import actions
from clinic.care.models import (
    ContraindicationReview,
    PlanStatus,
    Reason,
    TreatmentPlan,
    local_date,
    plan_may_schedule,
)
from clinic.intake.models import UrgentItem, UrgentKind
from tests.support import care
from tests.support.personas import client_for

pytestmark = pytest.mark.django_db


def test_a_plan_starts_only_from_a_signed_suitable_consultation(staff, clinician, patient, other_patient):
    version = care.approved_version(staff, clinician)
    with pytest.raises(actions.CareError, match="Sign the consultation note"):
        care.start_plan(clinician, care.signed_note(patient, clinician, signed=False), version)
    with pytest.raises(actions.CareError, match="suitable"):
        care.start_plan(clinician, care.signed_note(patient, clinician, decision="not_suitable"), version)
    with pytest.raises(actions.CareError, match="suitable"):
        care.start_plan(clinician, care.signed_note(patient, clinician, decision="more_info"), version)
    plan = care.start_plan(clinician, care.signed_note(patient, clinician), version)
    assert plan.status == PlanStatus.PREPARING and plan.jurisdiction == "US-NY"
    assert AuditEvent.objects.filter(action="care.plan_started", patient=patient).exists()
    with pytest.raises(actions.CareError, match="already has an open"):
        care.start_plan(clinician, care.signed_note(patient, clinician), version)


def test_another_clinicians_consultation_starts_no_plan(staff, clinician, clinician_elsewhere, patient):
    version = care.approved_version(staff, clinician)
    note = care.signed_note(patient, clinician)
    with pytest.raises(actions.CareError, match="no relationship"):
        care.start_plan(clinician_elsewhere, note, version)


def test_the_plan_start_page_starts_a_plan_and_bad_input_changes_nothing(staff, clinician, patient):
    care.approved_version(staff, clinician)
    note = care.signed_note(patient, clinician)
    version = care.approved_version(staff, clinician)
    url = reverse("care:plan_start", args=[note.booking.public_id])
    client = client_for(clinician)
    page = client.get(url)
    assert page.status_code == 200 and "Start the plan" in page.content.decode()
    bad = client.post(url, {"version": str(version.public_id), "baseline_source": "fresh", "weight_kg": "-3"})
    assert bad.status_code == 400 and not TreatmentPlan.objects.exists()
    good = client.post(
        url,
        {
            "version": str(version.public_id),
            "indication": "Depression without response to two medicines",
            "baseline_source": "fresh",
            "baseline_phq9": "17",
            "baseline_gad7": "9",
            "weight_kg": "81.5",
            "systolic": "128",
            "diastolic": "82",
            "identity_method": "photo_id",
        },
    )
    assert good.status_code == 302
    plan = TreatmentPlan.objects.get()
    assert plan.protocol_version == version and plan.baseline_phq9 == 17
    assert good["Location"] == reverse("care:course", args=[patient.public_id])


def test_the_plan_becomes_bookable_once_reviewed_and_signed(staff, clinician, patient):
    plan = care.start_plan(
        clinician, care.signed_note(patient, clinician), care.approved_version(staff, clinician)
    )
    ContraindicationReview.objects.create(plan=plan, flag_key="hypertension")
    today = local_date(plan.created_at, "US-NY")
    assert plan_may_schedule(plan, today) == [
        Reason.NO_LEGAL_BASIS,
        Reason.NO_PDMP_CHECK,
        Reason.CONSENT_UNSIGNED,
        Reason.REVIEWS_OPEN,
    ]
    with pytest.raises(actions.CareError, match="Write what"):
        actions.do_review_contraindication(actor=clinician, plan=plan, flag_key="hypertension", note=" ")
    actions.do_review_contraindication(
        actor=clinician,
        plan=plan,
        flag_key="hypertension",
        note="Controlled on one medicine; home readings 120s",
    )
    with pytest.raises(actions.CareError, match="changed"):
        actions.do_sign_treatment_consent(
            patient=patient, plan=plan, typed_name="Pat Patient", version="1999"
        )
    actions.do_sign_treatment_consent(
        patient=patient, plan=plan, typed_name="Pat Patient", version=plan.consent_version
    )
    plan.refresh_from_db()
    assert plan.status == PlanStatus.ACTIVE
    review = plan.contraindication_reviews.get()
    assert review.note.startswith("Controlled") and review.reviewed_by == clinician
    assert plan.consent_signature().typed_name == "Pat Patient"


def test_the_patient_signs_the_consent_in_their_account(staff, clinician, patient, other_patient):
    plan = care.start_plan(
        clinician, care.signed_note(patient, clinician), care.approved_version(staff, clinician)
    )
    url = reverse("care:my_consent")
    assert client_for(other_patient).get(url).status_code == 404
    page = client_for(patient).get(url)
    assert page.status_code == 200 and "separate from the consent you gave for video" in page.content.decode()
    unsigned = client_for(patient).post(url, {"version": plan.consent_version, "typed_name": "Pat Patient"})
    assert unsigned.status_code == 400 and plan.consent_signature() is None
    signed = client_for(patient).post(
        url, {"version": plan.consent_version, "typed_name": "Pat Patient", "agree": "on"}
    )
    assert signed.status_code == 302 and plan.consent_signature() is not None


@pytest.mark.parametrize(
    ("instant", "jurisdiction", "lapsed"),
    [
        # 22:00 on 31 December in New York is already 1 January in UTC: still in force.
        (dt.datetime(2027, 1, 1, 3, 0, tzinfo=dt.UTC), "US-NY", False),
        (dt.datetime(2027, 1, 1, 5, 0, tzinfo=dt.UTC), "US-NY", True),
        # In Los Angeles the last day lasts three hours longer.
        (dt.datetime(2027, 1, 1, 7, 30, tzinfo=dt.UTC), "US-CA", False),
        (dt.datetime(2027, 1, 1, 8, 0, tzinfo=dt.UTC), "US-CA", True),
    ],
)
def test_the_legal_basis_lapses_at_the_end_of_its_last_day_where_the_patient_is(
    frozen, staff, clinician, patient, instant, jurisdiction, lapsed
):
    plan = care.ready_plan(patient, clinician, staff, until=dt.date(2026, 12, 31))
    care.recheck_pdmp(clinician, plan, jurisdiction)
    reasons = plan_may_schedule(plan, local_date(instant, jurisdiction), jurisdiction=jurisdiction)
    assert (Reason.LEGAL_BASIS_LAPSED in reasons) is lapsed
    assert reasons in ([], [Reason.LEGAL_BASIS_LAPSED])


def test_a_pdmp_check_counts_from_its_date_where_the_patient_is(staff, clinician, patient, settings):
    settings.CARE_PDMP_MAX_AGE_DAYS = 30
    with time_machine.travel(dt.datetime(2026, 12, 2, 3, 0, tzinfo=dt.UTC), tick=False):
        # 22:00 on 1 December in New York: the check is of 1 December there.
        plan = care.ready_plan(patient, clinician, staff, until=dt.date(2030, 1, 1))
    assert plan_may_schedule(plan, dt.date(2026, 12, 31)) == []
    assert plan_may_schedule(plan, dt.date(2027, 1, 1)) == [Reason.PDMP_TOO_OLD]
    # Renewed: a fresh check counts again.
    with time_machine.travel(dt.datetime(2026, 12, 30, 15, 0, tzinfo=dt.UTC), tick=False):
        actions.do_record_pdmp_check(
            actor=clinician,
            plan=plan,
            state="US-NY",
            checked_at=dt.datetime(2026, 12, 30, 14, 0, tzinfo=dt.UTC),
            result_summary="Unchanged",
            attested=True,
        )
    assert plan_may_schedule(plan, dt.date(2027, 1, 1)) == []


def test_pdmp_and_legal_basis_records_refuse_bad_input(
    frozen, staff, clinician, clinician_elsewhere, patient
):
    plan = care.start_plan(
        clinician, care.signed_note(patient, clinician), care.approved_version(staff, clinician)
    )
    base = {"plan": plan, "state": "US-NY", "checked_at": dt.datetime(2026, 12, 1, 11, 0, tzinfo=dt.UTC)}
    with pytest.raises(actions.CareError, match="Attest"):
        actions.do_record_pdmp_check(actor=clinician, result_summary="ok", attested=False, **base)
    with pytest.raises(actions.CareError, match="future"):
        actions.do_record_pdmp_check(
            actor=clinician, plan=plan, state="US-NY", checked_at=dt.datetime(2026, 12, 2, tzinfo=dt.UTC),
            result_summary="ok", attested=True,
        )  # fmt: skip
    with pytest.raises(actions.CareError, match="plan's clinician"):
        actions.do_record_pdmp_check(actor=clinician_elsewhere, result_summary="ok", attested=True, **base)
    in_person = actions.do_create_legal_basis_rule(
        actor=staff, name="In-person evaluation", kind="in_person", in_force_from=None, in_force_until=None
    )
    with pytest.raises(actions.CareError, match="in-person evaluation"):
        actions.do_record_legal_basis(actor=clinician, plan=plan, rule=in_person)
    record = actions.do_record_legal_basis(
        actor=clinician, plan=plan, rule=in_person, evaluated_on=dt.date(2026, 11, 20), evaluated_by=clinician
    )
    assert plan.legal_basis() == record
    assert not plan.pdmp_checks.exists()


def test_an_open_acute_item_stops_scheduling(frozen, staff, clinician, patient):
    plan = care.ready_plan(patient, clinician, staff)
    today = local_date(plan.created_at, "US-NY")
    assert plan_may_schedule(plan, today) == []
    UrgentItem.objects.create(patient=patient, kind=UrgentKind.ACUTE_SCREEN, created_at=plan.created_at)
    assert plan_may_schedule(plan, today) == [Reason.OPEN_ACUTE_ITEM]


def test_consent_signatures_and_pdmp_checks_refuse_update_and_delete_in_the_database(
    staff, clinician, patient
):
    plan = care.ready_plan(patient, clinician, staff)
    signature, check = plan.consent_signature(), plan.pdmp_check()
    for model, row, change in (
        (type(signature), signature, {"version": "1999"}),
        (type(check), check, {"state": "US-NJ"}),
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            model.objects.filter(pk=row.pk).update(**change)
        with pytest.raises(DatabaseError), transaction.atomic():
            model.objects.filter(pk=row.pk).delete()
    assert plan.consent_signature().version == plan.consent_version and plan.pdmp_check().state == "US-NY"
