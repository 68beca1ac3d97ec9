"""The slot page and a signed-in patient's home read a fixed, small number of rows: the count
does not grow with the times shown or the pages read, and a page read within a minute of the
last writes nothing to the session."""

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from clinic.accounts.models import Role
from tests.support.booking import adult, slot_starts
from tests.support.personas import client_for, make_user

pytestmark = pytest.mark.django_db

SLOT_PAGE = {"jurisdiction": "US-NY", "tz": "America/New_York"}


def queries(client: Client, path: str, data: dict[str, str] | None = None) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, data)
    assert response.status_code == 200
    return [q["sql"] for q in captured.captured_queries]


def test_the_slot_page_reads_a_fixed_number_of_rows_and_one_form_holds_every_time(frozen, open_clinic):
    client = Client()
    client.get("/book/", SLOT_PAGE)  # free starts computed and kept
    response = client.get("/book/", SLOT_PAGE)
    assert len(slot_starts(response)) > 20
    assert response.content.decode().count("<form") == 2  # the doctor choice and the times
    week = queries(client, "/book/", SLOT_PAGE)
    later = queries(client, "/book/", {**SLOT_PAGE, "start": "2026-12-08"})
    # the consultation type, the licences (once), the cache, the live holds, the crisis lines
    assert len(week) == len(later) <= 5, week
    assert sum("accounts_licence" in q for q in week) == 1, week


def test_a_signed_in_patients_home_reads_a_fixed_number_of_rows_and_writes_none(frozen):
    patient = adult(make_user("pat@example.com", Role.PATIENT))
    client = client_for(patient)
    client.get("/me/")
    read = queries(client, "/me/")
    # session, user, bookings, the open treatment plan (its link), the profile, the crisis lines
    assert len(read) <= 6, read
    assert not [q for q in read if q.startswith(("UPDATE", "INSERT", "BEGIN"))], read


def test_the_session_still_moves_its_last_seen_clock_after_a_minute(frozen):
    patient = adult(make_user("pat@example.com", Role.PATIENT))
    client = client_for(patient)
    client.get("/me/")
    seen = client.session["_seen"]
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=90), tick=False):
        assert client.get("/me/").status_code == 200
    assert client.session["_seen"] > seen
