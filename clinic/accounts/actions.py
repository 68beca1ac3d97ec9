from __future__ import annotations

from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress
from allauth.account.utils import user_pk_to_url_str
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse

from clinic.accounts.models import Role, User
from clinic.audit.actions import audit_record
from clinic.audit.models import Action
from clinic.mail import queue_email


@transaction.atomic
def do_invite(
    *, actor: User, email: str, display_name: str, role: Role, time_zone: str, request: HttpRequest
) -> User:
    """Create a clinician or staff account and email a link to choose a password.

    The link is allauth's password-reset link (single use, expires), so the invitee proves they
    own the address; MFA set-up is then required before their area opens.
    """
    if role not in (Role.CLINICIAN, Role.STAFF):
        raise ValueError("Only clinicians and staff are invited.")
    user = User.objects.create_user(
        email, None, role=role, display_name=display_name, time_zone=time_zone, invited_by=actor
    )
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    audit_record(action=Action.USER_INVITED, actor=actor, subject=user, request=request, reason=role)
    path = reverse(
        "account_reset_password_from_key",
        kwargs={"uidb36": user_pk_to_url_str(user), "key": default_token_generator.make_token(user)},
    )
    queue_email(
        to=user.email,
        template="accounts/email/invite",
        context={"display_name": display_name, "role": role.label, "path": path},
    )
    return user
