"""Account emails, built by the worker: the clinic's invitation and every allauth email
(confirmation codes, password resets, security notifications).

Their links and codes are capabilities, so they travel sealed (``clinic.mail``); so does an
address that belongs to no account (allauth answers "unknown account" to whatever was typed).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from clinic.accounts.models import Role, User
from clinic.mail import Outgoing, Templates, email_kind

ALLAUTH = "allauth"
ALLAUTH_TEMPLATE_PREFIXES = ("account/email/", "mfa/email/")
# Context values allauth passes that are objects rebuilt in the worker, or not needed there.
_NOT_SEALED = {"request", "user", "current_site", "email"}


@dataclass(frozen=True)
class Site:
    """What allauth's templates read as ``current_site``."""

    name: str
    domain: str


def _site() -> Site:
    domain = settings.SITE_URL.split("//", 1)[-1].split("/", 1)[0]
    return Site(name=settings.CLINIC_NAME, domain=domain)


@email_kind("accounts/email/invite")
def invite(refs: dict[str, str], secrets: dict[str, Any]) -> Outgoing | None:
    user = User.objects.filter(public_id=refs["user"], is_active=True).first()
    path = secrets.get("path")
    if user is None or not path:
        return None
    return Outgoing(
        to=user.email,
        templates=Templates.clinic("accounts/email/invite"),
        context={"display_name": user.display_name, "role": Role(user.role).label, "path": path},
    )


def seal_allauth_context(context: dict[str, Any]) -> dict[str, Any]:
    """allauth's context as JSON: plain values kept, times tagged, objects left out."""
    values: dict[str, Any] = {}
    for key, value in context.items():
        if key in _NOT_SEALED:
            continue
        if isinstance(value, dt.datetime):
            values[key] = {"datetime": value.isoformat()}
        elif value is None or isinstance(value, str | int | float | bool):
            values[key] = value
    return values


def _open_allauth_context(values: dict[str, Any]) -> dict[str, Any]:
    context: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dict) and set(value) == {"datetime"}:
            context[key] = dt.datetime.fromisoformat(value["datetime"])
        else:
            context[key] = value
    return context


@email_kind(ALLAUTH)
def allauth_email(refs: dict[str, str], secrets: dict[str, Any]) -> Outgoing | None:
    prefix = refs.get("template", "")
    if not prefix.startswith(ALLAUTH_TEMPLATE_PREFIXES) or ".." in prefix:
        raise ValueError(f"Not an allauth email template: {prefix!r}")
    to = secrets.get("to")
    if not to:
        return None  # its sealed part has expired: the person asks again
    context = _open_allauth_context(secrets.get("context", {}))
    user = User.objects.filter(public_id=refs["user"]).first() if refs.get("user") else None
    context.update(user=user, email=to, current_site=_site())
    return Outgoing(to=to, templates=Templates.allauth(prefix), context=context)
