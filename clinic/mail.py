"""Email: queued with identifiers only, rendered and sent by the worker. One path for every
email the clinic sends, its own and allauth's.

A task row outlives its email (the database queue keeps finished rows until they are pruned,
``clinic.taskqueue``), so what a row holds must be harmless to whoever reads the database:

- ``kind``: which email, e.g. ``"booking.booked"``; each app's ``emails.py`` registers its
  kinds with ``@email_kind`` and says how to build one from the row's identifiers;
- ``refs``: public ids and fixed codes only (``{"booking": "<uuid>"}``); the worker reads the
  records, so addresses, names and typed text come from the (encrypted) database, never from the
  queue;
- ``sealed``: what the worker needs but the database must not keep in the clear: a raw manage
  token, a password-reset link, an address that belongs to no account. It is a Fernet token
  under the field encryption keys (``crypto.seal``) that the worker opens only within
  ``SEALED_FOR`` of queueing. After that the email goes without it where it can (a booking
  email then says to manage the booking from the account) or not at all.

Plain-text parts are rendered without HTML escaping (they are not HTML: ``&`` stays ``&``);
HTML parts, where a kind has one, with it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template import Context, TemplateDoesNotExist
from django.template.loader import get_template
from django.utils.module_loading import autodiscover_modules
from django_tasks import task

from clinic import crypto

SEALED_FOR = dt.timedelta(hours=24)
SEAL_PURPOSE = "email"


@dataclass(frozen=True)
class Templates:
    """The three templates of an email: subject, plain text, and (optional) HTML."""

    subject: str
    text: str
    html: str = ""

    @classmethod
    def clinic(cls, prefix: str) -> Templates:
        """The clinic's naming: ``<prefix>_subject.txt``, ``<prefix>.txt``, ``<prefix>.html``."""
        return cls(f"{prefix}_subject.txt", f"{prefix}.txt", f"{prefix}.html")

    @classmethod
    def allauth(cls, prefix: str) -> Templates:
        """allauth's naming: ``<prefix>_subject.txt``, ``<prefix>_message.txt`` and ``.html``."""
        return cls(f"{prefix}_subject.txt", f"{prefix}_message.txt", f"{prefix}_message.html")


@dataclass
class Outgoing:
    """One email, built by the worker from a task's identifiers."""

    to: str
    templates: Templates
    context: dict[str, Any]
    attachments: list[tuple[str, str, str]] = field(default_factory=list)


# refs (identifiers and codes), secrets (opened from ``sealed``; {} when there were none or they
# expired) -> the email, or None when there is nothing to send any more (the record is gone).
Builder = Callable[[dict[str, str], dict[str, Any]], Outgoing | None]

_KINDS: dict[str, Builder] = {}


def email_kind(name: str) -> Callable[[Builder], Builder]:
    """Register how the worker builds the email ``name``. Lives in ``<app>/emails.py``."""

    def register(builder: Builder) -> Builder:
        _KINDS[name] = builder
        return builder

    return register


def builder_for(kind: str) -> Builder:
    if kind not in _KINDS:
        autodiscover_modules("emails")
    try:
        return _KINDS[kind]
    except KeyError:
        raise LookupError(f"No email kind {kind!r}: register it in an app's emails.py.") from None


def queue_email(
    kind: str, *, refs: dict[str, str] | None = None, secrets: dict[str, Any] | None = None
) -> None:
    """Queue one email once the current transaction commits. ``refs``: public ids and fixed
    codes only; ``secrets``: anything else the email needs (sealed, short-lived)."""
    refs = dict(refs or {})
    builder_for(kind)  # fail here, in the request, for a kind nobody registered

    def enqueue() -> None:
        sealed = crypto.seal(secrets, purpose=SEAL_PURPOSE) if secrets else ""
        send_email_task.enqueue(kind=kind, refs=refs, sealed=sealed)

    transaction.on_commit(enqueue)


@task()
def send_email_task(*, kind: str, refs: dict[str, str], sealed: str = "") -> str:
    """Build and send one email in the worker; "sent", "stale" (nothing to send any more) or
    "expired" (its sealed part is too old and the email cannot go without it)."""
    secrets: dict[str, Any] = {}
    if sealed:
        opened = crypto.unseal(sealed, purpose=SEAL_PURPOSE, max_age=SEALED_FOR)
        if opened is None:
            secrets = {"expired": True}
        else:
            secrets = opened
    return send(kind, refs=refs, secrets=secrets)


def send(kind: str, *, refs: dict[str, str], secrets: dict[str, Any] | None = None) -> str:
    """Build and send now: for code that already runs in the worker (the reminder task)."""
    outgoing = builder_for(kind)(refs, secrets or {})
    if outgoing is None:
        return "expired" if (secrets or {}).get("expired") else "stale"
    subject, text, html = render(outgoing.templates, outgoing.context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[outgoing.to])
    if html:
        message.attach_alternative(html, "text/html")
    for filename, content, mimetype in outgoing.attachments:
        message.attach(filename, content, mimetype)
    message.send()
    return "sent"


def render(templates: Templates, context: dict[str, Any]) -> tuple[str, str, str]:
    """Subject (one line, with the clinic's prefix), plain text (not HTML-escaped) and HTML
    (escaped; "" when the email has no HTML template)."""
    context = {"clinic_name": settings.CLINIC_NAME, "site_url": settings.SITE_URL, **context}
    subject = " ".join(_render(templates.subject, context, escape=False).splitlines()).strip()
    text = _render(templates.text, context, escape=False)
    html = ""
    if templates.html:
        try:
            html = _render(templates.html, context, escape=True)
        except TemplateDoesNotExist:
            html = ""
    return f"[{settings.CLINIC_NAME}] {subject}", text, html


def _render(name: str, context: dict[str, Any], *, escape: bool) -> str:
    template = get_template(name)
    if escape:
        return template.render(context)
    # The engine's own template, rendered with autoescape off for this render only (includes
    # and extends too): plain text is not HTML.
    return template.template.render(Context(context, autoescape=False))  # type: ignore[attr-defined]
