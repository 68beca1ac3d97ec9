"""Sign-in, sign-out and MFA events come from Django and allauth as signals; these receivers
only turn them into audit rows. (Signals are the libraries' only hook for these moments.)"""

from typing import Any

from allauth.account.signals import password_changed, password_reset
from allauth.mfa.signals import authenticator_added, authenticator_removed, authenticator_reset
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.utils.crypto import salted_hmac

from clinic.audit.actions import Via, audit_record
from clinic.audit.models import Action


@receiver(user_logged_in)
def _signed_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    audit_record(action=Action.SIGNED_IN, actor=user, subject=user, via=Via.of(request))


def failed_sign_in_label(tried: str) -> tuple[Any, str]:
    """Who a failed sign-in names: the account whose address was typed, or, when no account
    has it, ``unknown address #<fingerprint>``. What was typed may be anything (a password in
    the wrong box, a name), so it never reaches the log; the keyed fingerprint still lets staff
    see many tries of one unknown address."""
    tried = tried.strip()
    account = get_user_model().objects.filter(email__iexact=tried).first() if tried else None
    if account is not None:
        return account, account.email
    digest = salted_hmac("clinic.audit.sign_in_failed", tried.lower()).hexdigest()[:12]
    return None, f"unknown address #{digest}"


@receiver(user_login_failed)
def _sign_in_failed(sender: Any, credentials: dict, request: Any = None, **kwargs: Any) -> None:
    # The password never reaches the log; nor does the address unless it is an account's.
    account, label = failed_sign_in_label(str(credentials.get("email") or credentials.get("username") or ""))
    audit_record(action=Action.SIGN_IN_FAILED, actor_label=label, subject=account, via=Via.of(request))


@receiver(user_logged_out)
def _signed_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        audit_record(action=Action.SIGNED_OUT, actor=user, subject=user, via=Via.of(request))


@receiver(password_changed)
def _password_changed(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    audit_record(action=Action.PASSWORD_CHANGED, actor=user, subject=user, via=Via.of(request))


@receiver(password_reset)
def _password_reset(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    audit_record(action=Action.PASSWORD_RESET, actor=user, subject=user, via=Via.of(request))


@receiver(authenticator_added)
def _mfa_added(sender: Any, request: Any, user: Any, authenticator: Any, **kwargs: Any) -> None:
    audit_record(
        action=Action.MFA_ADDED, actor=user, subject=user, via=Via.of(request), reason=authenticator.type
    )


@receiver(authenticator_removed)
def _mfa_removed(sender: Any, request: Any, user: Any, authenticator: Any, **kwargs: Any) -> None:
    audit_record(
        action=Action.MFA_REMOVED, actor=user, subject=user, via=Via.of(request), reason=authenticator.type
    )


@receiver(authenticator_reset)
def _mfa_reset(sender: Any, request: Any, user: Any, authenticator: Any, **kwargs: Any) -> None:
    audit_record(
        action=Action.MFA_RESET, actor=user, subject=user, via=Via.of(request), reason=authenticator.type
    )
