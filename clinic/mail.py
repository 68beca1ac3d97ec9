"""Email goes out through the task queue, never inside a web request or a transaction."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django_tasks import task


@task()
def send_email_task(
    *, to: list[str], subject: str, text: str, html: str = "", attachments: list[list[str]] | None = None
) -> None:
    """``attachments``: [filename, content, mimetype] triples (plain lists: task arguments are JSON)."""
    message = EmailMultiAlternatives(subject=subject, body=text, to=to)
    if html:
        message.attach_alternative(html, "text/html")
    for filename, content, mimetype in attachments or []:
        message.attach(filename, content, mimetype)
    message.send()


def queue_email(*, to: str, template: str, context: dict, attachments: list[list[str]] | None = None) -> None:
    """Render ``<template>_subject.txt`` and ``<template>.txt`` and send after commit.

    Emails carry no clinical detail (DESIGN.md rule 4): templates say that something waits in
    Mendwell, never what.
    """
    context = {"clinic_name": settings.CLINIC_NAME, "site_url": settings.SITE_URL, **context}
    subject = render_to_string(f"{template}_subject.txt", context).strip()
    text = render_to_string(f"{template}.txt", context)
    transaction.on_commit(
        lambda: send_email_task.enqueue(
            to=[to], subject=f"[{settings.CLINIC_NAME}] {subject}", text=text, attachments=attachments or []
        )
    )
