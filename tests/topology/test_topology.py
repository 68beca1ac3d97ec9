"""The scale-out topology of deploy/, started on this machine and used through its proxy
(tests/topology/stack.py): nginx in front of two gunicorn and two daphne processes, two RQ
workers with the scheduler, a PostgreSQL database and a Redis database of its own.

1. A video call whose patient and clinician are connected to different ASGI processes: both
   see and hear each other, so the signalling crossed processes through channels-redis.
2. 200 patients book one slot at the same moment through the JSON API: one booking, 199 clean
   conflicts, no server error.
3. A worker is killed with SIGKILL in the middle of the reminder sweep: every reminder still
   goes out exactly once.
4. One gunicorn and one daphne process are restarted, one after the other, during a call and
   during booking traffic: not one request fails, and the call comes back on its own.

How the call is split across processes: nginx gets two extra front doors (ports) besides the
deployed site, each the deployed server block unchanged except that its websockets go to one
ASGI process first, with the other only as a backup. The patient's browser uses one door and
the clinician's the other; the daphne logs show one socket open on each process.

Run with `pytest -m topology` (.ci/run does, after the other suites, which leave it out). It
needs nginx and Chromium: without them it is skipped, except under CI, where it fails.
"""

from __future__ import annotations

import base64
import collections
import datetime as dt
import hashlib
import hmac
import json
import os
import random
import re
import secrets
import shutil
import struct
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.topology.stack import NGINX, REDIS_URL, Topology

pytestmark = pytest.mark.topology

CHROMIUM = Path("/usr/bin/chromium")
RACERS = 200
SPOOFED = "203.0.113.7"
REMINDERS = 300


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}


def _missing(what: str, fix: str) -> None:
    message = f"TOPOLOGY TEST: {what} is missing. {fix}"
    if _in_ci():
        pytest.fail(message + " CI is set, so this is a failure, not a skip.", pytrace=False)
    pytest.skip(message)


# The running topology, the people in it, the browser ---------------------------------------


@pytest.fixture(scope="module")
def stack() -> Iterator[Topology]:
    if not (shutil.which("nginx") or Path(NGINX).exists()):
        _missing("nginx", "Install Debian's nginx (apt-get install nginx); .ci/run does.")
    began = time.monotonic()
    with Topology() as running:
        print(f"\ntopology up in {time.monotonic() - began:.1f}s at {running.base_url} ({running.dir})")
        yield running


_PATIENTS = """
import datetime as dt
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.utils import timezone
from clinic.accounts.models import Licence, PatientProfile, Role, User
from clinic.intake.models import IntakeResponse
from clinic.scheduling.models import WeeklyHours

staff = User.objects.get(email="jordan.lee@demo.mendwell.example")
doc = User.objects.create_user("racing.doctor@example.org", None, role=Role.CLINICIAN,
    display_name="Dr Racing", time_zone="America/New_York")
Licence.objects.create(clinician=doc, jurisdiction="US-NY", number="NY-RACING",
    expires_on=dt.date(2030, 1, 1), verified_by=staff, verified_at=timezone.now())
for weekday in range(7):
    WeeklyHours.objects.create(clinician=doc, weekday=weekday, start=dt.time(8), end=dt.time(18))
sessions = []
now = timezone.now()
for n in range(COUNT):
    patient = User.objects.create_user(f"racer{n}@example.org", None, role=Role.PATIENT)
    PatientProfile.objects.create(user=patient, date_of_birth="1985-01-01")
    IntakeResponse.objects.create(patient=patient, status="submitted", created_at=now, updated_at=now,
        submitted_at=now, triage="routine")
    session = SessionStore()
    session[SESSION_KEY] = str(patient.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = patient.get_session_auth_hash()
    session.create()
    sessions.append(session.session_key)
result = {"doctor": str(doc.public_id), "sessions": sessions}
"""


@dataclass
class Racers:
    doctor: str
    sessions: list[str]


@pytest.fixture(scope="module")
def racers(stack: Topology) -> Racers:
    """RACERS signed-in patients (adult, questionnaire done) and a doctor licensed in New York
    who works 08:00-18:00 every day, whom nobody else books."""
    made = stack.shell(f"COUNT = {RACERS}\n{_PATIENTS}")
    assert isinstance(made, dict)
    return Racers(doctor=made["doctor"], sessions=made["sessions"])


@pytest.fixture(scope="module")
def media_browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        _missing(str(CHROMIUM), "Install Debian's chromium (apt-get install chromium); .ci/run does.")
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM_ARGS
    from tests.browser.test_video_visit import MEDIA_ARGS

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, *MEDIA_ARGS]
        )
        try:
            yield browser
        finally:
            browser.close()


def door(stack: Topology, asgi: int) -> Any:
    """The browser tests' Server, aimed at the front door whose websockets go to ASGI process
    ``asgi`` first; its manage.py runs with the topology's own environment."""
    from tests.browser.conftest import Server

    return Server(base_url=stack.door_url(asgi), var_dir=stack.var_dir, env=stack.env)


def totp_now(secret: str, at: float) -> str:
    """RFC 6238 as allauth checks it (SHA-1, 30 s, 6 digits)."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", int(at) // 30), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return f"{(struct.unpack('>I', digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


@pytest.fixture(scope="module")
def maya_state(stack: Topology, media_browser: Any) -> dict[str, Any]:
    """Dr Maya Chen signed in once (password, then her authenticator code); her cookies serve
    every door. The code is computed here from the secret seed_demo printed: `manage.py totp`
    is refused in production, and its start-up time can carry a code past its 30 s step."""
    from playwright.sync_api import expect

    from tests.browser.conftest import _parse_totp_secrets
    from tests.browser.test_video_visit import DEMO_PASSWORD, DESKTOP, MAYA

    secret = _parse_totp_secrets(stack.seed_output)[MAYA]
    server = door(stack, 2)
    context = media_browser.new_context(base_url=server.base_url, viewport=DESKTOP)
    try:
        page = context.new_page()
        page.goto("/accounts/login/")
        page.locator("#id_login").fill(MAYA)
        page.locator("#id_password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign In", exact=True).click()
        expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/"))
        if time.time() % 30 > 20:  # a fresh step, so the code is still valid when it arrives
            time.sleep(30 - time.time() % 30 + 0.5)
        page.locator("#id_code").fill(totp_now(secret, time.time()))
        page.get_by_role("button", name="Sign In", exact=True).click()
        expect(page).to_have_url(f"{server.base_url}/clinician/")
        return context.storage_state()  # type: ignore[no-any-return]
    finally:
        context.close()


# Watching the call --------------------------------------------------------------------------


@dataclass
class Sockets:
    """The websockets a page opened and what went through them: when each was created, said
    hello (it was open), received an offer (the other side negotiated), closed."""

    events: list[tuple[float, str, str]] = field(default_factory=list)

    def watch(self, page: Any) -> None:
        def opened(ws: Any) -> None:
            self.events.append((time.monotonic(), "created", ws.url))
            ws.on("framesent", lambda frame: self._frame(ws.url, frame, '"hello"', "hello"))
            ws.on("framereceived", lambda frame: self._frame(ws.url, frame, '"offer"', "offer received"))
            ws.on("close", lambda _: self.events.append((time.monotonic(), "closed", ws.url)))

        page.on("websocket", opened)

    def _frame(self, url: str, frame: Any, needle: str, kind: str) -> None:
        if needle in str(frame):
            self.events.append((time.monotonic(), kind, url))

    def count(self, kind: str) -> int:
        return sum(1 for _, what, _ in self.events if what == kind)


def daphne_sockets(stack: Topology, path: str) -> dict[str, int]:
    """How many websockets on ``path`` each ASGI process holds open now, from its access log."""
    open_now = {}
    for n in range(1, stack.asgi + 1):
        text = stack.log(f"asgi-{n}").read_text(errors="replace")
        open_now[f"asgi-{n}"] = text.count(f'"WSCONNECT {path}"') - text.count(f'"WSDISCONNECT {path}"')
    return open_now


def nginx_websockets(stack: Topology, path: str) -> list[tuple[int, str]]:
    """(front door port, upstream addresses) of every finished websocket on ``path``."""
    found = []
    for line in (stack.dir / "nginx" / "access.log").read_text().splitlines():
        hit = re.match(r"\S+ (\d+) \"GET (\S+) [^\"]*\" 101 upstream=(.+?) upstream_status=", line)
        if hit and hit.group(2) == path:
            found.append((int(hit.group(1)), hit.group(3)))
    return found


def cancel(stack: Topology, booking: str) -> None:
    """The visit is over: free the clinician's time for the next test's visit."""
    stack.shell(
        "from clinic.scheduling.models import Booking\n"
        f"result = Booking.objects.filter(public_id={booking!r}).update(status='cancelled')"
    )


class Call:
    """A fresh consultation with Dr Maya Chen a few minutes from now; the patient's browser on
    door 1 (ASGI process 1 first), the clinician's on door 2 (ASGI process 2 first)."""

    def __init__(self, stack: Topology, browser: Any, maya_state: dict[str, Any], label: str) -> None:
        from tests.browser.test_video_visit import Logs, book

        self.stack, self.browser, self.maya_state = stack, browser, maya_state
        self.patient_door, self.clinician_door = door(stack, 1), door(stack, 2)
        self.booked = book(self.patient_door, label)
        self.logs = Logs()
        self.sockets = {"patient": Sockets(), "clinician": Sockets()}
        self._stack = ExitStack()

    def __enter__(self) -> Call:
        from playwright.sync_api import expect

        from tests.browser.test_video_visit import admit, contexts, patient_to_waiting_room

        try:
            new_patient = self._stack.enter_context(contexts(self.browser, self.patient_door))
            new_clinician = self._stack.enter_context(contexts(self.browser, self.clinician_door))
            self.patient = new_patient("patient", self.logs)
            self.clinician = new_clinician("clinician", self.logs, storage_state=self.maya_state)
            self.sockets["patient"].watch(self.patient)
            self.sockets["clinician"].watch(self.clinician)
            patient_to_waiting_room(self.patient, self.patient_door, self.booked)
            admit(self.clinician, self.booked)
            expect(self.patient.locator("#call")).to_be_visible(timeout=10_000)
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()
        cancel(self.stack, self.booked.booking)

    @property
    def pages(self) -> dict[str, Any]:
        return {"patient": self.patient, "clinician": self.clinician}

    def both_play(self, **options: Any) -> dict[str, Any]:
        from tests.browser.test_video_visit import both_play

        return both_play(self.pages, self.logs, **options)  # type: ignore[no-any-return]


# HTTP through the proxy ---------------------------------------------------------------------


def request(
    url: str, *, session: str = "", body: dict | None = None, headers: dict | None = None, timeout: float = 60
) -> int | str:
    """The HTTP status, or the name of the error when there was no HTTP answer at all."""
    headers = {"Accept": "application/json", **(headers or {})}
    data = None
    if session:
        csrf = secrets.token_hex(16)
        headers.update(Cookie=f"sessionid={session}; csrftoken={csrf}", **{"X-CSRFToken": csrf})
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, headers=headers, method="POST" if data else "GET")  # noqa: S310
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:  # noqa: S310 (loopback only)
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError as exc:
        return type(exc).__name__


def doctor_slots(stack: Topology, doctor: str, days: int = 3) -> list[str]:
    tomorrow = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).date().isoformat()
    with urllib.request.urlopen(  # noqa: S310 (loopback only)
        f"{stack.base_url}/api/v1/slots?jurisdiction=US-NY&start={tomorrow}&days={days}&clinician={doctor}",
        timeout=30,
    ) as response:
        slots = json.loads(response.read())
    assert slots, "the racing doctor has no free slot"
    return [slot["start"] for slot in slots]


def booking_body(doctor: str, start: str) -> dict[str, str]:
    return {
        "jurisdiction": "US-NY",
        "start": start,
        "time_zone": "America/New_York",
        "clinician": doctor,
        "idempotency_key": str(uuid.uuid4()),
    }


@dataclass
class Traffic:
    """Visitors and patients using the site through the proxy until stopped: the home page,
    the slot page, the slots API, static files and bookings. Every answer is recorded."""

    stack: Topology
    racers: Racers
    slots: list[str]
    threads: int = 12
    results: list[tuple[str, int | str, float]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _workers: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        for n in range(self.threads):
            thread = threading.Thread(target=self._run, args=(random.Random(n),), daemon=True)  # noqa: S311
            thread.start()
            self._workers.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._workers:
            thread.join(timeout=120)

    def _run(self, rng: random.Random) -> None:
        base = self.stack.base_url
        day = self.slots[0][:10]
        while not self._stop.is_set():
            kind = rng.choice(["home", "slot page", "slots api", "static", "booking"])
            began = time.monotonic()
            if kind == "home":
                status = request(f"{base}/")
            elif kind == "slot page":
                status = request(f"{base}/book/?jurisdiction=US-NY&tz=America/New_York")
            elif kind == "slots api":
                status = request(f"{base}/api/v1/slots?jurisdiction=US-NY&start={day}&days=1")
            elif kind == "static":
                status = request(f"{base}/static/css/site.css")
            else:
                body = booking_body(self.racers.doctor, rng.choice(self.slots))
                status = request(
                    f"{base}/api/v1/bookings", session=rng.choice(self.racers.sessions), body=body
                )
            self.results.append((kind, status, time.monotonic() - began))

    def failures(self) -> list[tuple[str, int | str, float]]:
        """Answers nobody should ever get: a server error, or no HTTP answer at all."""
        return [r for r in self.results if not isinstance(r[1], int) or r[1] >= 500]

    def summary(self) -> dict[str, Any]:
        by_kind: dict[str, collections.Counter[int | str]] = collections.defaultdict(collections.Counter)
        for kind, status, _ in self.results:
            by_kind[kind][status] += 1
        return {
            "requests": len(self.results),
            "slowest_s": round(max((r[2] for r in self.results), default=0), 2),
            **{kind: dict(counts) for kind, counts in sorted(by_kind.items())},
        }


# 1. The call across two ASGI processes ------------------------------------------------------


def test_video_call_across_two_asgi_processes(stack: Topology, media_browser: Any, maya_state: Any) -> None:
    with Call(stack, media_browser, maya_state, "split") as call:
        result = call.both_play()
        open_now = daphne_sockets(stack, call.booked.ws_path)
        print(f"\nboth remote videos play after {result['seconds']}s; sockets open per process: {open_now}")
        assert open_now == {"asgi-1": 1, "asgi-2": 1}, open_now
        assert not call.logs.errors(), "\n".join(call.logs)
    # The sockets are closed now, so nginx has logged them: which door went to which process.
    routes = nginx_websockets(stack, call.booked.ws_path)
    print(f"nginx: websockets of the call (door, upstream): {routes}")
    ports = {f"127.0.0.1:{port}": n for n, port in enumerate(stack.asgi_ports, 1)}
    assert {(port, ports[up]) for port, up in routes} == {(stack.door_ports[1], 1), (stack.door_ports[2], 2)}


# 2. Racing bookings -------------------------------------------------------------------------


def test_two_hundred_racing_bookings_of_one_slot(stack: Topology, racers: Racers) -> None:
    start = doctor_slots(stack, racers.doctor, days=1)[0]
    barrier = threading.Barrier(RACERS)
    statuses: list[int | str] = []

    def race(session: str) -> None:
        body = booking_body(racers.doctor, start)
        barrier.wait()
        # A client claiming another address: nginx must overwrite it, not pass it on.
        spoofed = {"X-Forwarded-For": SPOOFED, "X-Request-ID": "spoofed"}
        url = f"{stack.base_url}/api/v1/bookings"
        statuses.append(request(url, session=session, body=body, headers=spoofed))

    threads = [threading.Thread(target=race, args=(s,)) for s in racers.sessions]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    took = time.monotonic() - began
    counts = collections.Counter(statuses)
    print(f"\n{RACERS} racing bookings of {start}: {dict(counts)} in {took:.1f}s")
    assert counts == {201: 1, 409: RACERS - 1}, counts
    booked = stack.shell(
        "from clinic.scheduling.models import Booking\n"
        f"result = Booking.objects.filter(clinician__public_id={racers.doctor!r}, start={start!r}).count()"
    )
    assert booked == 1
    assert start not in doctor_slots(stack, racers.doctor, days=1)
    # The audit rows of the booking name the address nginx saw and nginx's own request id.
    seen = stack.shell(
        "from clinic.audit.models import AuditEvent\n"
        "rows = AuditEvent.objects.filter(actor__email__startswith='racer', ip__isnull=False)\n"
        "result = sorted({(row.ip, len(row.request_id)) for row in rows})"
    )
    print(f"audit rows of the race: (address, request id length) {seen}")
    assert seen == [["127.0.0.1", 32]], seen
    served = collections.Counter(
        re.search(r"upstream=(\S+)", line).group(1)  # type: ignore[union-attr]
        for line in (stack.dir / "nginx" / "access.log").read_text().splitlines()
        if '"POST /api/v1/bookings' in line
    )
    print(f"nginx: the bookings went to {dict(served)}")


# 3. Reminders with a worker killed mid-sweep ------------------------------------------------


_DUE = """
import datetime as dt, uuid
from django.utils import timezone
from clinic.accounts.models import Role, User
from clinic.scheduling.models import AppointmentType, Booking
kind = AppointmentType.objects.get(kind="consultation")
now = timezone.now()
n = 0
for c in range(CLINICIANS):
    doc = User.objects.create_user(f"reminding.doctor{c}@example.org", None, role=Role.CLINICIAN,
        display_name=f"Dr Reminder {c}")
    for i in range(PER_CLINICIAN):
        patient = User.objects.create_user(f"reminded{n}@example.org", None, role=Role.PATIENT)
        n += 1
        start = now + dt.timedelta(hours=2, minutes=30 * i)
        Booking.objects.create(patient=patient, clinician=doc, appointment_type=kind, start=start,
            end=start + dt.timedelta(minutes=20), blocked_start=start,
            blocked_end=start + dt.timedelta(minutes=30), jurisdiction="US-NY",
            patient_time_zone="America/New_York", created_at=now - dt.timedelta(days=3),
            idempotency_key=uuid.uuid4().hex, manage_token_hash=uuid.uuid4().hex, ics_uid=uuid.uuid4().hex)
result = n
"""


def claimed(stack: Topology) -> int:
    import psycopg

    with psycopg.connect(stack.database_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM scheduling_remindersent r JOIN scheduling_booking b ON b.id = r.booking_id"
            " JOIN accounts_user u ON u.id = b.patient_id WHERE u.email LIKE 'reminded%%'"
        ).fetchone()
    return int(row[0]) if row else 0


def reminders_emailed(stack: Topology) -> collections.Counter[str]:
    sent: collections.Counter[str] = collections.Counter()
    for path in stack.mail_dir.glob("*.log") if stack.mail_dir.is_dir() else []:
        text = path.read_text(errors="replace")
        for message in text.split("\n" + "-" * 79 + "\n"):
            if "Reminder: your video appointment" in message:
                sent.update(re.findall(r"^To: (reminded\d+@example\.org)$", message, re.MULTILINE))
    return sent


def sweeping_worker(stack: Topology) -> str | None:
    """The name of our RQ worker process running the reminder sweep right now, if any."""
    import redis
    from rq import Worker

    for worker in Worker.all(connection=redis.Redis.from_url(REDIS_URL)):
        job = worker.get_current_job()
        if job is not None and job.func_name.endswith(".reminder_sweep"):
            for name, proc in stack.processes.items():
                if name.startswith("rq-") and proc.alive() and proc.pid == worker.pid:
                    return name
    return None


def test_reminders_exactly_once_with_a_worker_killed_mid_sweep(stack: Topology) -> None:
    due = stack.shell(f"CLINICIANS, PER_CLINICIAN = 15, {REMINDERS // 15}\n{_DUE}")
    assert due == REMINDERS
    # The set-up unit's last step starts the sweep, which then re-queues itself every minute.
    began = time.monotonic()
    stack.start_reminders()
    killed, at_kill = None, 0
    while time.monotonic() - began < 60 and killed is None:
        at_kill = claimed(stack)
        if at_kill >= REMINDERS // 5:
            killed = sweeping_worker(stack)
            if killed is not None:
                stack.processes[killed].kill()
                at_kill = claimed(stack)
        time.sleep(0.005)
    assert killed is not None, f"no worker was caught sweeping ({claimed(stack)} of {REMINDERS} claimed)"
    assert 0 < at_kill < REMINDERS, f"the sweep was not killed half-way: {at_kill} of {REMINDERS} claimed"
    time.sleep(3)
    stalled = claimed(stack)
    delivered_before = sum(reminders_emailed(stack).values())
    # systemd restarts the worker (Restart=always). The killed sweep never queued its next run,
    # so the sweep is started again (re-running the set-up unit) for the rest.
    stack.processes[killed].start()
    stack.wait_ready(killed)
    stack.start_reminders()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        sent = reminders_emailed(stack)
        if claimed(stack) == REMINDERS and sum(sent.values()) >= REMINDERS:
            break
        time.sleep(0.5)
    time.sleep(2)  # anything sent twice would arrive now
    sent = reminders_emailed(stack)
    took = time.monotonic() - began
    twice = {who: n for who, n in sent.items() if n > 1}
    print(
        f"\n{REMINDERS} reminders due; {killed} killed with {at_kill} claimed; {stalled} claimed 3 s later "
        f"(the sweep's chain ended with it); {delivered_before} of those delivered by the other worker; "
        f"after the restart: {claimed(stack)} claimed, {len(sent)} people emailed, "
        f"{sum(sent.values())} reminders, {len(twice)} sent twice; {took:.1f}s in all"
    )
    assert not twice, f"reminders sent more than once: {twice}"
    assert claimed(stack) == REMINDERS
    assert sorted(sent) == sorted(f"reminded{n}@example.org" for n in range(REMINDERS))


# 4. Rolling restart during a call and bookings ----------------------------------------------


def test_rolling_restart_during_a_call_and_booking_traffic(
    stack: Topology, media_browser: Any, maya_state: Any, racers: Racers
) -> None:
    with Call(stack, media_browser, maya_state, "restart") as call:
        call.both_play()
        patient = call.sockets["patient"]
        traffic = Traffic(stack, racers, doctor_slots(stack, racers.doctor, days=3))
        traffic.start()
        try:
            time.sleep(2)
            wsgi_took = stack.restart("gunicorn-1")
            time.sleep(2)
            closed, offers = patient.count("closed"), patient.count("offer received")
            asgi_took = stack.restart("asgi-1")  # the patient's socket is on this one
            time.sleep(2)
        finally:
            traffic.stop()
        # The patient's page reconnects by itself (through door 1: to process 2 while 1 is
        # down), says hello again, and the clinician negotiates a new connection over it.
        again = call.both_play()
        print(
            f"\nrestarts (seconds to stop, then to answer again): gunicorn-1 {wsgi_took[0]:.1f} + "
            f"{wsgi_took[1]:.1f}, asgi-1 {asgi_took[0]:.1f} + {asgi_took[1]:.1f}; "
            f"traffic meanwhile: {traffic.summary()}"
            f"\npatient's sockets: {patient.count('created')} opened, {patient.count('closed')} closed, "
            f"{patient.count('offer received')} offers received; both play again ({again['seconds']}s to "
            f"check); sockets open now: {daphne_sockets(stack, call.booked.ws_path)}"
        )
        assert traffic.failures() == [], traffic.failures()[:20]
        assert len(traffic.results) > 100, traffic.summary()
        assert patient.count("closed") == closed + 1, patient.events
        assert patient.count("offer received") > offers, patient.events
        assert not call.logs.errors(), "\n".join(call.logs)
    refused = (stack.dir / "nginx" / "error.log").read_text().count("while connecting to upstream")
    print(f"nginx: {refused} connections refused by a stopped process, each passed to the other one")
