from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from django.http import HttpRequest
from django.urls import reverse

from clinic import crypto
from clinic.accounts.emails import ALLAUTH, seal_allauth_context
from clinic.accounts.models import Role, User
from clinic.mail import queue_email


class AccountAdapter(DefaultAccountAdapter):
    """Self sign-up makes patients only; clinicians and staff are invited by staff."""

    def save_user(self, request: HttpRequest, user: Any, form: Any, commit: bool = True) -> Any:
        user.role = Role.PATIENT
        return super().save_user(request, user, form, commit)

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        return reverse("accounts:home")

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        """Through the clinic's one email path: the worker renders it. The task keeps the
        template and the account's id; the address, links and codes travel sealed."""
        refs = {"template": template_prefix}
        user = context.get("user")
        if isinstance(user, User):
            refs["user"] = str(user.public_id)
        queue_email(ALLAUTH, refs=refs, secrets={"to": email, "context": seal_allauth_context(context)})


class MFAAdapter(DefaultMFAAdapter):
    """TOTP secrets and recovery seeds are encrypted with the clinic's field keys (allauth's
    default stores them as they are)."""

    def encrypt(self, text: str) -> str:
        return crypto.encrypt(text)

    def decrypt(self, encrypted_text: str) -> str:
        return crypto.decrypt(encrypted_text)
