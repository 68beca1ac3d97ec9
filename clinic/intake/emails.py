"""Alerts to clinicians, built by the worker from the clinician's id. They say only that
something waits in Mendwell (DESIGN.md rule 4)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse

from clinic.accounts.models import User
from clinic.mail import Outgoing, Templates, email_kind


def _alert(template: str, refs: dict[str, str]) -> Outgoing | None:
    person = User.objects.filter(public_id=refs["user"], is_active=True).first()
    if person is None:
        return None
    return Outgoing(
        to=person.email,
        templates=Templates.clinic(template),
        context={"name": person.display_name, "url": f"{settings.SITE_URL}{reverse('accounts:home')}"},
    )


@email_kind("intake/email/urgent")
def urgent(refs: dict[str, str], secrets: dict[str, Any]) -> Outgoing | None:
    return _alert("intake/email/urgent", refs)


@email_kind("intake/email/safety_first")
def safety_first(refs: dict[str, str], secrets: dict[str, Any]) -> Outgoing | None:
    return _alert("intake/email/safety_first", refs)


@email_kind("intake/email/follow_up")
def follow_up(refs: dict[str, str], secrets: dict[str, Any]) -> Outgoing | None:
    return _alert("intake/email/follow_up", refs)


@email_kind("intake/email/escalated")
def escalated(refs: dict[str, str], secrets: dict[str, Any]) -> Outgoing | None:
    return _alert("intake/email/escalated", refs)
