from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from clinic.accounts.models import User
from clinic.audit.actions import Via, audit_record
from clinic.audit.models import Action
from clinic.content.models import ContactMessage, ContactStatus
from clinic.mail import queue_email


@transaction.atomic
def do_receive_contact(
    *, name: str, email: str, phone: str, message: str, via: Via | None = None
) -> ContactMessage:
    msg = ContactMessage.objects.create(
        received_at=timezone.now(), name=name, email=email, phone=phone, message=message
    )
    audit_record(action=Action.CONTACT_RECEIVED, subject=msg, via=via)
    # The acknowledgement never repeats what was written: email is not a private channel.
    queue_email("content/email/contact_ack", refs={"message": str(msg.public_id)})
    return msg


@transaction.atomic
def do_set_contact_status(
    *, actor: User, message: ContactMessage, status: ContactStatus, via: Via | None = None
) -> None:
    message.status = status
    message.status_changed_at = timezone.now()
    message.handled_by = actor
    message.save(update_fields=["status", "status_changed_at", "handled_by"])
    audit_record(action=Action.CONTACT_STATUS, actor=actor, subject=message, via=via, reason=status)
