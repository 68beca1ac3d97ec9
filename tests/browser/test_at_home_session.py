"""An at-home session supervised over video, in a real browser with Chromium's fake camera and
microphone: the patient goes to their call, says where they are and waits; Dr Maya Chen admits
them and both remote videos play; beside the call she confirms on camera the adult the check-in
named, and the call is still the same call afterwards (no reload); the patient sends a reading
from their own cuff from under the call and it reaches her pane by itself. No consultation note
is offered on a session's call, and the patient's side shows no dose."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from playwright.sync_api import Browser, expect

from tests.browser.conftest import PHONE, SHOTS_DIR, Server, manage
from tests.browser.test_video_visit import (  # noqa: F401 (the fixtures are used by name)
    Logs,
    attest_new_york,
    both_play,
    contexts,
    maya_state,
    media_browser,
    remote,
    sign_in,
)

DEMO_PASSWORD = "mendwell-demo-2026"
MAYA = "maya.chen@demo.mendwell.example"
JORDAN = "jordan.lee@demo.mendwell.example"
COMPANION = "Casey Stone"

SETUP = """
import datetime as dt, json
from allauth.account.models import EmailAddress
from django.utils import timezone
from clinic.accounts.models import PatientProfile, User
from clinic.care.models import PreSessionCheckIn, Route
from tests.support.treatment_session import make_session, protocol_version
a = json.loads(ARGS)
maya = User.objects.get(email=a["maya"])
patient = User.objects.create_user(a["email"], a["password"], role="patient", display_name="Avery Home")
EmailAddress.objects.create(user=patient, email=a["email"], verified=True, primary=True)
PatientProfile.objects.update_or_create(user=patient, defaults={"date_of_birth": "1988-03-02"})
version = protocol_version(User.objects.get(email=a["jordan"]), maya, route=Route.ORAL_KETAMINE)
session = make_session(patient=patient, clinician=maya, staff=User.objects.get(email=a["jordan"]),
    version=version, start=timezone.now() + dt.timedelta(days=400 + a["offset"]))
# The booking moves to now (a day far out first, so no other of Dr Chen's bookings is in the way).
from clinic.scheduling.models import Booking
start = timezone.now() - dt.timedelta(minutes=5)
Booking.objects.filter(pk=session.booking_id).update(start=start, end=start + dt.timedelta(minutes=150),
    blocked_start=start, blocked_end=start + dt.timedelta(minutes=150))
checkin = PreSessionCheckIn(session=session, patient=patient, status="submitted", asq_result="negative",
    triage="routine", created_at=timezone.now() - dt.timedelta(hours=3),
    submitted_at=timezone.now() - dt.timedelta(hours=3))
checkin.set_answers({"companion": a["companion"], "home_systolic": 126, "home_diastolic": 81})
checkin.save()
# Written past the actions: the free times must hear of it (the other tests book Dr Chen too).
from clinic.scheduling.availability import schedule_changed
schedule_changed([maya])
print("SESSION " + json.dumps({"session": str(session.public_id), "booking": str(session.booking.public_id)}))
"""


# Afterwards Dr Chen's afternoon is free again for the other tests (they book her next times).
TEARDOWN = """
from clinic.scheduling.availability import schedule_changed
from clinic.scheduling.models import Booking
booking = Booking.objects.get(public_id=BOOKING)
Booking.objects.filter(pk=booking.pk).update(status="cancelled")
schedule_changed([booking.clinician_id])
"""


def _session(server: Server) -> dict[str, str]:
    args = {
        "maya": MAYA,
        "jordan": JORDAN,
        "email": f"home.{uuid.uuid4().hex[:8]}@example.com",
        "password": DEMO_PASSWORD,
        "companion": COMPANION,
        "offset": uuid.uuid4().int % 300,
    }
    output = manage(server, "shell", "-c", f"ARGS = {json.dumps(json.dumps(args))}\n{SETUP}")
    found = re.search(r"^SESSION (.+)$", output, re.MULTILINE)
    assert found, f"the setup printed {output!r}"
    return {**json.loads(found.group(1)), "email": args["email"]}


def test_an_at_home_session_is_watched_confirmed_and_read_beside_the_call(
    media_browser: Browser,  # noqa: F811 (the video tests' fixture)
    server: Server,
    maya_state: dict[str, Any],  # noqa: F811
) -> None:
    made = _session(server)
    try:
        _watch(media_browser, server, maya_state, made)
    finally:
        manage(server, "shell", "-c", f"BOOKING = {made['booking']!r}\n{TEARDOWN}")


def _watch(media_browser: Browser, server: Server, maya_state: dict[str, Any], made: dict[str, str]) -> None:  # noqa: F811
    call = f"/visits/{made['booking']}/"
    logs = Logs()
    with contexts(media_browser, server) as new:
        patient = new("patient", logs)
        doctor = new("clinician", logs, storage_state=maya_state)

        sign_in(patient, server, made["email"])
        patient.goto(call)
        expect(patient.get_by_role("heading", level=1)).to_contain_text("Your supervised session")
        attest_new_york(patient)
        expect(patient.locator("#waiting-room")).to_contain_text("will let you in")
        expect(patient.get_by_role("button", name="Send my reading")).to_be_visible()

        doctor.goto(call)
        pane = doctor.locator("[data-pane]")
        expect(pane).to_contain_text("Supervised session at home")
        expect(pane).to_contain_text(f"The check-in named {COMPANION}")
        expect(doctor.get_by_text("Consultation note")).to_have_count(0)
        expect(doctor.locator("#patient-status")).to_contain_text("is waiting")
        doctor.get_by_role("button", name="Admit").click()
        expect(patient.locator("#call")).to_be_visible(timeout=10_000)
        first = both_play({"patient": patient, "clinician": doctor}, logs)
        print(f"\nat-home session: both remote videos play after {first['seconds']}s")

        # Beside the call: the adult, confirmed on camera, in place.
        stream = (remote(doctor) or {}).get("stream")
        expect(pane.get_by_label("Name the adult gave on camera")).to_have_value(COMPANION)
        pane.get_by_role("button", name="Confirm on camera").click()
        expect(doctor.locator("[data-pane]")).to_contain_text(f"{COMPANION}, seen on camera")
        after = remote(doctor) or {}
        assert after.get("stream") == stream, "the call was interrupted by confirming the adult"

        # The patient's own reading, sent from under the call, reaches the doctor's pane.
        patient.get_by_label("Top number (systolic)").fill("131")
        patient.get_by_label("Bottom number (diastolic)").fill("84")
        patient.get_by_label("Pulse (beats a minute)").fill("76")
        patient.get_by_role("button", name="Send my reading").click()
        expect(patient.locator("[data-pane]")).to_contain_text("131/84, pulse 76")
        expect(doctor.locator("[data-pane]")).to_contain_text("131/84", timeout=25_000)
        both_play({"patient": patient, "clinician": doctor}, logs)  # still the same call on both sides

        SHOTS_DIR.mkdir(parents=True, exist_ok=True)
        doctor.screenshot(path=str(SHOTS_DIR / "at-home-clinician.png"), full_page=True)
        patient.screenshot(path=str(SHOTS_DIR / "at-home-patient.png"), full_page=True)
        text = patient.locator("main").inner_text()
        assert " mg" not in text, "the patient's side shows a dose"
        patient.set_viewport_size(PHONE)
        wide = patient.evaluate("() => document.documentElement.scrollWidth")
        assert wide <= PHONE["width"], f"the patient's call scrolls sideways at phone size ({wide} px)"
        patient.screenshot(path=str(SHOTS_DIR / "at-home-patient-phone.png"), full_page=True)

        # The record page shows both, and the dose is no longer held back for the adult.
        doctor.goto(f"/care/sessions/{made['session']}/")
        section = doctor.locator("#at-home")
        expect(section).to_contain_text(f"{COMPANION}, seen on camera")
        expect(section).to_contain_text("131/84")
        expect(doctor.locator("#missing")).not_to_contain_text("confirmed on camera")
        assert not logs.errors(), "\n".join(logs)
