"""Anything a person or a bot can send to the public endpoints gets an answer below 500."""

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinic.scheduling.tests.conftest import give_hours

text = st.text(max_size=40)
maybe = st.one_of(
    st.none(),
    text,
    st.sampled_from(
        ["US-NY", "America/New_York", "2026-12-02", "2026-12-02T14:00:00Z", "any", "7", "-1", "0"]
    ),
)
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def params(**fields) -> dict:
    return {k: v for k, v in fields.items() if v is not None}


@pytest.fixture
def clinic(db, clinician):
    give_hours(clinician)
    return Client()


@FUZZ
@given(jurisdiction=maybe, start=maybe, days=maybe, clinician=maybe)
def test_api_slots_never_500(clinic, jurisdiction, start, days, clinician):
    response = clinic.get(
        "/api/v1/slots", params(jurisdiction=jurisdiction, start=start, days=days, clinician=clinician)
    )
    assert response.status_code < 500


@FUZZ
@given(jurisdiction=maybe, tz=maybe, start=maybe, clinician=maybe)
def test_booking_pages_never_500(clinic, jurisdiction, tz, start, clinician):
    query = params(jurisdiction=jurisdiction, tz=tz, start=start, clinician=clinician)
    assert clinic.get("/book/", query).status_code < 500
    assert clinic.post("/book/hold/", query).status_code < 500
    assert clinic.post("/book/waitlist/", params(email=start, jurisdiction=jurisdiction)).status_code < 500


@FUZZ
@given(name=maybe, email=maybe, phone=maybe, message=maybe)
def test_contact_form_never_500(clinic, name, email, phone, message):
    response = clinic.post("/contact/", params(name=name, email=email, phone=phone, message=message))
    assert response.status_code < 500


@FUZZ
@given(token=st.text(min_size=1, max_size=60).filter(lambda t: "/" not in t and "\x00" not in t))
def test_manage_links_never_500(clinic, token):
    from urllib.parse import quote

    assert clinic.get(f"/manage/{quote(token, safe='')}/").status_code in (404, 400)


@FUZZ
@given(
    body=st.one_of(
        st.text(max_size=200),
        st.dictionaries(
            st.sampled_from(
                ["jurisdiction", "start", "time_zone", "idempotency_key", "date_of_birth", "clinician"]
            ),
            st.one_of(text, st.integers(), st.none(), st.booleans()),
        ),
    )
)
def test_api_booking_never_500(clinic, patient, body):
    import json

    from clinic.conftest import client_for

    client = client_for(patient)
    payload = body if isinstance(body, str) else json.dumps(body)
    assert client.post("/api/v1/bookings", payload, content_type="application/json").status_code < 500
