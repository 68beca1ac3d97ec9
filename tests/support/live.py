"""A real Mendwell server in subprocesses, for contention tests and benchmarks.

``live_server(database_url)`` migrates a fresh database (a SQLite file, or a new PostgreSQL
database next to the one ``database_url`` names), seeds what the caller asks for through
``manage.py shell``, and serves it with gunicorn: several worker processes with threads, so
requests really run at the same time. ``embedded=True`` serves it instead exactly as ``make run``
does (``bin/serve``: the front, gunicorn's workers and the ASGI process), without its task worker.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON = str(ROOT / ".venv" / "bin" / "python")

SEED = """
import datetime as dt, json
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.utils import timezone
from clinic.accounts.models import Licence, PatientProfile, Role, User
from clinic.scheduling.models import WeeklyHours
from clinic.intake.models import IntakeResponse

staff = User.objects.create_user("bench-staff@example.org", None, role=Role.STAFF)
clinicians = []
for n in range({clinicians}):
    doc = User.objects.create_user(f"doc{{n}}@example.org", None, role=Role.CLINICIAN,
                                   display_name=f"Dr {{n}}", time_zone="America/New_York")
    clinicians.append(doc)
Licence.objects.bulk_create([Licence(clinician=d, jurisdiction="US-NY", number=f"NY-{{d.pk}}",
    expires_on=dt.date(2030, 1, 1), verified_by=staff, verified_at=timezone.now()) for d in clinicians])
WeeklyHours.objects.bulk_create([WeeklyHours(clinician=d, weekday=w, start=dt.time(8), end=dt.time(18))
    for d in clinicians for w in range(7)])
sessions = []
for n in range({patients}):
    p = User.objects.create_user(f"patient{{n}}@example.org", "unused-pass-123", role=Role.PATIENT)
    PatientProfile.objects.create(user=p, date_of_birth="1985-01-01")
    IntakeResponse.objects.create(patient=p, status="submitted", created_at=timezone.now(),
        updated_at=timezone.now(), submitted_at=timezone.now(), triage="routine")
    s = SessionStore()
    s[SESSION_KEY] = str(p.pk)
    s[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    s[HASH_SESSION_KEY] = p.get_session_auth_hash()
    s.create()
    sessions.append(s.session_key)
if {booked_days}:
    import uuid
    from zoneinfo import ZoneInfo
    from clinic.scheduling.models import AppointmentType, Booking
    kind = AppointmentType.objects.get(kind="consultation")
    owner = User.objects.create_user("bench-owner@example.org", None, role=Role.PATIENT)
    zone = ZoneInfo("America/New_York")
    today = timezone.now().astimezone(zone).date()
    rows = []
    for d in clinicians:
        for day in range({booked_days}):
            date = today + dt.timedelta(days=day)
            # Every third 30-minute step of 08:00-18:00 is booked: about a third of the time.
            for step in range(0, 20, 3):
                start = dt.datetime.combine(date, dt.time(8), tzinfo=zone) + dt.timedelta(minutes=30 * step)
                rows.append(Booking(patient=owner, clinician=d, appointment_type=kind, start=start,
                    end=start + dt.timedelta(minutes=20), blocked_start=start,
                    blocked_end=start + dt.timedelta(minutes=30), jurisdiction="US-NY",
                    patient_time_zone="America/New_York", created_at=timezone.now(),
                    idempotency_key=uuid.uuid4().hex, manage_token_hash=uuid.uuid4().hex,
                    ics_uid=uuid.uuid4().hex))
    Booking.objects.bulk_create(rows, batch_size=2000)
print("SEED-JSON" + json.dumps({{"sessions": sessions}}))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    base_url: str
    sessions: list[str]
    env: dict[str, str]


def _run(args: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args[:1])} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


@contextlib.contextmanager
def database(database_url: str | None, var_dir: Path) -> Iterator[str]:
    if not database_url or database_url.startswith("sqlite"):
        yield f"sqlite:///{var_dir / 'bench.sqlite3'}"
        return
    import psycopg

    base, _, _ = database_url.rpartition("/")
    name = f"mendwell_bench_{secrets.token_hex(4)}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def live_server(
    database_url: str | None = None,
    *,
    clinicians: int = 1,
    patients: int = 0,
    booked_days: int = 0,
    workers: int = 4,
    threads: int = 8,
    embedded: bool = False,
) -> Iterator[Server]:
    var_dir = Path(tempfile.mkdtemp(prefix="mendwell-live-"))
    port = free_port()
    try:
        with database(database_url, var_dir) as url:
            env = {
                k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "TASKS_BACKEND"}
            }
            env.update(
                DJANGO_ENV="development",
                DEBUG="false",
                DATABASE_URL=url,
                MENDWELL_VAR_DIR=str(var_dir),
                ALLOWED_HOSTS="127.0.0.1,localhost",
                SITE_URL=f"http://127.0.0.1:{port}",
                LOG_LEVEL="WARNING",
            )
            env.pop("PYTEST_VERSION", None)
            for args in (
                ["create_local_key"],
                ["collectstatic", "--noinput", "-v0"],
                ["migrate", "--noinput", "-v0"],
            ):
                _run(args, env)
            _run(["createcachetable"], env)
            out = _run(
                [
                    "shell",
                    "-c",
                    SEED.format(clinicians=clinicians, patients=patients, booked_days=booked_days),
                ],
                env,
            )
            seeded = json.loads(out.split("SEED-JSON", 1)[1])
            if embedded:
                env.update(PORT=str(port), HOST="127.0.0.1", SERVE_WORKER="0")
                command = [str(ROOT / "bin" / "serve")]
            else:
                command = [
                    str(ROOT / ".venv" / "bin" / "gunicorn"),
                    "clinic.wsgi:application",
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--workers",
                    str(workers),
                    "--threads",
                    str(threads),
                    "--log-level",
                    "warning",
                ]  # fmt: skip
            log = (var_dir / "server.log").open("w")  # a file: a full pipe would stall the server
            process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # bin/serve's children are stopped with it
            )
            try:
                _wait_ready(f"http://127.0.0.1:{port}/healthz", process, var_dir / "server.log")
                yield Server(base_url=f"http://127.0.0.1:{port}", sessions=seeded["sessions"], env=env)
            finally:
                _stop(process)
                log.close()
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)


def _stop(process: subprocess.Popen) -> None:
    """Stop the server and every process it started (bin/serve's trap stops its own children)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _wait_ready(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5):  # noqa: S310 (loopback only)
                return
        except OSError:  # refused, reset or timed out while workers boot
            time.sleep(0.2)
    raise RuntimeError("server did not become ready")


def get_json(url: str) -> object:
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 (loopback only)
        return json.loads(response.read())


def book(base_url: str, session: str, body: dict) -> int:
    """POST /api/v1/bookings as the patient of ``session``; the HTTP status."""
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
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def contend(server: Server, start: str, attempts: int) -> Counter[int]:
    """``attempts`` different patients POST the same slot at the same moment."""
    barrier = threading.Barrier(attempts)
    statuses: list[int] = []
    lock = threading.Lock()

    def attempt(session: str) -> None:
        body = {
            "jurisdiction": "US-NY",
            "start": start,
            "time_zone": "America/New_York",
            "idempotency_key": str(__import__("uuid").uuid4()),
        }
        barrier.wait()
        status = book(server.base_url, session, body)
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=attempt, args=(s,)) for s in server.sessions[:attempts]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Counter(statuses)


if __name__ == "__main__":
    sys.exit("Use bench/run.py")
