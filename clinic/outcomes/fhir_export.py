"""One patient's record as a FHIR R4 Bundle, built from the clinic's models by the pure
``clinic.care.fhir``: the patient, consultations and treatment sessions as Encounters, each
submitted intake's PHQ-9 and GAD-7 as QuestionnaireResponses with their totals, and the consent
given at intake; from each treatment session's record its vital signs (Observations), the dose
(MedicationAdministration) and adverse events (their kind, severity and seriousness; the typed
action and outcome stay in the plain download).

Ids are the records' public ids (or ``uuid5`` of them), so a second export names everything the
same. Typed free text (notes, intake comments) is not part of this export: the plain download
keeps it.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.utils import timezone

from clinic.accounts.models import PatientProfile, User
from clinic.care import fhir
from clinic.care.models import AdverseEvent, Route, SessionRecord, SessionStatus, TreatmentSession, VitalSigns
from clinic.intake.instruments import DIFFICULTY
from clinic.intake.models import IntakeResponse, IntakeStatus
from clinic.scheduling.models import Booking, BookingStatus

ENCOUNTER_STATUS = {
    BookingStatus.CONFIRMED: "planned",
    BookingStatus.COMPLETED: "finished",
    BookingStatus.CANCELLED: "cancelled",
    BookingStatus.NO_SHOW: "cancelled",
}
SESSION_STATUS = {
    SessionStatus.SCHEDULED: "planned",
    SessionStatus.IN_PROGRESS: "in-progress",
    SessionStatus.DONE: "finished",
    SessionStatus.MISSED: "cancelled",
    SessionStatus.CANCELLED: "cancelled",
}
ROUTE_TEXT = {
    Route.IV_KETAMINE: "intravenous",
    Route.IM_KETAMINE: "intramuscular",
    Route.SUBCUTANEOUS_KETAMINE: "subcutaneous",
    Route.ORAL_KETAMINE: "oral",
    Route.INTRANASAL_ESKETAMINE: "intranasal",
}
DIFFICULTY_INDEX = {choice.value: index for index, choice in enumerate(DIFFICULTY)}


def _patient(patient: User) -> fhir.PatientRecord:
    profile = PatientProfile.objects.filter(user=patient).first()
    legal = (profile.legal_name if profile else "") or patient.display_name
    words = legal.split()
    return fhir.PatientRecord(
        id=patient.public_id,
        family_name=words[-1] if words else "",
        given_names=tuple(words[:-1]),
        birth_date=profile.birth_date if profile else None,
    )


def _answers(answers: dict[str, Any], prefix: str, count: int) -> tuple[int, ...] | None:
    values = [answers.get(f"{prefix}_{n}") for n in range(1, count + 1)]
    if any(v not in ("0", "1", "2", "3", 0, 1, 2, 3) for v in values):
        return None  # a partial form has no total: it is not exported as one
    return tuple(int(v) for v in values)  # type: ignore[arg-type]


def _intake_records(patient: User) -> tuple[list[fhir.AnswerSet], list[fhir.ConsentRecord]]:
    answer_sets, consents = [], []
    intakes = IntakeResponse.objects.filter(patient=patient).exclude(status=IntakeStatus.DRAFT)
    for intake in intakes.order_by("submitted_at", "id"):
        if intake.submitted_at is None:
            continue
        answers = intake.answers
        phq9 = _answers(answers, "phq9", len(fhir.PHQ9_ITEMS))
        if phq9 is not None:
            answer_sets.append(
                fhir.AnswerSet(
                    id=uuid.uuid5(intake.public_id, "phq9"),
                    instrument=fhir.Instrument.PHQ9,
                    authored=intake.submitted_at,
                    answers=phq9,
                    difficulty=DIFFICULTY_INDEX.get(answers.get("phq9_difficulty", "")),
                )
            )
        gad7 = _answers(answers, "gad7", len(fhir.GAD7_ITEMS))
        if gad7 is not None:
            answer_sets.append(
                fhir.AnswerSet(
                    id=uuid.uuid5(intake.public_id, "gad7"),
                    instrument=fhir.Instrument.GAD7,
                    authored=intake.submitted_at,
                    answers=gad7,
                )
            )
        if intake.consented_at is not None:
            consents.append(
                fhir.ConsentRecord(
                    id=uuid.uuid5(intake.public_id, "consent"),
                    scope=fhir.ConsentScope.TREATMENT,
                    given=intake.consented_at,
                    policy_uri=f"{settings.SITE_URL}/terms/#consent-{intake.consent_version or '1'}",
                )
            )
    return answer_sets, consents


def _encounters(patient: User) -> list[fhir.EncounterRecord]:
    """Consultations (the patient's bookings that are not treatment sessions) and sessions."""
    consults = Booking.objects.filter(patient=patient, treatment_session__isnull=True).order_by("start")
    found = [
        fhir.EncounterRecord(
            id=b.public_id,
            kind=fhir.EncounterKind.CONSULTATION,
            start=b.start,
            end=b.end,
            status=ENCOUNTER_STATUS.get(BookingStatus(b.status), "unknown"),
        )
        for b in consults
    ]
    sessions = (
        TreatmentSession.objects.for_patient(patient).filter(booking__isnull=False).select_related("booking")
    )
    for session in sessions.order_by("booking__start"):
        booking = session.booking
        assert booking is not None
        found.append(
            fhir.EncounterRecord(
                id=session.public_id,
                kind=fhir.EncounterKind.TREATMENT_SESSION,
                start=booking.start,
                end=booking.end,
                status=SESSION_STATUS.get(SessionStatus(session.status), "unknown"),
            )
        )
    return found


def _session_records(
    patient: User,
) -> tuple[list[fhir.VitalSigns], list[fhir.DoseAdministration], list[fhir.AdverseEventEntry]]:
    records = SessionRecord.objects.filter(
        session__plan__patient=patient, session__booking__isnull=False
    ).select_related("session", "session__plan__protocol_version")
    by_id = {r.pk: r for r in records}
    doses = [
        fhir.DoseAdministration(
            id=r.public_id,
            encounter_id=r.session.public_id,
            drug=fhir.Drug.ESKETAMINE if route == Route.INTRANASAL_ESKETAMINE else fhir.Drug.KETAMINE,
            route=ROUTE_TEXT.get(Route(route), route),
            dose_mg=r.dose_mg,
            start=r.dosed_at,
        )
        for r in by_id.values()
        if r.dose_mg is not None
        and r.dosed_at is not None
        and (route := r.route or r.session.plan.protocol_version.route)
    ]
    dosed = {d.id for d in doses}
    vitals = [
        fhir.VitalSigns(
            id=v.public_id,
            taken=v.taken_at,
            encounter_id=by_id[v.record_id].session.public_id,
            systolic_mmhg=v.systolic,
            diastolic_mmhg=v.diastolic,
            heart_rate_per_min=v.heart_rate,
            spo2_percent=v.spo2,
        )
        for v in VitalSigns.objects.filter(record_id__in=by_id).order_by("taken_at")
    ]
    events = [
        fhir.AdverseEventEntry(
            id=e.public_id,
            occurred=e.noted_at,
            kind=e.kind,
            severity=e.severity,
            serious=e.serious,
            encounter_id=by_id[e.record_id].session.public_id,
            dose_id=by_id[e.record_id].public_id if by_id[e.record_id].public_id in dosed else None,
        )
        for e in AdverseEvent.objects.filter(record_id__in=by_id)
        .only("public_id", "noted_at", "kind", "severity", "serious", "record_id")
        .order_by("noted_at")
    ]
    return vitals, doses, events


def export_bundle(patient: User) -> dict[str, Any]:
    """The patient's record as a validated FHIR R4 ``collection`` Bundle."""
    answer_sets, consents = _intake_records(patient)
    vitals, doses, events = _session_records(patient)
    bundle = fhir.build_bundle(
        bundle_id=uuid.uuid4(),
        patient=_patient(patient),
        timestamp=timezone.now(),
        encounters=_encounters(patient),
        answer_sets=answer_sets,
        vital_signs=vitals,
        doses=doses,
        adverse_events=events,
        consents=consents,
    )
    fhir.validate_bundle(bundle)
    return bundle
