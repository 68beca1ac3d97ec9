"""Helpers shared by the suites that book: hours, a screened adult, holding and confirming."""

import datetime as dt
import re

from django.test import Client
from django.utils import timezone

from clinic.accounts.models import PatientProfile
from clinic.intake.models import IntakeResponse
from clinic.scheduling.models import WeeklyHours
from tests.support.personas import client_for

# Tuesday 1 December 2026, 12:00 UTC = 07:00 in New York.
NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


def give_hours(clinician, start=dt.time(9), end=dt.time(17), days=range(7)):
    for weekday in days:
        WeeklyHours.objects.create(clinician=clinician, weekday=weekday, start=start, end=end)


def with_intake(patient, triage="routine", submitted_at=None):
    """A submitted intake, as if the patient had just filled it in."""
    when = submitted_at or timezone.now()
    IntakeResponse.objects.create(
        patient=patient,
        status="submitted",
        created_at=when,
        updated_at=when,
        submitted_at=when,
        triage=triage,
        phq9_total=6,
        phq9_band="mild",
        phq9_item9=1 if triage == "safety_assessment_first" else 0,
        gad7_total=3,
        gad7_band="minimal",
        asq_result="negative",
        versions={"phq9": 1, "gad7": 1, "asq": 1, "history": 1},
    )
    return patient


def adult(patient, born=dt.date(1990, 5, 1), triage="routine"):
    """A patient ready to book: an adult date of birth and a recent questionnaire."""
    PatientProfile.objects.update_or_create(user=patient, defaults={"date_of_birth": born.isoformat()})
    return with_intake(patient, triage)


def slot_starts(response) -> list[str]:
    return re.findall(r'name="start" value="([^"]+)"', response.content.decode())


def hold(client: Client, start: str, jurisdiction="US-NY", tz="America/New_York", **extra):
    return client.post("/book/hold/", {"jurisdiction": jurisdiction, "tz": tz, "start": start, **extra})


def confirm(client: Client, response, **data):
    """Follow a hold's redirect to the confirm page and confirm with a fresh idempotency key."""
    url = response["Location"]
    page = client.get(url)
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page.content.decode())
    payload = {"idempotency_key": key.group(1) if key else "", **data}
    return client.post(url, payload)


def book_as(patient, start: str, capture, **confirm_data):
    client = client_for(patient)
    held = hold(client, start)
    assert held.status_code == 302, held.content.decode()[:500]
    with capture(execute=True):
        done = confirm(client, held, **confirm_data)
    return client, done
