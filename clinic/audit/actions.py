"""The one function that writes the audit log, and ``Via``: where a request came from."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.http import HttpRequest
from django.utils import timezone

from clinic.audit.models import Action, AuditEvent

if TYPE_CHECKING:
    from clinic.accounts.models import User


def client_ip(request: HttpRequest) -> str | None:
    # Behind a trusted proxy (and only when told one is there) the client is the LAST
    # X-Forwarded-For entry: the one the proxy appended. Earlier entries are whatever the client
    # sent, and a client can put anything there.
    if settings.SECURE_PROXY_SSL_HEADER and request.META.get("HTTP_X_FORWARDED_FOR"):
        return request.META["HTTP_X_FORWARDED_FOR"].split(",")[-1].strip() or None
    return request.META.get("REMOTE_ADDR") or None


@dataclass(frozen=True)
class Via:
    """Where a change came from, for its audit row: the address and the request's id.

    Actions take this small value instead of an ``HttpRequest``, so they can be called from a
    worker, a command or a test with nothing of the web in their hands.
    """

    ip: str | None = None
    request_id: str = ""

    @classmethod
    def of(cls, request: HttpRequest | None) -> Via | None:
        if request is None:
            return None
        return cls(ip=client_ip(request), request_id=getattr(request, "request_id", ""))


def audit_record(
    *,
    action: Action,
    actor: User | None = None,
    actor_label: str = "",
    subject: models.Model | None = None,
    subject_type: str = "",
    subject_id: str = "",
    patient: User | None = None,
    via: Via | None = None,
    reason: str = "",
    patients: Iterable[User] | None = None,
) -> AuditEvent:
    """Append one event. Call it inside the transaction of the change it records.

    ``subject`` is any model with a ``public_id``; its integer key is never logged. ``reason``
    holds a fixed code or an identifier, never text a person typed. ``patients``: every patient
    a list page showed (one row for the page, not one per line), kept as their public ids.
    """
    action = Action(action)  # a typo'd or unknown code fails here, not in a report later
    if subject is not None:
        subject_type = subject_type or subject._meta.label_lower
        subject_id = subject_id or str(getattr(subject, "public_id", ""))
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    extra: dict[str, Any] = {}
    if via is not None:
        extra["ip"] = via.ip
        extra["request_id"] = via.request_id
    return AuditEvent.objects.create(
        at=timezone.now(),
        actor=actor,
        actor_label=actor_label or (actor.email if actor is not None else ""),
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        patient=patient,
        reason=reason[:500],
        patients=None if patients is None else sorted({str(p.public_id) for p in patients}),
        **extra,
    )
