"""200 patients ask for the same slot at the same moment, through real HTTP: on SQLite against the
server ``make run`` starts (bin/serve: the front, gunicorn's workers, the ASGI process), on
PostgreSQL against gunicorn with several processes and threads. Exactly one booking, 199 clean
conflicts, no errors."""

import datetime as dt
import os

import pytest

from tests.support.live import contend, get_json, live_server

ATTEMPTS = 200


def first_slot(base_url: str) -> str:
    tomorrow = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).date().isoformat()
    slots = get_json(f"{base_url}/api/v1/slots?jurisdiction=US-NY&start={tomorrow}&days=1")
    assert isinstance(slots, list) and slots
    return slots[0]["start"]


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_two_hundred_concurrent_bookings_of_one_slot(database):
    url = os.environ.get("DATABASE_URL", "")
    if database == "postgresql" and not url.startswith("postgres"):
        pytest.skip("runs when DATABASE_URL points at PostgreSQL (.ci/run does)")
    embedded = database == "sqlite"
    with live_server(
        url if not embedded else None, clinicians=1, patients=ATTEMPTS, embedded=embedded
    ) as server:
        start = first_slot(server.base_url)
        statuses = contend(server, start, ATTEMPTS)
        assert statuses == {201: 1, 409: ATTEMPTS - 1}, statuses
        remaining = get_json(f"{server.base_url}/api/v1/slots?jurisdiction=US-NY&start={start[:10]}&days=1")
        assert start not in [slot["start"] for slot in remaining]
