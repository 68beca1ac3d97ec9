"""Writes about people: invitations, on-call, a person's own time zone."""

from __future__ import annotations

from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress
from allauth.account.utils import user_pk_to_url_str
from django.db import transaction
from django.urls import reverse

from clinic.accounts.models import Role, User
from clinic.audit.actions import Via, audit_record
from clinic.audit.models import Action
from clinic.mail import queue_email


@transaction.atomic
def do_invite(
    *, actor: User, email: str, display_name: str, role: Role, time_zone: str, via: Via | None = None
) -> User:
    """Create a clinician, nurse or staff account and email a link to choose a password.

    The link is allauth's password-reset link (single use, expires), so the invitee proves they
    own the address; MFA set-up is then required before their area opens.
    """
    if role not in (Role.CLINICIAN, Role.NURSE, Role.STAFF):
        raise ValueError("Only clinicians, nurses and staff are invited.")
    user = User.objects.create_user(
        email, None, role=role, display_name=display_name, time_zone=time_zone, invited_by=actor
    )
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    audit_record(action=Action.USER_INVITED, actor=actor, subject=user, via=via, reason=role)
    path = reverse(
        "account_reset_password_from_key",
        kwargs={"uidb36": user_pk_to_url_str(user), "key": default_token_generator.make_token(user)},
    )
    # The path holds a password-reset key: a capability, so it travels sealed.
    queue_email("accounts/email/invite", refs={"user": str(user.public_id)}, secrets={"path": path})
    return user


@transaction.atomic
def do_set_on_call(*, actor: User, clinician: User, on_call: bool, via: Via | None = None) -> User:
    """Staff put a clinician on call (they receive urgent items first) or take them off."""
    clinician = User.objects.select_for_update().get(pk=clinician.pk, role=Role.CLINICIAN)
    if clinician.on_call != on_call:
        clinician.on_call = on_call
        clinician.save(update_fields=["on_call"])
        audit_record(
            action=Action.ON_CALL_CHANGED,
            actor=actor,
            subject=clinician,
            via=via,
            reason="on" if on_call else "off",
        )
    return clinician


@transaction.atomic
def do_set_time_zone(*, actor: User, time_zone: str, via: Via | None = None) -> User:
    """A person chooses the zone their times are shown in."""
    if actor.time_zone != time_zone:
        actor.time_zone = time_zone
        actor.save(update_fields=["time_zone"])
        audit_record(action=Action.PROFILE_UPDATED, actor=actor, subject=actor, via=via, reason="time_zone")
    return actor
