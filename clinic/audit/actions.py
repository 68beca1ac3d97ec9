"""The one function that writes the audit log."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models
from django.http import HttpRequest
from django.utils import timezone

from clinic.audit.models import Action, AuditEvent

if TYPE_CHECKING:
    from clinic.accounts.models import User


def client_ip(request: HttpRequest) -> str | None:
    # Behind a trusted proxy SecurityMiddleware has already made the scheme right; the address
    # the proxy saw is its first X-Forwarded-For entry only when we are told a proxy is there.
    from django.conf import settings

    if settings.SECURE_PROXY_SSL_HEADER and request.META.get("HTTP_X_FORWARDED_FOR"):
        return request.META["HTTP_X_FORWARDED_FOR"].split(",")[0].strip() or None
    return request.META.get("REMOTE_ADDR") or None


def audit_record(
    *,
    action: Action,
    actor: User | None = None,
    actor_label: str = "",
    subject: models.Model | None = None,
    subject_type: str = "",
    subject_id: str = "",
    patient: User | None = None,
    request: HttpRequest | None = None,
    reason: str = "",
) -> AuditEvent:
    """Append one event. Call it inside the transaction of the change it records.

    ``subject`` is any model with a ``public_id``; its integer key is never logged.
    """
    if subject is not None:
        subject_type = subject_type or subject._meta.label_lower
        subject_id = subject_id or str(getattr(subject, "public_id", ""))
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    extra: dict[str, Any] = {}
    if request is not None:
        extra["ip"] = client_ip(request)
        extra["request_id"] = getattr(request, "request_id", "")
    return AuditEvent.objects.create(
        at=timezone.now(),
        actor=actor,
        actor_label=actor_label or (actor.email if actor is not None else ""),
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        patient=patient,
        reason=reason[:500],
        **extra,
    )
