"""One patient's whole story, for the tests that walk every page: booked with a "safety
assessment first" screen, in the open visit window, location attested, note signed, an urgent
call-back, a break-glass grant by another clinician, a contact message, a second booking
the patient cancelled with a typed reason, and a treatment plan started from the note."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from clinic.accounts.models import PatientProfile, User
from clinic.care.models import TreatmentPlan, TreatmentSession
from clinic.content.actions import do_receive_contact
from clinic.content.models import ContactMessage
from clinic.intake.models import IntakeResponse, UrgentItem, UrgentKind
from clinic.scheduling.actions import do_cancel
from clinic.scheduling.models import Booking
from clinic.visits.actions import do_break_glass
from clinic.visits.models import BreakGlass, ConsultNote
from tests.support import care
from tests.support.booking import adult, book_as, slot_starts
from tests.support.personas import client_for

PATIENT_CANCEL_REASON = "my boss found out about the appointment"
ADDRESS = "12 Quiet Lane, Albany"
PHONE = "518 555 0142"


@dataclass
class Story:
    patient: User
    clinician: User
    other_clinician: User
    staff: User
    booking: Booking
    cancelled: Booking
    intake: IntakeResponse
    note: ConsultNote
    urgent: UrgentItem
    grant: BreakGlass
    contact: ContactMessage
    plan: TreatmentPlan
    session: TreatmentSession

    def kwargs(self) -> dict[str, object]:
        """A value for every URL argument the clinic's pages take."""
        return {
            "booking_id": self.booking.public_id,
            "patient_id": self.patient.public_id,
            "intake_id": self.intake.public_id,
            "grant_id": self.grant.public_id,
            "item_id": self.urgent.public_id,
            "public_id": self.contact.public_id,
            "user_id": self.clinician.public_id,
            "plan_id": self.plan.public_id,
            "session_id": self.session.public_id,
            "version_id": self.plan.protocol_version.public_id,
            "protocol_id": self.plan.protocol_version.protocol.public_id,
            "route": "iv_ketamine",
        }


def tell(frozen, patient, clinician, other_clinician, staff, capture) -> Story:
    """``frozen`` is the time-machine traveller; ``capture`` is
    ``django_capture_on_commit_callbacks``. Leaves the clock five minutes before the visit."""
    starts = slot_starts(Client().get("/book/", {"jurisdiction": "US-NY", "tz": "America/New_York"}))
    adult(patient, triage="safety_assessment_first")
    PatientProfile.objects.filter(user=patient).update(legal_name="Patricia Patient", phone=PHONE)
    book_as(patient, starts[0], capture)
    booking = Booking.objects.get(patient=patient)
    # A second appointment the patient then cancels, with a reason typed.
    later_start = booking.start + dt.timedelta(days=3)
    later = Booking.objects.create(
        patient=patient,
        clinician=clinician,
        appointment_type=booking.appointment_type,
        start=later_start,
        end=later_start + dt.timedelta(minutes=20),
        blocked_start=later_start,
        blocked_end=later_start + dt.timedelta(minutes=30),
        jurisdiction="US-NY",
        patient_time_zone="America/New_York",
        created_at=timezone.now(),
        idempotency_key=uuid.uuid4().hex,
        manage_token_hash=uuid.uuid4().hex,
        ics_uid=f"{uuid.uuid4()}@test",
    )
    with capture(execute=True):
        do_cancel(actor=patient, booking=later, reason=PATIENT_CANCEL_REASON)
    frozen.move_to(booking.start - dt.timedelta(minutes=5))
    attested = client_for(patient).post(
        reverse("visits:attest", args=[booking.public_id]),
        {"jurisdiction": "US-NY", "address": ADDRESS, "phone": PHONE},
    )
    assert attested.status_code == 302, attested.content.decode()[:300]
    now = timezone.now()
    note = ConsultNote.objects.create(
        booking=booking,
        author=clinician,
        patient=patient,
        reason="Low mood for a year",
        plan="Refer for an in-person assessment",
        decision="suitable",
        patient_message="Thank you for talking with me today.",
        created_at=now,
        updated_at=now,
        signed_at=now,
    )
    urgent = UrgentItem.objects.create(
        patient=patient, intake=booking.intake, kind=UrgentKind.CALLBACK, phone=PHONE, created_at=now
    )
    grant = do_break_glass(
        clinician=other_clinician, patient=patient, reason="Covering the on-call line tonight for Dr Doc"
    )
    with capture(execute=True):
        contact = do_receive_contact(
            name="Rae Reader", email="rae@example.org", phone="", message="Is this treatment right for me?"
        )
    assert booking.intake is not None
    # A treatment plan started from the signed note, its first session waiting to be booked.
    plan = care.start_plan(clinician, note, care.approved_version(staff, clinician))
    return Story(
        patient=patient,
        clinician=clinician,
        other_clinician=other_clinician,
        staff=staff,
        booking=booking,
        cancelled=Booking.objects.get(pk=later.pk),
        intake=booking.intake,
        note=note,
        urgent=urgent,
        grant=grant,
        contact=contact,
        plan=plan,
        session=plan.sessions.order_by("number").first(),
    )
