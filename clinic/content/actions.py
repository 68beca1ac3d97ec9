from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from clinic.accounts.models import User
from clinic.audit.actions import audit_record
from clinic.audit.models import Action
from clinic.content.models import ContactMessage, ContactStatus
from clinic.mail import queue_email


@transaction.atomic
def do_receive_contact(
    *, name: str, email: str, phone: str, message: str, request: HttpRequest
) -> ContactMessage:
    msg = ContactMessage.objects.create(
        received_at=timezone.now(), name=name, email=email, phone=phone, message=message
    )
    audit_record(action=Action.CONTACT_RECEIVED, subject=msg, request=request)
    # The acknowledgement never repeats what was written: email is not a private channel.
    queue_email(to=email, template="content/email/contact_ack", context={"name": name})
    return msg


@transaction.atomic
def do_set_contact_status(
    *, actor: User, message: ContactMessage, status: ContactStatus, request: HttpRequest
) -> None:
    message.status = status
    message.status_changed_at = timezone.now()
    message.handled_by = actor
    message.save(update_fields=["status", "status_changed_at", "handled_by"])
    audit_record(action=Action.CONTACT_STATUS, actor=actor, subject=message, request=request, reason=status)
