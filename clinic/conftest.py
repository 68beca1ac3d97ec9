"""Named personas for every test (STYLE.md): a patient, another patient, a clinician, a
clinician licensed elsewhere, a nurse, staff, and an outsider (anonymous)."""

import pytest
import time_machine
from django.test import Client

from clinic.accounts.models import Role, User
from tests.support.booking import NOW, give_hours
from tests.support.personas import PASSWORD, client_for, license_user, make_nurse, make_user  # noqa: F401


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


@pytest.fixture
def nurse(db, staff) -> User:
    return make_nurse(staff)


@pytest.fixture
def nurse_client(nurse) -> Client:
    return client_for(nurse)


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


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def open_clinic(clinician, clinician_elsewhere):
    """Dr Doc (New York, licensed US-NY) and Dr Far (Los Angeles, licensed US-CA), 9–5 daily."""
    give_hours(clinician)
    give_hours(clinician_elsewhere)
    return clinician
