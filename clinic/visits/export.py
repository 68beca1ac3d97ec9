"""Everything the clinic holds about a patient, for the patient's own download."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from clinic.accounts.models import PatientProfile, User
from clinic.intake.models import IntakeResponse, IntakeStatus
from clinic.scheduling.models import Booking
from clinic.visits.actions import NOTE_FIELDS
from clinic.visits.models import ConsultNote, Visit


def export_data(patient: User) -> dict[str, Any]:
    """Everything the clinic holds about a patient, readable by a machine."""
    profile = PatientProfile.objects.filter(user=patient).first()
    bookings = Booking.objects.filter(patient=patient).select_related("clinician").order_by("start")
    notes = ConsultNote.objects.filter(patient=patient, signed_at__isnull=False).prefetch_related("addenda")
    return {
        "exported_at": timezone.now(),
        "account": {"email": patient.email, "time_zone": patient.time_zone, "joined": patient.date_joined},
        "profile": {
            field: getattr(profile, field)
            for field in (
                "legal_name",
                "preferred_name",
                "date_of_birth",
                "phone",
                "emergency_contact_name",
                "emergency_contact_phone",
                "home_address",
                "country",
            )  # fmt: skip
        }
        if profile
        else {},
        "appointments": [
            {
                "id": b.public_id,
                "start": b.start,
                "end": b.end,
                "status": b.status,
                "clinician": b.clinician.display_name,
                "where": b.jurisdiction,
                "cancel_reason": b.cancel_reason,
            }  # fmt: skip
            for b in bookings
        ],
        "questionnaires": [
            {
                "id": i.public_id,
                "status": i.status,
                "submitted_at": i.submitted_at,
                "versions": i.versions,
                "answers": i.answers,
                "phq9_total": i.phq9_total,
                "phq9_band": i.phq9_band,
                "gad7_total": i.gad7_total,
                "gad7_band": i.gad7_band,
                "asq_result": i.asq_result,
                "consent_version": i.consent_version,
                "consented_at": i.consented_at,
            }  # fmt: skip
            for i in IntakeResponse.objects.filter(patient=patient).exclude(status=IntakeStatus.DRAFT)
        ],
        "notes": [
            {
                "appointment": n.booking.public_id,
                "signed_at": n.signed_at,
                **{f: getattr(n, f) for f in NOTE_FIELDS},
                "addenda": [{"at": a.created_at, "text": a.text} for a in n.addenda.all()],
            }  # fmt: skip
            for n in notes
        ],
        "visits": [
            {
                "appointment": v.booking.public_id,
                "where": v.attested_jurisdiction,
                "admitted_at": v.admitted_at,
            }
            for v in Visit.objects.filter(booking__patient=patient).select_related("booking")
        ],
    }
