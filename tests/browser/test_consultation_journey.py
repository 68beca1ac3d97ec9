"""A whole consultation in a real browser, from setup to the patient's data download.

Staff set the free consultation's minimum notice to 0; Dr Maya Chen opens today in her zone; a
new patient books her earliest time from the home page, answers the questionnaire and is booked;
the one-hour reminder comes (the booking is back-dated so that one is due) and its link opens the
visit: device check, where-are-you, waiting room; Dr Chen admits them from her dashboard and both
see each other (Chromium's fake camera); she writes, autosaves and signs the note with a decision
and a message, and adds an addendum; the patient is emailed, reads the message and the decision,
and downloads their data as JSON.

The other journeys' helpers are imported inside the test (the booking and intake modules import
each other lazily); nothing is imported from test_video_visit, whose few needs are copied here.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from zoneinfo import ZoneInfo

from playwright.sync_api import Browser, Error, Page, expect

from tests.browser.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    SHOTS_DIR,
    Server,
    email_text,
    manage,
    unused_totp_code,
)

DEMO_PASSWORD = "mendwell-demo-2026"
JORDAN = "jordan.lee@demo.mendwell.example"  # staff
MAYA = "maya.chen@demo.mendwell.example"  # clinician, America/New_York, licensed in New York
MAYA_NAME = "Dr Maya Chen"
NEW_YORK = ZoneInfo("America/New_York")
# Words no email to the patient may carry.
CLINICAL_WORDS = ("ketamine", "depress", "suicid")
MEDIA_ARGS = [
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
]
# The consultation's slot grid is 30 minutes (20 + a 10-minute buffer) from the start of the
# day's hours, and the visit page opens only 10 minutes before the start: see _override_start.
GRID = dt.timedelta(minutes=30)
LEAD = dt.timedelta(minutes=4)
PLAY_TIMEOUT = 20.0

REMINDER_SUBJECT = "Reminder: your video appointment in one hour"
MESSAGE_SUBJECT = "Your doctor has left you a message"
ADDRESS = "350 Fifth Avenue, Apt 12\nNew York, NY 10118"
CALLBACK = "+1 212 555 0199"
DECISION = "Suitable for an in-person treatment assessment"
PATIENT_MESSAGE = (
    "Thank you for talking with me today. The next step is a visit in person at our clinic, "
    "where a doctor will check your health before any treatment starts. We will email you "
    "to choose a time."
)
ADDENDUM = "Patient called after the visit to ask about parking; told them the clinic has a car park."


# Pages ----------------------------------------------------------------------------------------


@contextmanager
def media_browser(browser: Browser) -> Iterator[Browser]:
    """A second Chromium from the same Playwright that grants its fake camera and microphone."""
    launched = browser.browser_type.launch(executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, *MEDIA_ARGS])
    try:
        yield launched
    finally:
        launched.close()


def new_context_page(browser: Browser, server: Server, logs: list[str], who: str) -> Page:
    context = browser.new_context(viewport=DESKTOP, base_url=server.base_url, timezone_id="America/New_York")
    context.set_default_timeout(10_000)
    context.set_default_navigation_timeout(15_000)
    page = context.new_page()
    page.on(
        "console",
        lambda m: (
            logs.append(f"{who} console.{m.type}: {m.text}") if m.type in {"warning", "error"} else None
        ),
    )
    page.on("pageerror", lambda e: logs.append(f"{who} PAGE ERROR: {e}"))
    return page


def shot(page: Page, name: str) -> None:
    SHOTS_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS_DIR / f"consult-{name}.png"), full_page=True)


def h1(page: Page):  # type: ignore[no-untyped-def]
    return page.get_by_role("heading", level=1)


def sign_in_with_code(page: Page, server: Server, email_address: str) -> None:
    """Password, then the TOTP code; allauth refuses a code used once already, so a refused code
    is retried once with the next 30-second step's."""
    page.goto("/accounts/login/")
    page.locator("#id_login").fill(email_address)
    page.locator("#id_password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign In", exact=True).click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/"))
    for attempt in range(2):
        page.locator("#id_code").fill(unused_totp_code(server, email_address))
        page.get_by_role("button", name="Sign In", exact=True).click()
        try:
            expect(page).not_to_have_url(re.compile(r"/accounts/2fa/authenticate/"), timeout=5_000)
            return
        except AssertionError:
            if attempt:
                raise
            time.sleep(30 - time.time() % 30 + 0.3)


# Setup ---------------------------------------------------------------------------------------


def set_min_notice_to_zero(page: Page, server: Server) -> str:
    """As staff, on /staff/appointment-types/: the free consultation's minimum notice to 0.
    Returns the value it had."""
    sign_in_with_code(page, server, JORDAN)
    page.goto("/staff/appointment-types/")
    expect(h1(page)).to_have_text("Appointment types")
    form = page.locator("form").filter(has=page.get_by_role("heading", name="Free consultation", exact=True))
    expect(form).to_have_count(1)
    field = form.get_by_label("Min notice minutes")
    before = field.input_value()
    field.fill("0")
    form.get_by_role("button", name="Save").click()
    expect(page).to_have_url(f"{server.base_url}/staff/appointment-types/")
    expect(page.get_by_role("status").filter(has_text="saved.")).to_be_visible()
    form = page.locator("form").filter(has=page.get_by_role("heading", name="Free consultation", exact=True))
    expect(form.get_by_label("Min notice minutes")).to_have_value("0")
    return before


def _override_start(now: dt.datetime) -> dt.time:
    """The start of today's override: 00:00 shifted by under half an hour so that a slot of the
    30-minute grid (which starts at the override's start) falls about LEAD from now.

    From exactly 00:00 the earliest time can be up to 30 minutes away, and the visit page stays
    closed until 10 minutes before the start: the test would wait up to 20 minutes to join."""
    target = (now + LEAD).replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    since_midnight = dt.timedelta(hours=target.hour, minutes=target.minute)
    offset = since_midnight % GRID
    minutes = int(offset.total_seconds()) // 60
    return dt.time(minutes // 60, minutes % 60)


_LABELS_ELSEWHERE = """(form) => [...form.querySelectorAll("label[for]")]
  .filter((label) => {
    const field = document.getElementById(label.htmlFor);
    return !field || !form.contains(field);
  })
  .map((label) => `${label.textContent.trim()} -> #${label.htmlFor}`)"""


def open_today(page: Page, server: Server, problems: list[str]) -> tuple[dt.date, dt.time]:
    """As Dr Chen, on /clinician/availability/: a date override for today (her zone) over the
    whole day, so there are free times in the next minutes."""
    now = dt.datetime.now(NEW_YORK)
    assert now.time() < dt.time(23, 25), "too close to midnight in New York for a slot today"
    today, start = now.date(), _override_start(now)
    page.get_by_role("link", name="Set your weekly hours, dates and time off").click()
    expect(h1(page)).to_have_text("Your availability")
    expect(page.locator(".zone-note")).to_contain_text("America/New_York")
    card = page.locator("section.card").filter(
        has=page.get_by_role("heading", name="Dates with different hours")
    )
    form = card.locator("form.form")
    strays = form.evaluate(_LABELS_ELSEWHERE)
    if strays:
        problems.append(
            "/clinician/availability/: the 'Dates with different hours' form's labels point at fields "
            f"of another form (duplicate ids, no form prefixes): {strays}"
        )
    # By label; by name when the labels do not reach these fields (see above).
    for label, name, value in (
        ("Date", "date", today.isoformat()),
        ("Start", "start", start.strftime("%H:%M")),
        ("End", "end", "23:59"),
    ):
        field = form.locator(f"input[name={name}]") if strays else form.get_by_label(label, exact=True)
        field.fill(value)
    form.get_by_role("button", name="Add date").click()
    expect(page).to_have_url(f"{server.base_url}/clinician/availability/")
    expect(card.locator("li").filter(has_text="11:59 PM").first).to_contain_text(f"{today:%a} {today.day}")
    return today, start


# The booking --------------------------------------------------------------------------------


def book_earliest_with_maya(page: Page, server: Server, problems: list[str]) -> tuple[Any, str, dt.datetime]:
    """A new patient: home page → New York → Dr Maya Chen's earliest time → sign up →
    questionnaire → confirm. Returns the patient, the booking id and its start (UTC)."""
    from tests.browser.test_booking_journey import (
        choose_place,
        hold_slot,
        new_patient,
        sign_up_from_hold,
        slot_starts,
        through_intake,
    )

    patient = new_patient("cora")
    page.goto("/")
    page.get_by_role("link", name="Book a free consultation").first.click()
    expect(page).to_have_url(f"{server.base_url}/book/")
    choose_place(page, "New York")
    # Dr Okafor is licensed in New York too; the visit is with Dr Chen, so she is chosen.
    page.get_by_label("Doctor").select_option(label=MAYA_NAME)
    page.get_by_role("button", name="Show", exact=True).click()
    expect(page.get_by_label("Doctor")).to_have_value(re.compile(r"^[0-9a-f-]{36}$"))
    starts = slot_starts(page)
    assert starts, "no times for Dr Chen after opening today"
    assert starts == sorted(starts), f"the times are not in order: {starts}"
    now = dt.datetime.now(dt.UTC)
    assert now < starts[0] <= now + dt.timedelta(minutes=30), (
        f"the earliest time {starts[0]:%H:%M} UTC is not within the next 30 minutes (now {now:%H:%M} UTC)"
    )
    start, _ = hold_slot(page, 0)
    assert start == starts[0]
    expect(page).to_have_url(re.compile(r"/book/confirm/[0-9a-f-]{36}/$"))
    confirm_url = page.url
    sign_up_from_hold(page, server, patient.email)
    through_intake(page, patient, confirm_url, problems, "signing up and verifying the email")
    assert dt.datetime.now(dt.UTC) < start, "the chosen time started before the booking was confirmed"
    page.get_by_role("button", name="Confirm booking").click()
    expect(h1(page)).to_have_text("You're booked")
    expect(page.locator(".held").first).to_contain_text(MAYA_NAME)
    found = re.search(r"/book/booked/([0-9a-f-]{36})/$", page.url)
    assert found, page.url
    return patient, found.group(1), start


def whole_text(message: Any) -> str:
    parts = [str(message.get("Subject", ""))]
    for part in message.walk():
        if part.get_content_maintype() == "text":
            content = part.get_content()
            parts.append(content if isinstance(content, str) else content.decode(errors="replace"))
    return "\n".join(parts)


def assert_no_clinical_words(what: str, text: str) -> None:
    for word in CLINICAL_WORDS:
        assert word not in text.lower(), f"{what} says {word!r}:\n{text}"


def send_reminder(server: Server, booking: str) -> None:
    """Back-date the booking two days (as if booked in advance) and enqueue the reminder sweep;
    the server's db_worker runs it."""
    code = (
        "import datetime as dt\n"
        "from django.utils import timezone\n"
        "from clinic.scheduling.models import Booking\n"
        "from clinic.scheduling.tasks import reminder_sweep\n"
        f"n = Booking.objects.filter(public_id={booking!r}).update("
        "created_at=timezone.now() - dt.timedelta(days=2))\n"
        "assert n == 1, n\n"
        "reminder_sweep.enqueue()\n"
        "print('SWEEP QUEUED')\n"
    )
    output = manage(server, "shell", "-c", code)
    assert "SWEEP QUEUED" in output, output


# The call -------------------------------------------------------------------------------------

_REMOTE = """() => {
  const v = document.getElementById("remote");
  if (!v) { return null; }
  return { width: v.videoWidth, time: v.currentTime, paused: v.paused,
           stream: v.srcObject ? v.srcObject.id : null };
}"""


def remote(page: Page) -> dict[str, Any] | None:
    try:
        return page.evaluate(_REMOTE)  # type: ignore[no-any-return]
    except Error:  # navigating
        return None


def plays(before: dict[str, Any] | None, after: dict[str, Any] | None) -> bool:
    """A remote <video> with a size, not paused, the same stream, its time advancing."""
    return bool(
        before
        and after
        and after["width"] > 0
        and not after["paused"]
        and after["stream"] == before["stream"]
        and after["time"] - before["time"] > 0.5
    )


def both_play(pages: dict[str, Page], logs: list[str]) -> dict[str, Any]:
    """Poll until each page's remote <video> plays over ~1.5 s."""
    began = time.monotonic()
    while True:
        before = {who: remote(p) for who, p in pages.items()}
        time.sleep(1.5)
        after = {who: remote(p) for who, p in pages.items()}
        if all(plays(before[who], after[who]) for who in pages):
            return {**after, "seconds": round(time.monotonic() - began, 1)}
        if time.monotonic() - began > PLAY_TIMEOUT:
            raise AssertionError(
                f"the remote videos did not play within {PLAY_TIMEOUT:.0f}s: {before} → {after}\n"
                + "\n".join(logs)
            )


def device_check(page: Page) -> None:
    page.get_by_role("button", name="Test camera and microphone").click()
    expect(page.locator("#device-status")).to_contain_text("Your camera and microphone work")
    page.wait_for_function("() => document.getElementById('preview').videoWidth > 0", timeout=10_000)


def attest_new_york(page: Page) -> None:
    page.get_by_label("Where are you right now?", exact=True).select_option(label="New York")
    page.get_by_label("The address where you are").fill(ADDRESS)
    page.get_by_label("A phone number to call you back if the video drops").fill(CALLBACK)
    page.get_by_role("button", name="Go to the waiting room").click()


# The note -------------------------------------------------------------------------------------


def fill_note(page: Page) -> None:
    form = page.locator("form.note-form")
    form.get_by_label("Photo ID shown on camera", exact=True).check()
    form.get_by_label("I confirmed where the patient is").check()
    form.get_by_label("Who else is present (or 'nobody')").fill("Nobody")
    form.get_by_label("Reason for visit", exact=True).fill("Free consultation: low mood for two years.")
    form.get_by_label("History reviewed", exact=True).fill("Questionnaire reviewed with the patient.")
    form.get_by_label("Contraindications and precautions reviewed", exact=True).fill(
        "No uncontrolled hypertension, no psychosis, no substance use disorder."
    )
    form.get_by_label("Plan", exact=True).fill("In-person assessment at the clinic.")
    form.get_by_label("Follow-up", exact=True).fill("Clinic to email the patient with times.")
    form.get_by_label(DECISION, exact=True).check()
    form.get_by_label("Message to the patient: what happens next, in plain words").fill(PATIENT_MESSAGE)


# The test -------------------------------------------------------------------------------------


def test_whole_consultation(browser: Browser, server: Server) -> None:
    from tests.browser.test_booking_journey import ics_of, upcoming_on_account_page, wait_for_mail

    began = time.monotonic()
    problems: list[str] = []
    logs: list[str] = []
    min_notice_before: str | None = None
    with media_browser(browser) as media:
        try:
            # 1. Setup: staff allow booking at no notice; Dr Chen opens today.
            staff = new_context_page(browser, server, logs, "staff")
            min_notice_before = set_min_notice_to_zero(staff, server)
            staff.context.close()

            maya = new_context_page(media, server, logs, "clinician")
            sign_in_with_code(maya, server, MAYA)
            expect(maya).to_have_url(f"{server.base_url}/clinician/")
            open_today(maya, server, problems)

            # 2. A new patient books Dr Chen's earliest time.
            patient_page = new_context_page(media, server, logs, "patient")
            patient, booking, start = book_earliest_with_maya(patient_page, server, problems)
            booked = wait_for_mail(server, patient.email, "Your video appointment is booked")
            assert_no_clinical_words("the confirmation email", whole_text(booked))
            calendar = ics_of(booked)
            events = calendar.walk("VEVENT")
            assert len(events) == 1 and events[0]["DTSTART"].dt == start, events

            # 3. The one-hour reminder, as if the booking had been made two days ago.
            send_reminder(server, booking)
            reminder = wait_for_mail(server, patient.email, REMINDER_SUBJECT, timeout=20)
            assert_no_clinical_words("the reminder email", whole_text(reminder))
            links = re.findall(r"https?://\S+/visits/[0-9a-f-]{36}/", email_text(reminder))
            assert links == [f"{server.base_url}/visits/{booking}/"], f"join links in the reminder: {links}"

            # 4. The patient joins from the email's link; Dr Chen admits them; both see each other.
            patient_page.goto(links[0].removeprefix(server.base_url))
            expect(h1(patient_page)).to_contain_text(f"{start.astimezone(NEW_YORK):%-I:%M %p}")
            device_check(patient_page)
            attest_new_york(patient_page)
            room = patient_page.locator("#waiting-room")
            expect(room).to_contain_text("will let you in")
            expect(room).to_contain_text(MAYA_NAME)

            maya.goto("/clinician/")
            row = maya.locator("tbody tr").filter(has_text=patient.preferred_name)
            expect(row).to_have_count(1)
            join = row.get_by_role("link", name="Waiting — admit")
            expect(join).to_have_attribute("href", f"/visits/{booking}/")
            join.click()
            status = maya.locator("#patient-status")
            expect(status).to_contain_text(f"{patient.preferred_name} is waiting")
            expect(status).to_contain_text("in New York (licensed)")
            maya.get_by_role("button", name="Admit").click()
            expect(maya.locator("#call")).to_be_visible()
            expect(patient_page.locator("#call")).to_be_visible(timeout=10_000)
            played = both_play({"patient": patient_page, "clinician": maya}, logs)
            print(f"\nboth remote videos play after {played['seconds']}s: {played}")

            # 5. The note: checklist, note, decision, message; autosave; sign; addendum.
            maya.locator(".consult__patient").get_by_role("link", name="Appointment page").click()
            expect(maya).to_have_url(f"{server.base_url}/clinician/appointments/{booking}/")
            expect(h1(maya)).to_have_text(patient.preferred_name)
            fill_note(maya)
            expect(maya.locator("#autosave-status")).to_contain_text("Draft saved at", timeout=12_000)
            shot(maya, "appointment-draft")
            maya.get_by_role("button", name="Sign note").click()
            expect(maya).to_have_url(f"{server.base_url}/clinician/appointments/{booking}/")
            expect(maya.get_by_role("status").filter(has_text="Note signed.")).to_be_visible()
            note = maya.locator("section.note")
            expect(note.locator(".badge")).to_contain_text("Signed")
            expect(maya.locator("form[data-autosave]")).to_have_count(0)
            for name in (
                "identity_method",
                "location_confirmed",
                "reason",
                "plan",
                "decision",
                "patient_message",
            ):
                expect(maya.locator(f"[name={name}]")).to_have_count(0)
            expect(note.locator("dl")).to_contain_text(DECISION)
            expect(note.locator("dl")).to_contain_text(PATIENT_MESSAGE)
            note.get_by_label("Add an addendum (a signed note cannot be edited)").fill(ADDENDUM)
            note.get_by_role("button", name="Add addendum").click()
            expect(maya.get_by_role("status").filter(has_text="Addendum added.")).to_be_visible()
            expect(maya.locator("section.note ul").first).to_contain_text(ADDENDUM)
            shot(maya, "appointment-signed")

            # 6. The patient is told, reads the message and the decision, downloads their data.
            message = wait_for_mail(server, patient.email, MESSAGE_SUBJECT)
            text = whole_text(message)
            assert_no_clinical_words("the 'message waiting' email", text)
            assert PATIENT_MESSAGE[:40] not in text, "the email carries the doctor's message itself"
            assert f"/me/appointments/{booking}/" in text, text

            # Signing completed the appointment: nothing upcoming, the message waits under "Earlier".
            assert upcoming_on_account_page(patient_page) == 0
            expect(patient_page.get_by_text("your doctor left a message")).to_be_visible()
            patient_page.get_by_role("link", name=re.compile(r"\d{4}, \d+:\d\d [AP]M")).first.click()
            expect(patient_page).to_have_url(f"{server.base_url}/me/appointments/{booking}/")
            section = patient_page.locator("section[aria-labelledby=msg-title]")
            expect(section.get_by_role("heading")).to_have_text("Your doctor's message")
            expect(section).to_contain_text(PATIENT_MESSAGE)
            expect(section).to_contain_text(f"What was decided: {DECISION}")
            shot(patient_page, "patient-message")

            patient_page.get_by_role("navigation", name="Main").get_by_role("link", name="My account").click()
            patient_page.get_by_role("link", name="Download all your data").click()
            expect(patient_page).to_have_url(f"{server.base_url}/me/my-data/")
            expect(h1(patient_page)).to_have_text("Everything we hold about you")
            shot(patient_page, "my-data")
            with patient_page.expect_download() as download:
                patient_page.get_by_role("link", name="Download as JSON").click()
            path = download.value.path()
            data = json.loads(path.read_text())
            assert [a["id"] for a in data["appointments"]] == [booking], data["appointments"]
            notes = [n for n in data["notes"] if n["appointment"] == booking]
            assert len(notes) == 1, data["notes"]
            assert notes[0]["patient_message"] == PATIENT_MESSAGE
            assert notes[0]["decision"] == "suitable"
            assert [a["text"] for a in notes[0]["addenda"]] == [ADDENDUM]

            page_errors = [line for line in logs if "PAGE ERROR" in line]
            assert not page_errors, "\n".join(page_errors)
            assert not problems, "app problems:\n" + "\n".join(problems)
        finally:
            # Leave the session's clinic as the other tests expect it.
            restore = (
                "from clinic.scheduling.models import AppointmentType, DateOverride\n"
                "from clinic.accounts.models import User\n"
                f"if {min_notice_before!r} is not None:\n"
                "    AppointmentType.objects.filter(kind='consultation')"
                f".update(min_notice_minutes=int({min_notice_before!r}))\n"
                f"DateOverride.objects.filter(clinician=User.objects.get(email={MAYA!r})).delete()\n"
                "from clinic.scheduling.availability import schedule_changed\n"
                "schedule_changed()  # written past the actions: the free times must hear of it\n"
            )
            manage(server, "shell", "-c", restore)
    print(f"whole consultation in {time.monotonic() - began:.0f}s")
