"""Who the patient is, as the clinician confirms it at the start of a visit (the checklist's
"date of birth and address confirmed") and would need in an emergency: plain values for the
templates, decrypted here. Callers audit the showing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from clinic.accounts.jurisdictions import jurisdiction_name
from clinic.accounts.models import PatientProfile
from clinic.accounts.validators import age_on
from clinic.scheduling.models import Booking
from clinic.visits.models import Visit


@dataclass(frozen=True)
class Identity:
    name: str  # what to call them: preferred name, else legal name, else the account's name
    legal_name: str
    preferred_name: str
    born: dt.date | None
    age: int | None
    home_address: str
    phone: str
    emergency_contact: str
    emergency_phone: str
    booked_place: str  # where they said, when booking, they would be
    place: str  # where they say they are now (attested on joining the visit)
    address: str  # the address they attested, for emergencies during the call
    callback: str

    @property
    def address_line(self) -> str:
        """The attested address on one line, for a compact panel."""
        return ", ".join(line.strip() for line in self.address.splitlines() if line.strip())


def identity_of(
    booking: Booking, *, visit: Visit | None = None, profile: PatientProfile | None = None
) -> Identity:
    if profile is None:
        profile = PatientProfile.objects.filter(user_id=booking.patient_id).first()
    profile = profile or PatientProfile(user=booking.patient)
    born = profile.birth_date
    attested = visit is not None and visit.attested_at is not None
    return Identity(
        name=profile.preferred_name or profile.legal_name or booking.patient.display_name or "Patient",
        legal_name=profile.legal_name,
        preferred_name=profile.preferred_name,
        born=born,
        age=age_on(born, timezone.now().date()) if born else None,
        home_address=profile.home_address,
        phone=profile.phone,
        emergency_contact=profile.emergency_contact_name,
        emergency_phone=profile.emergency_contact_phone,
        booked_place=jurisdiction_name(booking.jurisdiction),
        place=jurisdiction_name(visit.attested_jurisdiction) if attested and visit else "",
        address=visit.attested_address if attested and visit else "",
        callback=visit.callback_phone if attested and visit else "",
    )
