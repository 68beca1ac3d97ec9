"""FHIR R4 export: one patient's record as a ``Bundle`` of type ``collection``. Pure: plain frozen
dataclasses in, a JSON-ready ``dict`` out; no ORM, no Django.

Contract:

- Every resource id is a UUID string and every ``fullUrl`` is ``urn:uuid:<id>``; references
  between resources use those ``urn:uuid:`` URLs and always resolve inside the bundle. Resources
  derived from one record (a total from its answers, vital signs from one set of readings) get
  stable ``uuid5`` ids from the record's id, so a re-export names them the same.
- Answers of PHQ-9 and GAD-7 are ``valueCoding`` with the LOINC answer codes (LA6568-5 ... LA6571-9
  for 0-3; the PHQ-9 difficulty question LA6572-7, LA6573-5, LA6575-0, LA6574-3); each item's
  ``linkId`` is its LOINC item code (QuestionnaireResponse items carry no ``code`` element in R4).
  The total is an Observation computed from the answers, so the two can never disagree; a partial
  answer set cannot be built (INSTRUMENTS.md: a partial form has no valid total).
- Medications are ``text`` only ("ketamine", "esketamine"): no RxNorm code was verified.
- ``validate_bundle`` parses the bundle and every entry with the matching ``fhir.resources`` model
  and raises on any problem, including an id that is not a UUID or a reference that does not
  resolve.

Validation uses ``fhir.resources``' R4B models (FHIR 4.3.0): no release supports FHIR R4 (4.0.1) on
pydantic 2 (6.4.0, the last with R4, needs pydantic 1; 7.x and 8.x ship R5 with R4B and STU3 only).
For the eight resource types built here the R4B models have the same elements, cardinalities and
choice types as fhir.resources 6.4.0's R4 models; the one difference is that R4B lets
``Observation.subject`` also point at Medication, Organization, Practitioner, Procedure or
Substance, and this module only points it at the Patient. The resources emitted are therefore
valid R4 as well (R4 element names throughout: ``Consent.patient``, ``MedicationAdministration.
context``, ``medicationCodeableConcept``). Terminology bindings are not checked by these models.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from fhir.resources.R4B import get_fhir_model_class

from clinic.care.outcomes import AE_KINDS, SEVERITIES

__all__ = [
    "GAD7_ITEMS",
    "PHQ9_ITEMS",
    "AdverseEventEntry",
    "AnswerSet",
    "BundleError",
    "ConsentRecord",
    "ConsentScope",
    "DoseAdministration",
    "Drug",
    "EncounterKind",
    "EncounterRecord",
    "Instrument",
    "PatientRecord",
    "VitalSigns",
    "build_bundle",
    "validate_bundle",
]

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
AE_SERIOUSNESS = "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness"
AE_SEVERITY = "http://terminology.hl7.org/CodeSystem/adverse-event-severity"
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"

# Item LOINC codes in form order (INSTRUMENTS.md).
PHQ9_ITEMS = (
    "44250-9",
    "44255-8",
    "44259-0",
    "44254-1",
    "44251-7",
    "44258-2",
    "44252-5",
    "44253-3",
    "44260-8",
)
PHQ9_DIFFICULTY = "69722-7"
PHQ9_TOTAL = "44261-6"
GAD7_ITEMS = ("69725-0", "68509-9", "69733-4", "69734-2", "69735-9", "69689-8", "69736-7")
GAD7_TOTAL = "70274-6"
# LOINC answer list shared by both instruments, as used by HL7 and national implementation guides.
FREQUENCY_ANSWERS = (
    ("LA6568-5", "Not at all"),
    ("LA6569-3", "Several days"),
    ("LA6570-1", "More than half the days"),
    ("LA6571-9", "Nearly every day"),
)
# Not in numeric order: LA6575-0 is "Very difficult", LA6574-3 "Extremely difficult".
DIFFICULTY_ANSWERS = (
    ("LA6572-7", "Not difficult at all"),
    ("LA6573-5", "Somewhat difficult"),
    ("LA6575-0", "Very difficult"),
    ("LA6574-3", "Extremely difficult"),
)
BP_PANEL, SYSTOLIC, DIASTOLIC, HEART_RATE, SPO2 = "85354-9", "8480-6", "8462-4", "8867-4", "59408-5"


class BundleError(ValueError):
    """A bundle that is not a valid export."""


class Instrument(StrEnum):
    PHQ9 = "phq9"
    GAD7 = "gad7"


class EncounterKind(StrEnum):
    CONSULTATION = "consultation"  # video consultation
    TREATMENT_SESSION = "treatment_session"  # in the clinic, under observation


class Drug(StrEnum):
    KETAMINE = "ketamine"
    ESKETAMINE = "esketamine"


class ConsentScope(StrEnum):
    TREATMENT = "treatment"
    PRIVACY = "patient-privacy"
    RESEARCH = "research"


def _aware(moment: datetime, what: str) -> str:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware")
    return moment.isoformat()


@dataclass(frozen=True, slots=True)
class PatientRecord:
    """``family_name`` empty and ``birth_date`` ``None`` when the clinic does not hold them yet (a
    patient who has not finished the intake): the resource then leaves them out."""

    id: uuid.UUID
    family_name: str
    given_names: tuple[str, ...]
    birth_date: date | None


@dataclass(frozen=True, slots=True)
class EncounterRecord:
    """``status`` is an R4 Encounter status code (``finished``, ``in-progress``, ``cancelled`` ...)."""

    id: uuid.UUID
    kind: EncounterKind
    start: datetime
    end: datetime | None = None
    status: str = "finished"


@dataclass(frozen=True, slots=True)
class AnswerSet:
    """A complete PHQ-9 or GAD-7: every item 0-3 in form order; ``difficulty`` is the PHQ-9's
    unscored tenth question."""

    id: uuid.UUID
    instrument: Instrument
    authored: datetime
    answers: tuple[int, ...]
    difficulty: int | None = None
    encounter_id: uuid.UUID | None = None

    def __post_init__(self) -> None:
        expected = len(PHQ9_ITEMS if self.instrument == Instrument.PHQ9 else GAD7_ITEMS)
        if len(self.answers) != expected or any(a not in (0, 1, 2, 3) for a in self.answers):
            raise ValueError(f"{self.instrument} needs {expected} answers, each 0-3")
        if self.difficulty is not None and (
            self.instrument != Instrument.PHQ9 or self.difficulty not in (0, 1, 2, 3)
        ):
            raise ValueError("difficulty is the PHQ-9's tenth question, 0-3")

    @property
    def total(self) -> int:
        return sum(self.answers)


@dataclass(frozen=True, slots=True)
class VitalSigns:
    """One set of readings; each is optional, but blood pressure needs both numbers."""

    id: uuid.UUID
    taken: datetime
    encounter_id: uuid.UUID | None = None
    systolic_mmhg: int | None = None
    diastolic_mmhg: int | None = None
    heart_rate_per_min: int | None = None
    spo2_percent: int | None = None

    def __post_init__(self) -> None:
        if (self.systolic_mmhg is None) != (self.diastolic_mmhg is None):
            raise ValueError("blood pressure needs both systolic and diastolic")


@dataclass(frozen=True, slots=True)
class DoseAdministration:
    """``route`` is plain text ("intravenous", "intranasal", ...)."""

    id: uuid.UUID
    encounter_id: uuid.UUID
    drug: Drug
    route: str
    dose_mg: Decimal
    start: datetime
    end: datetime | None = None


@dataclass(frozen=True, slots=True)
class AdverseEventEntry:
    """``kind`` and ``severity`` come from the registry's vocabularies; ``dose_id`` names the
    suspected administration."""

    id: uuid.UUID
    occurred: datetime
    kind: str
    severity: str
    serious: bool
    encounter_id: uuid.UUID | None = None
    dose_id: uuid.UUID | None = None

    def __post_init__(self) -> None:
        if self.kind not in AE_KINDS or self.severity not in SEVERITIES:
            raise ValueError("unknown adverse event kind or severity")


@dataclass(frozen=True, slots=True)
class ConsentRecord:
    id: uuid.UUID
    scope: ConsentScope
    given: datetime
    policy_uri: str
    active: bool = True


def _url(resource_id: uuid.UUID) -> str:
    return f"urn:uuid:{resource_id}"


def _ref(resource_id: uuid.UUID) -> dict[str, str]:
    return {"reference": _url(resource_id)}


def _loinc(code: str, text: str) -> dict[str, Any]:
    return {"coding": [{"system": LOINC, "code": code}], "text": text}


def _derived(record_id: uuid.UUID, code: str) -> uuid.UUID:
    return uuid.uuid5(record_id, code)


def _patient(p: PatientRecord) -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": "Patient", "id": str(p.id)}
    name: dict[str, Any] = {"use": "official"}
    if p.family_name:
        name["family"] = p.family_name
    if p.given_names:
        name["given"] = list(p.given_names)
    if len(name) > 1:
        resource["name"] = [name]
    if p.birth_date is not None:
        resource["birthDate"] = p.birth_date.isoformat()
    return resource


def _encounter(e: EncounterRecord, patient: uuid.UUID) -> dict[str, Any]:
    virtual = e.kind == EncounterKind.CONSULTATION
    period = {"start": _aware(e.start, "encounter start")}
    if e.end is not None:
        period["end"] = _aware(e.end, "encounter end")
    return {
        "resourceType": "Encounter",
        "id": str(e.id),
        "status": e.status,
        "class": {
            "system": ACT_CODE,
            "code": "VR" if virtual else "AMB",
            "display": "virtual" if virtual else "ambulatory",
        },
        "type": [{"text": "Video consultation" if virtual else "Ketamine treatment session"}],
        "subject": _ref(patient),
        "period": period,
    }


def _context(resource: dict[str, Any], encounter: uuid.UUID | None) -> dict[str, Any]:
    if encounter is not None:
        resource["encounter"] = _ref(encounter)
    return resource


def _answer(code: str, answers: tuple[tuple[str, str], ...], value: int) -> dict[str, Any]:
    la, display = answers[value]
    return {"linkId": code, "answer": [{"valueCoding": {"system": LOINC, "code": la, "display": display}}]}


def _questionnaire(a: AnswerSet, patient: uuid.UUID) -> list[dict[str, Any]]:
    phq = a.instrument == Instrument.PHQ9
    items = [
        _answer(code, FREQUENCY_ANSWERS, v)
        for code, v in zip(PHQ9_ITEMS if phq else GAD7_ITEMS, a.answers, strict=True)
    ]
    if a.difficulty is not None:
        items.append(_answer(PHQ9_DIFFICULTY, DIFFICULTY_ANSWERS, a.difficulty))
    authored = _aware(a.authored, "authored")
    response = _context(
        {
            "resourceType": "QuestionnaireResponse",
            "id": str(a.id),
            "status": "completed",
            "subject": _ref(patient),
            "authored": authored,
            "item": items,
        },
        a.encounter_id,
    )
    code, text = (PHQ9_TOTAL, "PHQ-9 total score") if phq else (GAD7_TOTAL, "GAD-7 total score")
    total = _context(
        {
            "resourceType": "Observation",
            "id": str(_derived(a.id, code)),
            "status": "final",
            "category": [
                {"coding": [{"system": OBSERVATION_CATEGORY, "code": "survey", "display": "Survey"}]}
            ],
            "code": _loinc(code, text),
            "subject": _ref(patient),
            "effectiveDateTime": authored,
            "valueInteger": a.total,
            "derivedFrom": [_ref(a.id)],
        },
        a.encounter_id,
    )
    return [response, total]


def _quantity(value: int, unit: str, code: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": code}


def _vitals(v: VitalSigns, patient: uuid.UUID) -> list[dict[str, Any]]:
    taken = _aware(v.taken, "vital signs time")

    def observation(code: str, text: str, **value: Any) -> dict[str, Any]:
        return _context(
            {
                "resourceType": "Observation",
                "id": str(_derived(v.id, code)),
                "status": "final",
                "category": [
                    {
                        "coding": [
                            {"system": OBSERVATION_CATEGORY, "code": "vital-signs", "display": "Vital Signs"}
                        ]
                    }
                ],
                "code": _loinc(code, text),
                "subject": _ref(patient),
                "effectiveDateTime": taken,
                **value,
            },
            v.encounter_id,
        )

    found = []
    if v.systolic_mmhg is not None and v.diastolic_mmhg is not None:
        found.append(
            observation(
                BP_PANEL,
                "Blood pressure",
                component=[
                    {
                        "code": _loinc(SYSTOLIC, "Systolic"),
                        "valueQuantity": _quantity(v.systolic_mmhg, "mmHg", "mm[Hg]"),
                    },
                    {
                        "code": _loinc(DIASTOLIC, "Diastolic"),
                        "valueQuantity": _quantity(v.diastolic_mmhg, "mmHg", "mm[Hg]"),
                    },
                ],
            )
        )
    if v.heart_rate_per_min is not None:
        found.append(
            observation(
                HEART_RATE,
                "Heart rate",
                valueQuantity=_quantity(v.heart_rate_per_min, "beats/minute", "/min"),
            )
        )
    if v.spo2_percent is not None:
        found.append(
            observation(SPO2, "Oxygen saturation", valueQuantity=_quantity(v.spo2_percent, "%", "%"))
        )
    return found


def _dose(d: DoseAdministration, patient: uuid.UUID) -> dict[str, Any]:
    effective: dict[str, Any]
    if d.end is None:
        effective = {"effectiveDateTime": _aware(d.start, "dose start")}
    else:
        effective = {
            "effectivePeriod": {"start": _aware(d.start, "dose start"), "end": _aware(d.end, "dose end")}
        }
    return {
        "resourceType": "MedicationAdministration",
        "id": str(d.id),
        "status": "completed",
        "medicationCodeableConcept": {"text": str(d.drug)},
        "subject": _ref(patient),
        "context": _ref(d.encounter_id),  # R4's name; R5 calls it ``encounter``
        **effective,
        "dosage": {"route": {"text": d.route}, "dose": _quantity_decimal(d.dose_mg)},
    }


def _quantity_decimal(mg: Decimal) -> dict[str, Any]:
    return {"value": float(mg), "unit": "mg", "system": UCUM, "code": "mg"}


def _adverse_event(e: AdverseEventEntry, patient: uuid.UUID) -> dict[str, Any]:
    resource = _context(
        {
            "resourceType": "AdverseEvent",
            "id": str(e.id),
            "actuality": "actual",
            "event": {"text": e.kind.replace("_", " ")},
            "subject": _ref(patient),
            "date": _aware(e.occurred, "adverse event time"),
            # R4's AdverseEventSeriousness codes are capitalised ("Serious", "Non-serious").
            "seriousness": {
                "coding": [{"system": AE_SERIOUSNESS, "code": "Serious" if e.serious else "Non-serious"}]
            },
            "severity": {"coding": [{"system": AE_SEVERITY, "code": e.severity}]},
        },
        e.encounter_id,
    )
    if e.dose_id is not None:
        resource["suspectEntity"] = [{"instance": _ref(e.dose_id)}]
    return resource


def _consent(c: ConsentRecord, patient: uuid.UUID) -> dict[str, Any]:
    return {
        "resourceType": "Consent",
        "id": str(c.id),
        "status": "active" if c.active else "inactive",
        "scope": {"coding": [{"system": CONSENT_SCOPE, "code": str(c.scope)}]},
        "category": [{"coding": [{"system": LOINC, "code": "59284-0", "display": "Consent Document"}]}],
        "patient": _ref(patient),
        "dateTime": _aware(c.given, "consent time"),
        "policy": [{"uri": c.policy_uri}],
        "provision": {"type": "permit"},
    }


def build_bundle(
    *,
    bundle_id: uuid.UUID,
    patient: PatientRecord,
    timestamp: datetime,
    encounters: Sequence[EncounterRecord] = (),
    answer_sets: Sequence[AnswerSet] = (),
    vital_signs: Sequence[VitalSigns] = (),
    doses: Sequence[DoseAdministration] = (),
    adverse_events: Sequence[AdverseEventEntry] = (),
    consents: Sequence[ConsentRecord] = (),
) -> dict[str, Any]:
    """The patient's record as a FHIR R4 ``collection`` Bundle (see the module docstring).

    Every encounter, dose and answer set referred to must be among the arguments; ``validate_bundle``
    on the result raises ``BundleError`` otherwise. All datetimes must be timezone-aware.
    """
    pid = patient.id
    resources: list[dict[str, Any]] = [_patient(patient)]
    resources += [_encounter(e, pid) for e in encounters]
    for a in answer_sets:
        resources += _questionnaire(a, pid)
    for v in vital_signs:
        resources += _vitals(v, pid)
    resources += [_dose(d, pid) for d in doses]
    resources += [_adverse_event(e, pid) for e in adverse_events]
    resources += [_consent(c, pid) for c in consents]
    return {
        "resourceType": "Bundle",
        "id": str(bundle_id),
        "type": "collection",
        "timestamp": _aware(timestamp, "bundle timestamp"),
        "entry": [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in resources],
    }


def _references(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "reference" and isinstance(value, str):
                yield value
            else:
                yield from _references(value)
    elif isinstance(node, list):
        for value in node:
            yield from _references(value)


def _uuid(value: Any, what: str) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise BundleError(f"{what} {value!r} is not a UUID") from None


def validate_bundle(bundle: dict[str, Any]) -> None:
    """Raise ``BundleError`` (a ``ValueError``) unless ``bundle`` is a collection Bundle whose ids
    are UUIDs, whose fullUrls are their ``urn:uuid:`` ids, whose references all resolve inside it,
    and which, with every entry, parses with the matching ``fhir.resources`` R4B model."""
    if bundle.get("resourceType") != "Bundle" or bundle.get("type") != "collection":
        raise BundleError("not a collection Bundle")
    if _uuid(bundle.get("id"), "bundle id") != bundle.get("id"):
        raise BundleError("bundle id must be a lower-case UUID")
    try:
        get_fhir_model_class("Bundle").model_validate(bundle)
    except ValueError as error:
        raise BundleError(f"Bundle: {error}") from error
    urls = set()
    for number, entry in enumerate(bundle.get("entry", [])):
        resource = entry.get("resource") or {}
        kind = resource.get("resourceType", "")
        try:
            model = get_fhir_model_class(kind)
            model.model_validate(resource)
        except ValueError as error:
            raise BundleError(f"entry {number} ({kind}): {error}") from error
        rid = resource.get("id")
        if _uuid(rid, f"entry {number} id") != rid:
            raise BundleError(f"entry {number} id must be a lower-case UUID")
        if entry.get("fullUrl") != f"urn:uuid:{rid}":
            raise BundleError(f"entry {number} fullUrl must be urn:uuid:{rid}")
        if entry["fullUrl"] in urls:
            raise BundleError(f"entry {number} repeats {entry['fullUrl']}")
        urls.add(entry["fullUrl"])
    for reference in _references(bundle.get("entry", [])):
        if reference not in urls:
            raise BundleError(f"reference {reference} does not resolve inside the bundle")
