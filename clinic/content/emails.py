"""The contact form's acknowledgement, built by the worker from the message's id: the sender's
name and address come from the (encrypted) message, never from the task queue."""

from __future__ import annotations

from typing import Any

from clinic.content.models import ContactMessage
from clinic.mail import Outgoing, Templates, email_kind


@email_kind("content/email/contact_ack")
def contact_ack(refs: dict[str, str], secrets: dict[str, Any]) -> Outgoing | None:
    message = ContactMessage.objects.filter(public_id=refs["message"]).first()
    if message is None:
        return None
    return Outgoing(
        to=message.email,
        templates=Templates.clinic("content/email/contact_ack"),
        context={"name": message.name},
    )
