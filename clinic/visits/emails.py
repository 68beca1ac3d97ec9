"""Emails after a visit, built by the worker from the booking's id: a message is waiting, or
the appointment was missed. Never what the message says."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse

from clinic.mail import Outgoing, Templates, email_kind
from clinic.scheduling.models import Booking


def _to_patient(template: str, refs: dict[str, str], context: dict[str, Any]) -> Outgoing | None:
    booking = Booking.objects.select_related("patient").filter(public_id=refs["booking"]).first()
    if booking is None:
        return None
    return Outgoing(to=booking.patient.email, templates=Templates.clinic(template), context=context)


@email_kind("visits/email/message")
def message(refs: dict[str, str], secrets: dict[str, Any]) -> Outgoing | None:
    url = f"{settings.SITE_URL}{reverse('visits:my_appointment', args=[refs['booking']])}"
    return _to_patient("visits/email/message", refs, {"url": url})


@email_kind("visits/email/missed")
def missed(refs: dict[str, str], secrets: dict[str, Any]) -> Outgoing | None:
    return _to_patient(
        "visits/email/missed", refs, {"book_url": f"{settings.SITE_URL}{reverse('scheduling:book')}"}
    )


@email_kind("visits/email/clinician_missed")
def clinician_missed(refs: dict[str, str], secrets: dict[str, Any]) -> Outgoing | None:
    return _to_patient(
        "visits/email/clinician_missed",
        refs,
        {"book_url": f"{settings.SITE_URL}{reverse('scheduling:book')}"},
    )
