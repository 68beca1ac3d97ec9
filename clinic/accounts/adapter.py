from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse

from clinic import crypto
from clinic.accounts.models import Role
from clinic.mail import send_email_task


class AccountAdapter(DefaultAccountAdapter):
    """Self sign-up makes patients only; clinicians and staff are invited by staff."""

    def save_user(self, request: HttpRequest, user: Any, form: Any, commit: bool = True) -> Any:
        user.role = Role.PATIENT
        return super().save_user(request, user, form, commit)

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        return reverse("accounts:home")

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        """Render now, send through the task queue once the transaction commits."""
        context.setdefault("clinic_name", settings.CLINIC_NAME)
        message = self.render_mail(template_prefix, email, context)
        html = next((body for body, kind in getattr(message, "alternatives", []) if kind == "text/html"), "")
        transaction.on_commit(
            lambda: send_email_task.enqueue(
                to=list(message.to), subject=str(message.subject), text=message.body, html=html
            )
        )


class MFAAdapter(DefaultMFAAdapter):
    """TOTP secrets and recovery seeds are encrypted with the clinic's field keys (allauth's
    default stores them as they are)."""

    def encrypt(self, text: str) -> str:
        return crypto.encrypt(text)

    def decrypt(self, encrypted_text: str) -> str:
        return crypto.decrypt(encrypted_text)
