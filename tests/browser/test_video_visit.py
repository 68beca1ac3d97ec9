"""The video visit in a real browser, with Chromium's fake camera and microphone: the patient's
device check, where-are-you and waiting room; the clinician's dashboard and Admit; both sides
seeing and hearing each other; joining at the same moment; reloading mid-call; the wrong people
kept out; and the page before the visit opens."""

from __future__ import annotations

import datetime as dt
import json
import re
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Error, Page, expect

from tests.browser.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    PHONE,
    SHOTS_DIR,
    Server,
    manage,
    unused_totp_code,
)

DEMO_PASSWORD = "mendwell-demo-2026"
MAYA = "maya.chen@demo.mendwell.example"
DANIEL = "daniel.okafor@demo.mendwell.example"
SAM = "sam.patel@demo.mendwell.example"
CLINICIANS = {MAYA, DANIEL}  # they sign in with a TOTP code too
NEW_YORK = ZoneInfo("America/New_York")
MEDIA_ARGS = [
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
]
PLAY_TIMEOUT = 20.0
ADDRESS = "350 Fifth Avenue, Apt 12\nNew York, NY 10118"
CALLBACK = "+1 212 555 0188"


# The browser with a fake camera and microphone, and the people in it -----------------------


@pytest.fixture(scope="module")
def media_browser(browser: Browser) -> Iterator[Browser]:
    """A second Chromium from the same Playwright, granting its fake camera and microphone."""
    launched = browser.browser_type.launch(executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, *MEDIA_ARGS])
    try:
        yield launched
    finally:
        launched.close()


@dataclass
class Booked:
    booking: str
    visit_url: str
    ws_path: str
    patient_email: str
    patient_name: str
    start: dt.datetime

    def local_time(self, when: dt.datetime | None = None) -> str:
        """As the page writes it in the patient's zone (Django's "g:i A")."""
        return (when or self.start).astimezone(NEW_YORK).strftime("%-I:%M %p")


_BOOK = """
import datetime as dt, json, uuid
from allauth.account.models import EmailAddress
from django.utils import timezone
from clinic.accounts.models import User
from clinic.intake.models import IntakeResponse
from clinic.scheduling.models import AppointmentType, Booking, BookingStatus
from clinic.visits.models import Visit
a = json.loads(ARGS)
now = timezone.now()
patient = User.objects.create_user(a["email"], a["password"], role="patient", display_name=a["name"])
EmailAddress.objects.create(user=patient, email=a["email"], verified=True, primary=True)
clinician = User.objects.get(email=a["clinician"])
kind = AppointmentType.objects.get(kind="consultation")
start = (now + dt.timedelta(minutes=a["minutes"])).replace(microsecond=0)
intake = IntakeResponse.objects.create(patient=patient, status="submitted", created_at=now, updated_at=now,
    submitted_at=now, triage="routine")
end = start + kind.duration
booking = Booking.objects.create(patient=patient, clinician=clinician, appointment_type=kind, start=start,
    end=end, blocked_start=start, blocked_end=end + dt.timedelta(minutes=10), jurisdiction="US-NY",
    patient_time_zone="America/New_York", status=BookingStatus.CONFIRMED, created_at=now, intake=intake,
    idempotency_key=uuid.uuid4().hex, manage_token_hash=uuid.uuid4().hex, ics_uid=uuid.uuid4().hex)
from clinic.scheduling.availability import schedule_changed
schedule_changed([clinician])  # past the actions: the free times must hear of it
if a["admitted"]:
    Visit.objects.create(booking=booking, attested_jurisdiction="US-NY", attested_address=a["address"],
        callback_phone=a["phone"], attested_at=now, waiting_since=now, admitted_at=now)
print("BOOKED " + json.dumps({"booking": str(booking.public_id), "start": start.isoformat()}))
"""


def book(server: Server, label: str, *, minutes: int = 3, admitted: bool = False) -> Booked:
    """A fresh patient with a confirmed consultation with Dr Maya Chen ``minutes`` from now and a
    submitted questionnaire; with ``admitted``, already in New York and let in."""
    tag = uuid.uuid4().hex[:8]
    email = f"visit.{label}.{tag}@example.com"
    name = f"Visit {label.capitalize()} {tag[:4]}"
    args = {
        "email": email,
        "password": DEMO_PASSWORD,
        "name": name,
        "clinician": MAYA,
        "minutes": minutes,
        "admitted": admitted,
        "address": ADDRESS,
        "phone": CALLBACK,
    }
    output = manage(server, "shell", "-c", f"ARGS = {json.dumps(json.dumps(args))}\n{_BOOK}")
    found = re.search(r"^BOOKED (.+)$", output, re.MULTILINE)
    assert found, f"the booking snippet printed {output!r}"
    made = json.loads(found.group(1))
    return Booked(
        booking=made["booking"],
        visit_url=f"/visits/{made['booking']}/",
        ws_path=f"/ws/visits/{made['booking']}/",
        patient_email=email,
        patient_name=name,
        start=dt.datetime.fromisoformat(made["start"]),
    )


def audit_of(server: Server, booked: Booked, *actions: str) -> list[tuple[str, str, str]]:
    """(action, actor email, reason) of the audit events about ``booked``'s patient."""
    code = (
        "import json\nfrom clinic.audit.models import AuditEvent\n"
        f"rows = AuditEvent.objects.filter(patient__email={booked.patient_email!r}, "
        f"action__in={list(actions)!r})"
        ".order_by('at').values_list('action', 'actor_label', 'reason')\n"
        "print('AUDIT ' + json.dumps(list(rows)))"
    )
    output = manage(server, "shell", "-c", code)
    found = re.search(r"^AUDIT (.+)$", output, re.MULTILINE)
    assert found, output
    return [tuple(row) for row in json.loads(found.group(1))]  # type: ignore[misc]


class Logs(list[str]):
    """Console warnings and errors and uncaught exceptions of the pages, for failure messages."""

    def watch(self, page: Page, who: str) -> None:
        page.on(
            "console",
            lambda m: (
                self.append(f"{who} console.{m.type}: {m.text}") if m.type in {"warning", "error"} else None
            ),
        )
        page.on("pageerror", lambda e: self.append(f"{who} PAGE ERROR: {e}"))

    def errors(self) -> list[str]:
        return [line for line in self if "PAGE ERROR" in line]


@contextmanager
def contexts(browser: Browser, server: Server) -> Iterator[Any]:
    stack = ExitStack()

    def new(who: str, logs: Logs, **options: Any) -> Page:
        options.setdefault("viewport", DESKTOP)
        context = browser.new_context(base_url=server.base_url, **options)
        stack.callback(context.close)
        context.set_default_timeout(10_000)
        context.set_default_navigation_timeout(15_000)
        page = context.new_page()
        logs.watch(page, who)
        return page

    with stack:
        yield new


def sign_in(page: Page, server: Server, email: str) -> None:
    page.goto("/accounts/login/")
    page.locator("#id_login").fill(email)
    page.locator("#id_password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign In", exact=True).click()
    if email in CLINICIANS:
        expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/"))
        page.locator("#id_code").fill(unused_totp_code(server, email))
        page.get_by_role("button", name="Sign In", exact=True).click()
        expect(page).to_have_url(f"{server.base_url}/clinician/")
    else:
        expect(page).not_to_have_url(re.compile(r"/accounts/login/"))


@pytest.fixture(scope="module")
def maya_state(media_browser: Browser, server: Server) -> dict[str, Any]:
    """Dr Maya Chen signed in once, password then TOTP, kept as storage state so each test's
    context starts signed in (a second sign-in within 30 s would have to wait for a new code)."""
    context = media_browser.new_context(base_url=server.base_url, viewport=DESKTOP)
    try:
        page = context.new_page()
        sign_in(page, server, MAYA)
        expect(page.get_by_role("heading", level=1)).to_contain_text("Good to see you")
        return context.storage_state()  # type: ignore[return-value]
    finally:
        context.close()


def shots(page: Page, name: str) -> int:
    """Desktop and phone-size full-page screenshots (visit-NAME.png and -phone.png in the screenshots folder);
    returns how wide the page is at phone size (wider than the phone means sideways scrolling)."""
    SHOTS_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS_DIR / f"visit-{name}.png"), full_page=True)
    before = page.viewport_size
    page.set_viewport_size(PHONE)
    width = int(page.evaluate("() => document.documentElement.scrollWidth"))
    page.screenshot(path=str(SHOTS_DIR / f"visit-{name}-phone.png"), full_page=True)
    if before:
        page.set_viewport_size(before)
    return width


# Steps -------------------------------------------------------------------------------------


_WS_PROBE = """
(path) => new Promise((resolve) => {
  const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + path);
  const timer = setTimeout(() => { resolve({ event: "timeout" }); ws.close(); }, 8000);
  ws.onopen = () => { clearTimeout(timer); resolve({ event: "open" }); ws.close(); };
  ws.onclose = (e) => { clearTimeout(timer); resolve({ event: "close", code: e.code }); };
})
"""


_WS_FIRST = """
(path) => new Promise((resolve) => {
  const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + path);
  let opened = false;
  const timer = setTimeout(() => { resolve({ event: opened ? "open" : "timeout" }); ws.close(); }, 8000);
  ws.onopen = () => { opened = true; };
  ws.onmessage = (e) => {
    clearTimeout(timer);
    resolve({ event: "open", first: JSON.parse(e.data) });
    ws.close();
  };
  ws.onclose = (e) => { clearTimeout(timer); resolve({ event: "close", code: e.code }); };
})
"""


def waiting_socket(page: Page, path: str) -> dict[str, Any]:
    """Open a WebSocket to ``path`` from ``page`` and return the first message it receives."""
    return page.evaluate(_WS_FIRST, path)  # type: ignore[no-any-return]


def open_websocket(page: Page, path: str) -> dict[str, Any]:
    """Open a WebSocket to ``path`` from ``page``: {"event": "open"} or {"event": "close", ...}."""
    return page.evaluate(_WS_PROBE, path)  # type: ignore[no-any-return]


def device_check(page: Page) -> None:
    page.get_by_role("button", name="Test camera and microphone").click()
    expect(page.locator("#device-status")).to_contain_text("Your camera and microphone work")
    page.wait_for_function("() => document.getElementById('preview').videoWidth > 0", timeout=10_000)
    # The fake microphone beeps: the level must move off zero at some point.
    page.wait_for_function("() => document.getElementById('mic-level').value > 0", timeout=10_000)


def attest_new_york(page: Page) -> None:
    page.get_by_label("Where are you right now?", exact=True).select_option(label="New York")
    page.get_by_label("The address where you are").fill(ADDRESS)
    page.get_by_label("A phone number to call you back if the video drops").fill(CALLBACK)
    page.get_by_role("button", name="Go to the waiting room").click()


def in_waiting_room(page: Page, booked: Booked) -> None:
    room = page.locator("#waiting-room")
    expect(room).to_contain_text("will let you in")
    expect(room).to_contain_text(f"Your appointment is at {booked.local_time()}")


def patient_to_waiting_room(page: Page, server: Server, booked: Booked) -> None:
    sign_in(page, server, booked.patient_email)
    page.goto(booked.visit_url)
    attest_new_york(page)
    in_waiting_room(page, booked)


def admit(clinician: Page, booked: Booked) -> None:
    clinician.goto(booked.visit_url)
    expect(clinician.locator("#patient-status")).to_contain_text("is waiting")
    clinician.get_by_role("button", name="Admit").click()
    expect(clinician.locator("#call")).to_be_visible()


_REMOTE = """() => {
  const v = document.getElementById("remote");
  if (!v) { return null; }
  const q = v.getVideoPlaybackQuality();
  return { width: v.videoWidth, time: v.currentTime, frames: q.totalVideoFrames,
           stream: v.srcObject ? v.srcObject.id : null, paused: v.paused,
           state: (document.getElementById("call-state") || {}).textContent };
}"""


def remote(page: Page) -> dict[str, Any] | None:
    try:
        return page.evaluate(_REMOTE)  # type: ignore[no-any-return]
    except Error:  # navigating: the page is not there yet
        return None


def playing(before: dict[str, Any] | None, after: dict[str, Any] | None, not_stream: str | None) -> bool:
    return bool(
        before
        and after
        and after["width"] > 0
        and not after["paused"]
        and after["stream"] == before["stream"]
        and after["stream"] != not_stream
        and after["time"] - before["time"] > 0.5
        and after["frames"] > before["frames"]
    )


def both_play(
    pages: dict[str, Page], logs: Logs, *, not_streams: dict[str, str] | None = None
) -> dict[str, Any]:
    """Poll until every page's remote <video> has a size and its time and frames advance over
    ~1.5 s (and, for a page in ``not_streams``, shows a different stream than that one).
    Returns the last samples and how long it took."""
    not_streams = not_streams or {}
    began = time.monotonic()
    samples: dict[str, Any] = {}
    while True:
        before = {who: remote(page) for who, page in pages.items()}
        time.sleep(1.5)
        after = {who: remote(page) for who, page in pages.items()}
        samples = {who: (before[who], after[who]) for who in pages}
        if all(playing(before[who], after[who], not_streams.get(who)) for who in pages):
            return {who: after[who] for who in pages} | {"seconds": round(time.monotonic() - began, 1)}
        if time.monotonic() - began > PLAY_TIMEOUT:
            raise AssertionError(
                f"The remote videos did not play within {PLAY_TIMEOUT:.0f}s: {samples}\n" + "\n".join(logs)
            )


def timer_seconds(page: Page) -> int:
    text = page.locator("#timer").inner_text()
    found = re.fullmatch(r"(\d\d):(\d\d) / 20:00", text)
    assert found, f"the timer reads {text!r}"
    return int(found.group(1)) * 60 + int(found.group(2))


_AUDIO_PEAK = """async (ms) => {
  const v = document.getElementById("remote");
  const stream = v && v.srcObject;
  if (!stream || !stream.getAudioTracks().length) { return -1; }
  const ctx = new AudioContext();
  await ctx.resume();
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 1024;
  ctx.createMediaStreamSource(stream).connect(analyser);
  const data = new Uint8Array(analyser.fftSize);
  let peak = 0;
  const end = performance.now() + ms;
  while (performance.now() < end) {
    analyser.getByteTimeDomainData(data);
    for (const x of data) { peak = Math.max(peak, Math.abs(x - 128) / 128); }
    await new Promise((r) => setTimeout(r, 20));
  }
  ctx.close();
  return peak;
}"""

_BRIGHTNESS = """() => {
  const v = document.getElementById("remote");
  const canvas = document.createElement("canvas");
  canvas.width = 64; canvas.height = 48;
  const g = canvas.getContext("2d");
  g.drawImage(v, 0, 0, 64, 48);
  const d = g.getImageData(0, 0, 64, 48).data;
  let sum = 0;
  for (let i = 0; i < d.length; i += 4) { sum += d[i] + d[i + 1] + d[i + 2]; }
  return sum / (d.length / 4) / 3;
}"""


def heard(page: Page) -> float:
    """The loudest sample of the remote audio over 1.5 s (the fake microphone beeps each second)."""
    return float(page.evaluate(_AUDIO_PEAK, 1500))


def eventually(measure: Any, ok: Any, what: str, timeout: float = 8.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = measure()
        if ok(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: still {value!r} after {timeout:.0f}s")
        time.sleep(0.3)


def toggles(page: Page, other: Page) -> None:
    """Mute and Camera off press and release, and the other side hears silence and sees black."""
    mic, cam = page.locator("#toggle-mic"), page.locator("#toggle-cam")

    def sound() -> float:
        return heard(other)

    def light() -> float:
        return float(other.evaluate(_BRIGHTNESS))  # the mean brightness of the remote video, 0-255

    for button, label in ((mic, "Mute"), (cam, "Camera off")):
        expect(button).to_have_attribute("aria-pressed", "false")
        expect(button).to_have_text(label)

    mic.click()
    expect(mic).to_have_attribute("aria-pressed", "true")
    expect(mic).to_have_text("Unmute")
    muted = eventually(sound, lambda peak: 0 <= peak < 0.05, "the other side still hears a muted microphone")
    mic.click()
    expect(mic).to_have_attribute("aria-pressed", "false")
    expect(mic).to_have_text("Mute")
    unmuted = eventually(sound, lambda peak: peak > 0.02, "the other side hears nothing after Unmute")

    cam.click()
    expect(cam).to_have_attribute("aria-pressed", "true")
    expect(cam).to_have_text("Camera on")
    dark = eventually(light, lambda b: b < 8, "the other side still sees a camera turned off")
    cam.click()
    expect(cam).to_have_attribute("aria-pressed", "false")
    expect(cam).to_have_text("Camera off")
    lit = eventually(light, lambda b: b > 20, "the other side sees black after Camera on")
    print(f"other side: muted peak {muted:.3f}, unmuted {unmuted:.3f}; camera off {dark:.0f}, on {lit:.0f}")


@contextmanager
def call_going(
    browser: Browser, server: Server, maya_state: dict[str, Any], label: str
) -> Iterator[tuple[Booked, Page, Page, Logs]]:
    """A fresh booking with the patient let in and both pages on the call."""
    booked = book(server, label)
    logs = Logs()
    with contexts(browser, server) as new:
        patient = new("patient", logs)
        clinician = new("clinician", logs, storage_state=maya_state)
        patient_to_waiting_room(patient, server, booked)
        admit(clinician, booked)
        expect(patient.locator("#call")).to_be_visible(timeout=10_000)
        yield booked, patient, clinician, logs


# Tests -------------------------------------------------------------------------------------


def test_patient_and_clinician_see_and_hear_each_other(
    media_browser: Browser, server: Server, maya_state: dict[str, Any]
) -> None:
    booked = book(server, "call")
    logs = Logs()
    widths: dict[str, int] = {}
    with contexts(media_browser, server) as new:
        patient = new("patient", logs)
        clinician = new("clinician", logs, storage_state=maya_state)

        # The patient: device check, where they are, the waiting room.
        sign_in(patient, server, booked.patient_email)
        patient.goto(booked.visit_url)
        expect(patient.get_by_role("heading", level=1)).to_contain_text(booked.local_time())
        device_check(patient)
        widths["device-check"] = shots(patient, "device-check")
        attest_new_york(patient)
        in_waiting_room(patient, booked)
        widths["waiting-room"] = shots(patient, "waiting-room")
        # Not in the call before being let in: the call is not shown and no stream comes in.
        # The waiting room's socket is open, but it hears only the visit's status (the server
        # relays no negotiation to or from it until admission: clinic/visits/tests).
        expect(patient.locator("#call")).to_be_hidden()
        assert patient.evaluate("document.getElementById('remote').srcObject") is None
        waiting = waiting_socket(patient, booked.ws_path)
        assert waiting["event"] == "open", f"the waiting room's socket did not open: {waiting}"
        assert waiting["first"]["kind"] == "status", waiting
        assert waiting["first"]["waiting"] is True and waiting["first"]["admitted"] is False, waiting
        print(f"\nwaiting patient's websocket: {waiting}")

        # The clinician: the dashboard row, the visit page with the address and call-back, Admit.
        clinician.goto("/clinician/")
        row = clinician.locator("tr").filter(has_text=booked.patient_name)
        expect(row).to_have_count(1)
        join = row.get_by_role("link", name="Waiting — admit")
        expect(join).to_have_attribute("href", booked.visit_url)
        join.click()
        expect(clinician).to_have_url(f"{server.base_url}{booked.visit_url}")
        status = clinician.locator("#patient-status")
        expect(status).to_contain_text(f"{booked.patient_name} is waiting")
        expect(status).to_contain_text("in New York (licensed)")
        expect(status).to_contain_text(ADDRESS.split("\n")[0])
        expect(status.get_by_role("link", name=CALLBACK)).to_have_attribute("href", f"tel:{CALLBACK}")
        widths["admit"] = shots(clinician, "admit")
        clinician.get_by_role("button", name="Admit").click()

        # Both: in the call, each seeing the other's video move.
        expect(clinician.locator("#call")).to_be_visible()
        expect(patient.locator("#call")).to_be_visible(timeout=10_000)
        result = both_play({"patient": patient, "clinician": clinician}, logs)
        print(f"\nfirst call: both remote videos play after {result['seconds']}s: {result}")
        for page, other in ((patient, clinician), (clinician, patient)):
            expect(page.locator("#call-state")).to_have_text("", timeout=10_000)
            first = timer_seconds(page)
            # Each hears the other's (fake, beeping) microphone.
            peak = heard(other)
            assert peak > 0.02, f"no sound reaches the other side (peak {peak})"
            later = timer_seconds(page)
            assert 1 <= later - first <= 4, f"the timer went from {first}s to {later}s in ~1.5 s"
            toggles(page, other)
        widths["call-patient"] = shots(patient, "call-patient")
        widths["call-clinician"] = shots(clinician, "call-clinician")
        # Both still see each other after the cameras went off and on again.
        both_play({"patient": patient, "clinician": clinician}, logs)

        # Leaving, and afterwards.
        for page in (patient, clinician):
            page.get_by_role("button", name="Hang up").click()
            expect(page.locator("#call-state")).to_contain_text("You left the call")
        response = clinician.goto(f"/clinician/appointments/{booked.booking}/")
        assert response is not None and response.status == 200, response and response.status
        expect(clinician.get_by_role("heading", level=1)).to_be_visible()
        assert not logs.errors(), "\n".join(logs)

    # Leaving is recorded when the server sees the socket close: give it a moment.
    for _ in range(3):
        events = audit_of(server, booked, "visit.admitted", "visit.joined", "visit.left")
        if sum(action == "visit.left" for action, _, _ in events) >= 2:
            break
        time.sleep(1)
    print(f"audit: {events}")
    joined = {(actor, reason) for action, actor, reason in events if action == "visit.joined"}
    assert joined == {(booked.patient_email, "patient"), (MAYA, "clinician")}, events
    assert ("visit.admitted", MAYA, "") in events, events
    left = {reason for action, _, reason in events if action == "visit.left"}
    assert left == {"patient", "clinician"}, events

    # At phone size nothing may scroll sideways (checked last, so the call is tested first).
    wide = {name: width for name, width in widths.items() if width > PHONE["width"]}
    assert not wide, f"pages wider than a {PHONE['width']} px phone (sideways scrolling): {wide}"


def test_both_join_at_the_same_moment(
    media_browser: Browser, server: Server, maya_state: dict[str, Any]
) -> None:
    booked = book(server, "together")
    logs = Logs()
    with contexts(media_browser, server) as new:
        patient = new("patient", logs)
        clinician = new("clinician", logs, storage_state=maya_state)
        patient_to_waiting_room(patient, server, booked)
        patient.goto("about:blank")
        admit(clinician, booked)
        clinician.goto("about:blank")

        # Both open the call page at once ...
        patient.goto(f"{server.base_url}{booked.visit_url}", wait_until="commit")
        clinician.goto(f"{server.base_url}{booked.visit_url}", wait_until="commit")
        result = both_play({"patient": patient, "clinician": clinician}, logs)
        print(f"\nopened together: both play after {result['seconds']}s")

        # ... and reload it at once.
        streams = {"patient": result["patient"]["stream"], "clinician": result["clinician"]["stream"]}
        patient.evaluate("setTimeout(() => location.reload(), 0)")
        clinician.evaluate("setTimeout(() => location.reload(), 0)")
        result = both_play({"patient": patient, "clinician": clinician}, logs, not_streams=streams)
        print(f"reloaded together: both play after {result['seconds']}s")
        assert not logs.errors(), "\n".join(logs)


def test_reload_mid_call_reconnects(
    media_browser: Browser, server: Server, maya_state: dict[str, Any]
) -> None:
    with call_going(media_browser, server, maya_state, "reload") as (_, patient, clinician, logs):
        pages = {"patient": patient, "clinician": clinician}
        result = both_play(pages, logs)
        patient.reload()
        # The clinician must show the patient's new stream, not a frozen old one.
        result = both_play(pages, logs, not_streams={"clinician": result["clinician"]["stream"]})
        print(f"\npatient reloaded: both play again after {result['seconds']}s")
        clinician.reload()
        result = both_play(pages, logs, not_streams={"patient": result["patient"]["stream"]})
        print(f"clinician reloaded: both play again after {result['seconds']}s")
        assert not logs.errors(), "\n".join(logs)


def test_wrong_people_cannot_get_in(media_browser: Browser, server: Server) -> None:
    booked = book(server, "private", admitted=True)
    logs = Logs()
    with contexts(media_browser, server) as new:
        # The booked patient, already let in, may open the socket: the probe itself works.
        owner = new("owner", logs)
        sign_in(owner, server, booked.patient_email)
        response = owner.goto(booked.visit_url)
        assert response is not None and response.status == 200
        assert open_websocket(owner, booked.ws_path)["event"] == "open"

        for email in (SAM, DANIEL):
            page = new(email, logs)
            sign_in(page, server, email)
            response = page.goto(booked.visit_url)
            assert response is not None and response.status == 404, f"{email}: {response and response.status}"
            probe = open_websocket(page, booked.ws_path)
            assert probe["event"] == "close", f"{email} opened the visit's websocket: {probe}"

        anonymous = new("anonymous", logs)
        anonymous.goto(booked.visit_url)
        expect(anonymous).to_have_url(re.compile(r"/accounts/login/\?next=/visits/"))
        expect(anonymous.locator("#id_login")).to_be_visible()
        probe = open_websocket(anonymous, booked.ws_path)
        assert probe["event"] == "close", f"an anonymous visitor opened the visit's websocket: {probe}"


def test_visit_page_before_the_window(media_browser: Browser, server: Server) -> None:
    booked = book(server, "early", minutes=120)
    logs = Logs()
    with contexts(media_browser, server) as new:
        patient = new("patient", logs)
        sign_in(patient, server, booked.patient_email)
        patient.goto(booked.visit_url)
        opens = booked.start - dt.timedelta(minutes=10)
        expect(patient.locator("main")).to_contain_text(f"opens at {booked.local_time(opens)}")
        expect(patient.locator("#device-check")).to_have_count(0)
        expect(patient.locator("#call")).to_have_count(0)
        refused = open_websocket(patient, booked.ws_path)
        assert refused["event"] == "close", f"the socket opened before the visit window: {refused}"
