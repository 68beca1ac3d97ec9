"""Ten copies of the same booking request (one idempotency key) at the same moment, through real
HTTP against gunicorn with several processes: one booking, and every copy answers with it."""

import datetime as dt
import json
import os
import secrets
import threading
import urllib.error
import urllib.request
import uuid

import pytest

from tests.support.live import get_json, live_server

COPIES = 10


def post(base_url: str, session: str, body: dict) -> tuple[int, dict]:
    csrf = secrets.token_hex(16)
    request = urllib.request.Request(  # noqa: S310 (loopback only)
        f"{base_url}/api/v1/bookings",
        data=json.dumps(body).encode(),
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Cookie": f"sessionid={session}; csrftoken={csrf}",
            "X-CSRFToken": csrf,
            "Referer": base_url + "/",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_simultaneous_repeats_of_one_request_all_answer_with_the_same_booking(database):
    url = os.environ.get("DATABASE_URL", "")
    if database == "postgresql" and not url.startswith("postgres"):
        pytest.skip("runs when DATABASE_URL points at PostgreSQL (.ci/run does)")
    with live_server(url if database == "postgresql" else None, clinicians=1, patients=1) as server:
        tomorrow = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).date().isoformat()
        start = get_json(f"{server.base_url}/api/v1/slots?jurisdiction=US-NY&start={tomorrow}&days=1")[0][
            "start"
        ]
        body = {"jurisdiction": "US-NY", "start": start, "time_zone": "America/New_York",
                "idempotency_key": str(uuid.uuid4())}  # fmt: skip
        barrier = threading.Barrier(COPIES)
        answers: list[tuple[int, dict]] = []
        lock = threading.Lock()

        def send() -> None:
            barrier.wait()
            answer = post(server.base_url, server.sessions[0], body)
            with lock:
                answers.append(answer)

        threads = [threading.Thread(target=send) for _ in range(COPIES)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200] * (COPIES - 1) + [201], statuses
    assert len({answer["id"] for _, answer in answers}) == 1
