"""Named personas for every test (STYLE.md): a patient, another patient, a clinician, a
clinician licensed elsewhere, a nurse, staff, and an outsider (anonymous)."""

import datetime as dt

from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.test import Client
from django.utils import timezone

from clinic.accounts.models import Licence, Role, User

PASSWORD = "correct-horse-battery-9"  # noqa: S105


def make_user(
    email: str, role: Role, *, mfa: bool = False, zone: str = "America/New_York", name: str = ""
) -> User:
    user = User.objects.create_user(email, PASSWORD, role=role, time_zone=zone, display_name=name)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    if mfa:
        secret = generate_totp_secret()
        TOTP.activate(user, secret)
        user.totp_secret = secret  # type: ignore[attr-defined]
    return user


def license_user(clinician: User, jurisdiction: str, verifier: User) -> Licence:
    return Licence.objects.create(
        clinician=clinician,
        jurisdiction=jurisdiction,
        number=f"{jurisdiction}-1",
        expires_on=timezone.now().date() + dt.timedelta(days=365),
        verified_by=verifier,
        verified_at=timezone.now(),
    )


def make_nurse(verifier: User, *, email: str = "nurse@example.org", jurisdiction: str = "US-NY") -> User:
    """Nina Nurse: licensed in ``jurisdiction`` (verified by ``verifier``), two-factor set up."""
    nurse = make_user(email, Role.NURSE, mfa=True, name="Nina Nurse")
    license_user(nurse, jurisdiction, verifier)
    return nurse


def client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client
