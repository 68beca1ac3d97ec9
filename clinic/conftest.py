"""Named personas for every test (STYLE.md): a patient, another patient, a clinician, a
clinician licensed elsewhere, staff, and an outsider (anonymous)."""

import datetime as dt

import pytest
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


@pytest.fixture
def staff(db) -> User:
    return make_user("staff@example.org", Role.STAFF, mfa=True, name="Sam Staff")


@pytest.fixture
def patient(db) -> User:
    return make_user("pat@example.org", Role.PATIENT, name="Pat Patient")


@pytest.fixture
def other_patient(db) -> User:
    return make_user("other@example.org", Role.PATIENT, name="Olive Other")


@pytest.fixture
def clinician(db, staff) -> User:
    user = make_user("doc@example.org", Role.CLINICIAN, mfa=True, name="Dr Dana Doc")
    license_user(user, "US-NY", staff)
    return user


@pytest.fixture
def clinician_elsewhere(db, staff) -> User:
    user = make_user("far@example.org", Role.CLINICIAN, mfa=True, zone="America/Los_Angeles", name="Dr Far")
    license_user(user, "US-CA", staff)
    return user


def client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


@pytest.fixture
def anon_client() -> Client:
    return Client()


@pytest.fixture
def patient_client(patient) -> Client:
    return client_for(patient)


@pytest.fixture
def staff_client(staff) -> Client:
    return client_for(staff)


@pytest.fixture
def clinician_client(clinician) -> Client:
    return client_for(clinician)
