import json
import uuid

import pytest
from django.test import Client

from clinic.scheduling.models import Booking
from tests.support.booking import adult
from tests.support.personas import client_for

pytestmark = pytest.mark.django_db


def slots(client: Client, **params):
    query = {"jurisdiction": "US-NY", "start": "2026-12-01", "days": 7, **params}
    return client.get("/api/v1/slots", query)


def post_json(client: Client, url: str, body: dict, **extra):
    return client.post(url, json.dumps(body), content_type="application/json", **extra)


def test_slots_are_utc_with_the_clinicians_public_id_and_name_only(frozen, open_clinic):
    response = slots(Client())
    assert response.status_code == 200
    data = response.json()
    assert data, "expected free slots"
    first = data[0]
    assert first["start"] == "2026-12-01T14:00:00Z"
    assert first["clinician"] == {"id": str(open_clinic.public_id), "name": open_clinic.display_name}
    assert open_clinic.email not in response.content.decode()
    assert set(first) == {"start", "end", "clinician"}


def test_slots_for_one_clinician_and_for_nobody_licensed(frozen, open_clinic, clinician_elsewhere):
    assert slots(Client(), clinician=str(clinician_elsewhere.public_id)).json() == []
    assert slots(Client(), jurisdiction="US-TX").json() == []


@pytest.mark.parametrize(
    "params, status",
    [
        ({"jurisdiction": "XX-YY"}, 422),
        ({"start": "2026-02-31"}, 422),
        ({"start": "tomorrow"}, 422),
        ({"days": 0}, 422),
        ({"days": 400}, 422),
        ({"clinician": "nope"}, 422),
    ],
)
def test_bad_slot_queries_are_4xx_with_a_message(frozen, open_clinic, params, status):
    response = slots(Client(), **params)
    assert response.status_code == status
    assert response.json()


def test_openapi_schema_documents_the_endpoints(client):
    schema = client.get("/api/v1/openapi.json").json()
    assert {"/api/v1/slots", "/api/v1/bookings", "/api/v1/bookings/{booking_id}/cancel"} <= set(
        schema["paths"]
    )
    params = {p["name"] for p in schema["paths"]["/api/v1/slots"]["get"]["parameters"]}
    assert {"jurisdiction", "start", "days", "clinician"} <= params


def test_openapi_schema_lists_what_the_api_really_answers_and_the_jurisdictions_served(client):
    from clinic.accounts.jurisdictions import JURISDICTIONS

    schema = client.get("/api/v1/openapi.json").json()
    paths = schema["paths"]
    for path in ("/api/v1/bookings", "/api/v1/bookings/{booking_id}/cancel"):
        assert {"401", "403", "413", "415", "422"} <= set(paths[path]["post"]["responses"]), path
    assert "401" in paths["/api/v1/bookings"]["get"]["responses"]
    assert "422" in paths["/api/v1/slots"]["get"]["responses"]
    enum = schema["components"]["schemas"]["Jurisdiction"]["enum"]
    assert set(enum) == set(JURISDICTIONS)
    booking_in = schema["components"]["schemas"]["BookingIn"]["properties"]
    assert booking_in["jurisdiction"] == {"$ref": "#/components/schemas/Jurisdiction"}


def test_api_errors_carry_a_code_and_a_detail(patient):
    anonymous = post_json(Client(), "/api/v1/bookings", booking_body("2026-12-01T15:00:00Z"))
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "not_signed_in"
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(patient, backend="django.contrib.auth.backends.ModelBackend")
    no_token = post_json(strict, "/api/v1/bookings", booking_body("2026-12-01T15:00:00Z"))
    assert no_token.status_code == 403 and no_token.json()["code"] == "csrf_failed"
    invalid = slots(Client(), jurisdiction="XX-YY")
    assert invalid.json()["code"] == "invalid_input" and invalid.json()["errors"][0]["loc"] == [
        "query",
        "jurisdiction",
    ]


def booking_body(start: str, **extra) -> dict:
    return {
        "jurisdiction": "US-NY",
        "start": start,
        "time_zone": "America/New_York",
        "idempotency_key": str(uuid.uuid4()),
        **extra,
    }


def test_booking_needs_a_signed_in_patient(frozen, open_clinic, clinician, staff):
    body = booking_body("2026-12-01T15:00:00Z")
    assert post_json(Client(), "/api/v1/bookings", body).status_code == 401
    assert post_json(client_for(clinician), "/api/v1/bookings", body).status_code == 401
    assert post_json(client_for(staff), "/api/v1/bookings", body).status_code == 401
    assert Booking.objects.count() == 0


def test_booking_needs_the_csrf_token(frozen, open_clinic, patient):
    client = Client(enforce_csrf_checks=True)
    client.force_login(adult(patient), backend="django.contrib.auth.backends.ModelBackend")
    response = post_json(client, "/api/v1/bookings", booking_body("2026-12-01T15:00:00Z"))
    assert response.status_code == 403
    assert Booking.objects.count() == 0


def test_book_list_and_cancel_through_the_api(
    frozen, open_clinic, patient, other_patient, django_capture_on_commit_callbacks
):
    client = client_for(adult(patient))
    body = booking_body("2026-12-01T15:00:00Z")
    with django_capture_on_commit_callbacks(execute=True):
        response = post_json(client, "/api/v1/bookings", body)
    assert response.status_code == 201, response.content
    booking = response.json()
    assert booking["start"] == "2026-12-01T15:00:00Z" and booking["status"] == "confirmed"
    # The same idempotency key is a safe retry.
    again = post_json(client, "/api/v1/bookings", body)
    assert again.status_code == 200 and again.json()["id"] == booking["id"]
    assert [b["id"] for b in client.get("/api/v1/bookings").json()] == [booking["id"]]
    assert client_for(other_patient).get("/api/v1/bookings").json() == []
    url = f"/api/v1/bookings/{booking['id']}/cancel"
    assert post_json(client_for(other_patient), url, {}).status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        response = post_json(client, url, {"reason": "changed my mind"})
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert post_json(client, url, {}).status_code == 409


def test_api_booking_rules_match_the_pages(
    frozen, open_clinic, patient, other_patient, django_capture_on_commit_callbacks
):
    client = client_for(adult(patient))
    with django_capture_on_commit_callbacks(execute=True):
        assert post_json(client, "/api/v1/bookings", booking_body("2026-12-01T15:00:00Z")).status_code == 201
    taken = post_json(
        client_for(adult(other_patient)), "/api/v1/bookings", booking_body("2026-12-01T15:00:00Z")
    )
    assert taken.status_code == 409 and taken.json()["code"] == "slot_taken"
    second = post_json(client, "/api/v1/bookings", booking_body("2026-12-02T15:00:00Z"))
    assert second.status_code == 409 and second.json()["code"] == "already_booked"
    young = post_json(
        client_for(other_patient),
        "/api/v1/bookings",
        booking_body("2026-12-02T15:00:00Z", date_of_birth="2010-01-01"),
    )
    assert young.status_code == 403 and young.json()["code"] == "under_18"
    assert Booking.objects.count() == 1


@pytest.mark.parametrize(
    "change, status",
    [
        ({"jurisdiction": "ZZ-ZZ"}, 422),
        ({"time_zone": "Mars/Base"}, 422),
        ({"start": "2026-12-01T15:00:00"}, 400),
        ({"start": "2026-11-01T15:00:00Z"}, 400),
        ({"start": "2026-12-01T15:07:00Z"}, 409),
        ({"start": "yesterday"}, 422),
        ({"idempotency_key": "x"}, 422),
        ({"date_of_birth": "1990-02-30"}, 422),
    ],
)
def test_bad_booking_input_is_refused_and_saves_nothing(frozen, open_clinic, patient, change, status):
    client = client_for(adult(patient))
    response = post_json(client, "/api/v1/bookings", {**booking_body("2026-12-01T15:00:00Z"), **change})
    assert response.status_code == status, response.content
    assert Booking.objects.count() == 0


def test_malformed_json_is_a_4xx(patient):
    client = client_for(patient)
    response = client.post("/api/v1/bookings", "{not json", content_type="application/json")
    assert 400 <= response.status_code < 500


def test_cancelling_an_unknown_or_integer_id_is_404(frozen, patient):
    client = client_for(patient)
    assert post_json(client, f"/api/v1/bookings/{uuid.uuid4()}/cancel", {}).status_code == 404
    assert post_json(client, "/api/v1/bookings/1/cancel", {}).status_code == 422
