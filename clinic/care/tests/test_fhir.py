"""The FHIR export: a full bundle validates, carries the right codes, refuses broken resources and
never uses integer ids."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from clinic.care.fhir import (
    GAD7_ITEMS,
    PHQ9_ITEMS,
    AdverseEventEntry,
    AnswerSet,
    BundleError,
    ConsentRecord,
    ConsentScope,
    DoseAdministration,
    Drug,
    EncounterKind,
    EncounterRecord,
    Instrument,
    PatientRecord,
    VitalSigns,
    build_bundle,
    validate_bundle,
)

START = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
LOINC = "http://loinc.org"


@pytest.fixture
def bundle() -> dict[str, Any]:
    patient = PatientRecord(uuid.uuid4(), "Patient", ("Pat",), date(1984, 6, 1))
    consult = EncounterRecord(uuid.uuid4(), EncounterKind.CONSULTATION, START, START + timedelta(minutes=40))
    session = EncounterRecord(
        uuid.uuid4(),
        EncounterKind.TREATMENT_SESSION,
        START + timedelta(days=7),
        START + timedelta(days=7, hours=2),
    )
    dose = DoseAdministration(
        uuid.uuid4(), session.id, Drug.ESKETAMINE, "intranasal", Decimal("56"), session.start, session.start
    )
    return build_bundle(
        bundle_id=uuid.uuid4(),
        patient=patient,
        timestamp=START + timedelta(days=8),
        encounters=[consult, session],
        answer_sets=[
            AnswerSet(
                uuid.uuid4(),
                Instrument.PHQ9,
                START,
                (3, 2, 2, 3, 1, 2, 1, 0, 1),
                difficulty=2,
                encounter_id=consult.id,
            ),
            AnswerSet(uuid.uuid4(), Instrument.GAD7, START, (1, 2, 1, 0, 3, 2, 1)),
        ],
        vital_signs=[VitalSigns(uuid.uuid4(), session.start, session.id, 138, 86, 74, 97)],
        doses=[dose],
        adverse_events=[
            AdverseEventEntry(
                uuid.uuid4(), session.start, "dissociation", "moderate", False, session.id, dose.id
            )
        ],
        consents=[
            ConsentRecord(uuid.uuid4(), ConsentScope.TREATMENT, START, "https://clinic.example/consent/v3")
        ],
    )


def resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def codes(concept: dict[str, Any]) -> list[str]:
    return [c["code"] for c in concept["coding"]]


def observation(bundle: dict[str, Any], code: str) -> dict[str, Any]:
    (found,) = [o for o in resources(bundle, "Observation") if code in codes(o["code"])]
    return found


def test_a_full_bundle_validates(bundle: dict[str, Any]) -> None:
    validate_bundle(bundle)
    assert bundle["type"] == "collection"
    kinds = {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert kinds == {
        "Patient",
        "Encounter",
        "QuestionnaireResponse",
        "Observation",
        "MedicationAdministration",
        "AdverseEvent",
        "Consent",
    }


def test_questionnaire_items_carry_their_loinc_codes_and_answer_codes(bundle: dict[str, Any]) -> None:
    phq, gad = resources(bundle, "QuestionnaireResponse")
    assert [i["linkId"] for i in phq["item"]] == [*PHQ9_ITEMS, "69722-7"]
    assert [i["linkId"] for i in gad["item"]] == list(GAD7_ITEMS)
    first = phq["item"][0]["answer"][0]["valueCoding"]
    assert first == {"system": LOINC, "code": "LA6571-9", "display": "Nearly every day"}  # answered 3
    assert gad["item"][3]["answer"][0]["valueCoding"]["code"] == "LA6568-5"  # answered 0
    assert phq["item"][-1]["answer"][0]["valueCoding"]["code"] == "LA6575-0"  # "Very difficult"


def test_totals_are_observations_derived_from_their_answers(bundle: dict[str, Any]) -> None:
    phq, gad = resources(bundle, "QuestionnaireResponse")
    phq_total, gad_total = observation(bundle, "44261-6"), observation(bundle, "70274-6")
    assert phq_total["valueInteger"] == 15 and gad_total["valueInteger"] == 10
    assert phq_total["derivedFrom"] == [{"reference": f"urn:uuid:{phq['id']}"}]
    assert codes(phq_total["category"][0]) == ["survey"]


def test_vital_signs_codes_units_and_category(bundle: dict[str, Any]) -> None:
    bp = observation(bundle, "85354-9")
    systolic, diastolic = bp["component"]
    assert codes(systolic["code"]) == ["8480-6"] and systolic["valueQuantity"]["value"] == 138
    assert codes(diastolic["code"]) == ["8462-4"] and diastolic["valueQuantity"]["code"] == "mm[Hg]"
    assert observation(bundle, "8867-4")["valueQuantity"]["code"] == "/min"
    assert observation(bundle, "59408-5")["valueQuantity"] == {
        "value": 97,
        "unit": "%",
        "system": "http://unitsofmeasure.org",
        "code": "%",
    }
    for code in ("85354-9", "8867-4", "59408-5"):
        assert codes(observation(bundle, code)["category"][0]) == ["vital-signs"]


def test_dose_adverse_event_and_consent_point_at_each_other(bundle: dict[str, Any]) -> None:
    (dose,) = resources(bundle, "MedicationAdministration")
    (event,) = resources(bundle, "AdverseEvent")
    (consent,) = resources(bundle, "Consent")
    (patient,) = resources(bundle, "Patient")
    assert dose["medicationCodeableConcept"] == {"text": "esketamine"}
    assert dose["dosage"]["dose"]["value"] == 56.0
    assert event["suspectEntity"] == [{"instance": {"reference": f"urn:uuid:{dose['id']}"}}]
    assert codes(event["seriousness"]) == ["Non-serious"] and codes(event["severity"]) == ["moderate"]
    assert consent["patient"] == {"reference": f"urn:uuid:{patient['id']}"}


def ids_and_references(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("id", "fullUrl", "reference") and isinstance(value, str):
                yield value
            else:
                yield from ids_and_references(value)
    elif isinstance(node, list):
        for value in node:
            yield from ids_and_references(value)


def test_every_id_and_reference_is_a_uuid(bundle: dict[str, Any]) -> None:
    found = list(ids_and_references(bundle))
    assert len(found) > 30
    for value in found:
        raw = value.removeprefix("urn:uuid:")
        assert not raw.isdigit()
        assert str(uuid.UUID(raw)) == raw


@pytest.mark.parametrize(
    ("where", "breakage", "message"),
    [
        ("Observation", lambda r: r.pop("status"), "status"),
        ("Patient", lambda r: r.update(birthDate="June 1984"), "birthDate"),
        ("Encounter", lambda r: r.update(colour="blue"), "colour"),
        ("Consent", lambda r: r.update(id="42"), "UUID"),
        ("AdverseEvent", lambda r: r.update(subject={"reference": f"urn:uuid:{uuid.uuid4()}"}), "resolve"),
    ],
)
def test_a_broken_resource_fails_validation(
    bundle: dict[str, Any], where: str, breakage: Any, message: str
) -> None:
    broken = copy.deepcopy(bundle)
    target = next(e for e in broken["entry"] if e["resource"]["resourceType"] == where)
    breakage(target["resource"])
    with pytest.raises(BundleError, match=message):
        validate_bundle(broken)


def test_a_wrong_full_url_fails(bundle: dict[str, Any]) -> None:
    broken = copy.deepcopy(bundle)
    broken["entry"][0]["fullUrl"] = "Patient/1"
    with pytest.raises(BundleError, match="fullUrl"):
        validate_bundle(broken)


def test_partial_answer_sets_and_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="9 answers"):
        AnswerSet(uuid.uuid4(), Instrument.PHQ9, START, (1, 2, 3))
    with pytest.raises(ValueError, match="timezone"):
        build_bundle(
            bundle_id=uuid.uuid4(),
            patient=PatientRecord(uuid.uuid4(), "P", ("Q",), date(1990, 1, 1)),
            timestamp=datetime(2026, 1, 1),  # noqa: DTZ001 - the naive time under test
        )
