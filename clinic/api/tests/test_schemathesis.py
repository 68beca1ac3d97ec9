"""Schemathesis against the API's live schema (served by the app itself, in-process): every
operation, with inputs that fit the schema and inputs that do not, as anonymous and as a
signed-in patient with the CSRF token. Every check must pass: no 5xx, every status and body as
the schema documents them, bad input refused.

Bounded for the suite: ``EXAMPLES`` cases per operation and generation mode (about a minute on
one core). ``SCHEMATHESIS_EXAMPLES`` raises it for a longer run.
"""

from __future__ import annotations

import collections
import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils.crypto import get_random_string
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig

from tests.support.booking import adult, give_hours
from tests.support.personas import client_for

# A request that fits the schema may still break a rule the schema cannot say: a time in the past
# or not on a slot (400), a slot taken (409), a date past the clinic's calendar (422, the range
# is in the field's description). Those answers are documented; anything else fails.
CONFIG = SchemathesisConfig.from_dict(
    {"checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", 400, 401, 403, 404, 409, 422]}}}
)
EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "40"))
# (operation, status) -> responses seen; read by the last test.
SEEN: collections.Counter[tuple[str, int]] = collections.Counter()


@pytest.fixture
def api_schema(db, open_clinic):
    give_hours(open_clinic)
    # As Django's test client does: the request signals must not close the connection that holds
    # the test's transaction (PostgreSQL).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application(), config=CONFIG)
        schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
        yield schema
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def patient_session(patient):
    """The cookies and header of a signed-in patient's browser."""
    client = client_for(adult(patient))
    token = get_random_string(32)
    return {
        "cookies": {"sessionid": client.cookies["sessionid"].value, "csrftoken": token},
        "headers": {"X-CSRFToken": token},
    }


# Every operation of the schema (a test below keeps this list equal to the live schema's).
OPERATIONS = [
    ("GET", "/api/v1/health"),
    ("GET", "/api/v1/slots"),
    ("POST", "/api/v1/bookings"),
    ("GET", "/api/v1/bookings"),
    ("POST", "/api/v1/bookings/{booking_id}/cancel"),
]


def test_the_list_is_every_operation_of_the_live_schema(api_schema):
    live = {(op.ok().method.upper(), op.ok().path) for op in api_schema.get_all_operations()}
    assert live == {(method, "/api/v1" + path.removeprefix("/api/v1")) for method, path in OPERATIONS}


# Operations that take no input have no negative cases.
NO_INPUT = {("GET", "/api/v1/health"), ("GET", "/api/v1/bookings")}
RUNS = [
    (method, path, mode)
    for method, path in OPERATIONS
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode is GenerationMode.POSITIVE or (method, path) not in NO_INPUT
]


@pytest.mark.parametrize("method, path, mode", RUNS)
def test_the_api_answers_every_generated_request_as_its_schema_says(
    api_schema, patient_session, method, path, mode
):
    operation = api_schema[path][method]
    signed_in = path.startswith("/api/v1/bookings")

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    def run(case):
        extra = patient_session if signed_in else {"headers": {}, "cookies": None}
        response = case.call(headers={**(case.headers or {}), **extra["headers"]}, cookies=extra["cookies"])
        SEEN[(f"{method} {path} {mode.value}", response.status_code)] += 1
        case.validate_response(response)

    run()


def test_summary_of_the_run():
    """Prints what the run saw (pytest -s); fails on any 5xx it recorded."""
    if not SEEN:
        pytest.skip("the schemathesis test did not run in this session")
    for (operation, status), count in sorted(SEEN.items()):
        print(f"{operation:55} {status}: {count}")
    print("responses:", sum(SEEN.values()), "5xx:", sum(n for (_, s), n in SEEN.items() if s >= 500))
    assert not [key for key in SEEN if key[1] >= 500]
