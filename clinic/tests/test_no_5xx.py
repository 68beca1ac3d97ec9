"""The shapes that once gave a 500 are 4xx answers with a message: dates at the ends of the
calendar (and past them once moved to UTC), bodies over the limit, the wrong content type."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django import forms
from django.test import Client

from clinic import dates
from tests.support.booking import give_hours
from tests.support.personas import client_for

pytestmark = pytest.mark.django_db

EDGES = ["9999-12-31", "0001-01-01", "2101-01-01", "1899-12-31"]
MOMENTS = [
    "9999-12-31T23:59:00+00:00",
    "9999-12-31T23:59:00-14:00",
    "0001-01-01T00:00:00+14:00",
    "0001-01-01T00:00:00",
    "2100-12-31T23:00:00-05:00",
]


def client(user=None) -> Client:
    made = client_for(user) if user else Client()
    made.raise_request_exception = False
    return made


@pytest.mark.parametrize("day", EDGES)
def test_public_dates_at_the_ends_of_the_calendar_are_refused(clinician, day):
    give_hours(clinician)
    slots = client().get("/api/v1/slots", {"jurisdiction": "US-NY", "start": day, "days": 31})
    assert slots.status_code == 422
    assert dates.MESSAGE in slots.json()["detail"]
    page = client().get("/book/", {"jurisdiction": "US-NY", "tz": "America/New_York", "start": day})
    assert page.status_code < 500


@pytest.mark.parametrize("moment", MOMENTS)
def test_holding_a_time_at_the_ends_of_the_calendar_is_a_400(clinician, moment):
    give_hours(clinician)
    response = client().post(
        "/book/hold/", {"jurisdiction": "US-NY", "tz": "America/New_York", "start": moment}
    )
    assert response.status_code == 400


@pytest.mark.parametrize("day", EDGES)
def test_staff_filters_at_the_ends_of_the_calendar_are_a_400_with_the_range(staff, day):
    staff_client = client(staff)
    for url, param in (("/staff/audit/", "since"), ("/staff/audit/", "until"), ("/staff/day/", "date"),
                       ("/staff/funnel/", "week")):  # fmt: skip
        response = staff_client.get(url, {param: day})
        assert response.status_code == 400, (url, param, day, response.status_code)
        assert dates.MESSAGE in response.content.decode(), (url, param)


def test_a_malformed_day_still_shows_today(staff):
    assert client(staff).get("/staff/day/", {"date": "tomorrow"}).status_code == 200


def test_the_api_refuses_huge_bodies_and_other_content_types(patient, settings):
    patient_client = client(patient)
    huge = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    too_large = patient_client.post("/api/v1/bookings", huge, content_type="application/json")
    assert too_large.status_code == 413 and too_large.json()["code"] == "too_large"
    multipart = patient_client.post("/api/v1/bookings", {"jurisdiction": "US-NY"})
    assert multipart.status_code == 415 and multipart.json()["code"] == "unsupported_media_type"
    plain = patient_client.post("/api/v1/bookings", "{}", content_type="text/plain")
    assert plain.status_code == 415
    big_form = patient_client.post("/api/v1/bookings", {"a": huge})
    assert 400 <= big_form.status_code < 500


def test_an_api_booking_at_the_ends_of_the_calendar_is_a_422(patient):
    body = {
        "jurisdiction": "US-NY",
        "time_zone": "UTC",
        "idempotency_key": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
    }
    patient_client = client(patient)
    for change in ({"start": m} for m in MOMENTS[:3]):
        response = patient_client.post(
            "/api/v1/bookings", json.dumps({**body, **change}), content_type="application/json"
        )
        assert response.status_code == 422, (change, response.content)
    born = {**body, "start": "2026-12-01T15:00:00Z", "date_of_birth": "0001-01-01"}
    response = patient_client.post("/api/v1/bookings", json.dumps(born), content_type="application/json")
    assert response.status_code == 422 and response.json()["errors"][0]["loc"][-1] == "date_of_birth"


def test_the_validator_refuses_out_of_range_and_moves_to_utc_never_overflow():
    assert dates.check_date(dt.date(2026, 12, 1)) == dt.date(2026, 12, 1)
    with pytest.raises(dates.OutOfRange):
        dates.check_date(dt.date.max)
    ahead = dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=14)))
    behind = dt.datetime(9999, 12, 31, 23, 59, tzinfo=dt.timezone(dt.timedelta(hours=-14)))
    for moment in (ahead, behind):
        with pytest.raises(dates.OutOfRange):
            dates.check_datetime(moment)
    assert dates.parse_date("not a date") is None and dates.parse_datetime("") is None
    field = dates.DateTimeField()
    for text in MOMENTS[:4]:
        with pytest.raises(forms.ValidationError):
            field.clean(text)
    assert field.clean("2026-12-01T15:00:00+00:00") == dt.datetime(2026, 12, 1, 15, tzinfo=dt.UTC)
