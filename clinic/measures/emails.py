"""Check-in emails to patients and "something waits" alerts to clinicians, built by the worker
from identifiers. No clinical word: a check-in is "your check-in", never what it asks."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse

from clinic.accounts.models import User
from clinic.mail import Outgoing, Templates, email_kind
from clinic.measures.models import CheckIn


@email_kind("measures/email/checkin")
def checkin(refs: dict[str, str], secrets: dict[str, Any]) -> Outgoing | None:
    """The link carries the raw token (sealed in the queue, never stored). A check-in answered,
    missed or withdrawn since the claim sends nothing; a sealed part too old to open sends the
    email without the link (the check-in is on the patient's page)."""
    found = CheckIn.objects.select_related("patient").filter(public_id=refs["checkin"]).first()
    if found is None or not found.is_open or not found.patient.is_active:
        return None
    token = secrets.get("token", "")
    url = f"{settings.SITE_URL}{reverse('measures:link', args=[token])}" if token else ""
    return Outgoing(
        to=found.patient.email,
        templates=Templates.clinic("measures/email/checkin"),
        context={
            "name": found.patient.display_name,
            "url": url,
            "mine_url": f"{settings.SITE_URL}{reverse('measures:mine')}",
            "reminder": refs.get("reminder") == "1",
        },
    )


@email_kind("measures/email/attention")
def attention(refs: dict[str, str], secrets: dict[str, Any]) -> Outgoing | None:
    person = User.objects.filter(public_id=refs["user"], is_active=True).first()
    if person is None:
        return None
    return Outgoing(
        to=person.email,
        templates=Templates.clinic("measures/email/attention"),
        context={"name": person.display_name, "url": f"{settings.SITE_URL}{reverse('accounts:home')}"},
    )
