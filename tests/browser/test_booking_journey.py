"""The booking journey in a real browser: where you will be → a time → an account → the health
questionnaire → confirm, then the emailed manage link (reschedule, cancel) and the calendar
invitations; plus the age rule, a double-clicked confirm, the pages at phone size and a
keyboard-only start.

The questionnaire's steps come from test_intake_journey, which imports this module's helpers in
turn: so that either module can be imported first, its helpers are imported where they are used."""

from __future__ import annotations

import datetime as dt
import re
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from axe_playwright_python.sync_playwright import Axe
from icalendar import Calendar
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import (
    DESKTOP,
    PHONE,
    Server,
    email_text,
    phone_screenshot,
    read_emails,
)

if TYPE_CHECKING:
    from tests.browser.test_intake_journey import Patient

DEMO_PASSWORD = "mendwell-demo-2026"
SAM = "sam.patel@demo.mendwell.example"
ALEX = "alex.rivera@demo.mendwell.example"
CLINICAL_WORDS = ("ketamine", "depression")
CHICAGO = "America/Chicago"
CHICAGO_NAME = "Central Time (Chicago)"  # how the pages name the zone
MIN_NOTICE = dt.timedelta(minutes=120)  # the consultation type's min_notice_minutes

BOOKED_SUBJECT = "Your video appointment is booked"
MOVED_SUBJECT = "Your video appointment has a new time"
CANCELLED_SUBJECT = "Your video appointment is cancelled"
# Where a patient without a questionnaire from the last 14 days goes after signing up or in.
INTAKE_ABOUT = re.compile(r"/intake/[0-9a-f-]{36}/about/$")
CONFIRM_URL = re.compile(r"/book/confirm/[0-9a-f-]{36}/$")


# Pages and contexts -------------------------------------------------------------------------


@contextmanager
def new_page(browser: Browser, server: Server, **options: object) -> Iterator[Page]:
    """A page in a fresh context (no cookies), like the `page` fixture but with options."""
    options.setdefault("viewport", DESKTOP)
    context = browser.new_context(base_url=server.base_url, **options)  # type: ignore[arg-type]
    context.set_default_timeout(10_000)
    context.set_default_navigation_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def heading(page: Page):  # type: ignore[no-untyped-def]
    return page.get_by_role("heading", level=1)


# Emails -------------------------------------------------------------------------------------


def wait_for_mail(
    server: Server,
    to: str,
    subject: str,
    *,
    count: int = 1,
    timeout: float = 15.0,
) -> EmailMessage:
    """The ``count``-th email to ``to`` whose subject contains ``subject``."""
    deadline = time.monotonic() + timeout
    while True:
        found = mails(server, to, subject)
        if len(found) >= count:
            return found[count - 1]
        if time.monotonic() > deadline:
            subjects = [str(m["Subject"]) for m in read_emails(server) if to.lower() in str(m["To"]).lower()]
            worker_log = (server.var_dir / "worker.log").read_text(errors="replace")[-3000:]
            raise AssertionError(
                f"no email #{count} to {to} with subject {subject!r} within {timeout:.0f}s; "
                f"emails to them: {subjects}\nworker log:\n{worker_log}"
            )
        time.sleep(0.2)


def mails(server: Server, to: str, subject: str) -> list[EmailMessage]:
    return [
        m
        for m in read_emails(server)
        if to.lower() in str(m.get("To", "")).lower() and subject.lower() in str(m.get("Subject", "")).lower()
    ]


def ics_of(message: EmailMessage) -> Calendar:
    parts = [
        part
        for part in message.iter_attachments()
        if part.get_content_type() == "text/calendar" or str(part.get_filename() or "").endswith(".ics")
    ]
    assert len(parts) == 1, f"expected one .ics attachment, found {[p.get_content_type() for p in parts]}"
    assert str(parts[0].get_filename()).endswith(".ics"), parts[0].get_filename()
    content = parts[0].get_content()
    if isinstance(content, bytes):
        content = content.decode()
    return Calendar.from_ical(content)


def only_event(calendar: Calendar):  # type: ignore[no-untyped-def]
    events = calendar.walk("VEVENT")
    assert len(events) == 1, f"expected one VEVENT, found {len(events)}"
    return events[0]


def assert_no_clinical_words(what: str, text: str) -> None:
    for word in CLINICAL_WORDS:
        assert word not in text.lower(), f"{what} says {word!r}:\n{text}"


def verification_code(server: Server, to: str) -> str:
    message = wait_for_mail(server, to, "sign-up code")
    body = email_text(message)
    match = re.search(r"Your code is:\s+([A-Z0-9][A-Z0-9-]{3,})\s", body)
    assert match, f"no verification code in:\n{body}"
    return match.group(1)


# Steps --------------------------------------------------------------------------------------


def fresh_email(label: str) -> str:
    return f"{label}.{uuid.uuid4().hex[:10]}@example.com"


def strong_password() -> str:
    return f"Quiet-river-{uuid.uuid4().hex[:8]}-lantern"


def choose_place(page: Page, place: str = "New York") -> None:
    """On /book/: where you will be, then the times."""
    expect(heading(page)).to_have_text("Book a free 20-minute video consultation")
    page.get_by_label("Where will you be during the consultation?").select_option(label=place)
    page.get_by_role("button", name="Show available times").click()
    expect(heading(page)).to_have_text("Choose a time")
    expect(page.locator(".zone-note")).to_contain_text(place)


def slot_forms(page: Page):  # type: ignore[no-untyped-def]
    """The time buttons: each sends its own start (``name="start"``) with the form it is in."""
    return page.locator("section.day button.slot[name=start]")


def slot_starts(page: Page) -> list[dt.datetime]:
    values = slot_forms(page).evaluate_all("els => els.map(e => e.value)")
    return [dt.datetime.fromisoformat(v) for v in values]


def first_time(page: Page) -> int:
    """The index of the first time offered, skipping one that would come within a few minutes
    of the two-hour minimum notice while the test runs: the app checks that notice again when a
    hold is confirmed or moved (see the report), so such a time would make the test flaky."""
    soonest = dt.datetime.now(dt.UTC) + MIN_NOTICE + dt.timedelta(minutes=3)
    starts = slot_starts(page)
    assert starts, "the slots page lists no times"
    return next((i for i, start in enumerate(starts) if start >= soonest), 0)


def hold_slot(page: Page, index: int | None = None) -> tuple[dt.datetime, str]:
    """Click the ``index``-th time (by default the first); returns its start (UTC) and the label
    on the button."""
    button = slot_forms(page).nth(first_time(page) if index is None else index)
    start = dt.datetime.fromisoformat(button.get_attribute("value") or "")
    label = button.inner_text().strip()
    button.click()
    return start, label


def sign_up_from_hold(page: Page, server: Server, email_address: str) -> None:
    """From "Almost there": create an account and verify the email with the emailed code."""
    expect(heading(page)).to_have_text("Almost there")
    page.get_by_role("link", name="Create an account").click()
    expect(page).to_have_url(re.compile(r"/accounts/signup/"))
    page.locator("#id_email").fill(email_address)
    page.locator("#id_password1").fill(strong_password())
    # The sign-up steps belong to the booking: the held time stays in view, with its countdown.
    expect(page.locator(".held")).to_be_visible()
    expect(page.locator("[data-hold-clock]")).to_have_text(re.compile(r"^\d+:\d\d$"))
    phone_screenshot(page, "book-sign-up")
    page.get_by_role("button", name="Create my account", exact=True).click()
    expect(page).to_have_url(re.compile(r"/accounts/confirm-email/"))
    expect(page.locator(".held")).to_be_visible()
    page.locator("#id_code").fill(verification_code(server, email_address))
    page.get_by_role("button", name="Confirm my email", exact=True).click()
    page.wait_for_load_state("load")


def sign_in_from_hold(page: Page, email_address: str) -> None:
    expect(heading(page)).to_have_text("Almost there")
    page.get_by_role("link", name="I already have one").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.locator("#id_login").fill(email_address)
    page.locator("#id_password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign In", exact=True).click()
    page.wait_for_load_state("load")


def back_to_confirm(page: Page, confirm_url: str, problems: list[str], how: str) -> None:
    """allauth should bring the person back to the confirm page after signing up or in."""
    if page.url != confirm_url:
        problems.append(f"after {how} the browser landed on {page.url}, not the confirm page {confirm_url}")
        page.goto(confirm_url)
    expect(heading(page)).to_have_text("Confirm your consultation")


# The questionnaire ------------------------------------------------------------------------------


def new_patient(label: str) -> Patient:
    from tests.browser.test_intake_journey import Patient

    return Patient.new(label)


def demo_patient(email_address: str, name: str) -> Patient:
    """A seeded patient (no questionnaire yet) as the questionnaire's helpers want one."""
    from tests.browser.test_intake_journey import Patient

    return Patient(
        email=email_address,
        legal_name=name,
        preferred_name=name.split()[0],
        phone=f"+1 212 555 {uuid.uuid4().int % 10_000:04d}",
    )


def through_intake(page: Page, patient: Patient, confirm_url: str, problems: list[str], how: str) -> None:
    """After signing up or in, a patient without a recent questionnaire is sent to its first
    step; they answer all eight (routine answers, no safety flags) and the app brings them back
    to the confirm page of the time they hold."""
    from tests.browser.test_intake_journey import (
        answer_asq,
        answer_gad7,
        answer_history,
        answer_phq9,
        fill_about,
        sign_consent,
    )

    expect(page, f"after {how} the patient is not sent to the questionnaire").to_have_url(INTAKE_ABOUT)
    fill_about(page, patient)
    answer_phq9(page)
    answer_gad7(page)
    answer_asq(page)
    answer_history(page)
    sign_consent(page, patient)
    expect(page, "the consent step did not accept the answers").not_to_have_url(re.compile(r"/consent/$"))
    back_to_confirm(page, confirm_url, problems, f"{how} and sending the questionnaire")


def fill_about_born(page: Page, patient: Patient, born: dt.date) -> None:
    """The questionnaire's "About you" step (as test_intake_journey.fill_about) with ``born`` as
    the date of birth."""
    from tests.browser.test_intake_journey import at_step, save

    at_step(page, "about")
    page.get_by_label("Your full legal name", exact=True).fill(patient.legal_name)
    page.get_by_label("What should we call you?", exact=True).fill(patient.preferred_name)
    page.get_by_label("Date of birth", exact=True).fill(born.isoformat())
    page.get_by_label("Your phone number", exact=True).fill(patient.phone)
    page.get_by_label("Emergency contact: name", exact=True).fill(patient.contact_name)
    page.get_by_label("Emergency contact: phone", exact=True).fill(patient.contact_phone)
    page.get_by_label("Where you live (address)", exact=True).fill(patient.address)
    page.get_by_label("Country", exact=True).select_option(label="United States")
    save(page)


def fill_birth_date(page: Page, born: dt.date) -> None:
    field = page.get_by_label("Your date of birth")
    if field.count():
        field.fill(born.isoformat())


def adult_birth_date() -> dt.date:
    return dt.date(1988, 6, 15)


def years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def upcoming_on_account_page(page: Page) -> int:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My account").click()
    expect(heading(page)).to_contain_text("Hello")
    return page.locator(".booking-row").count()


def local_label(start: dt.datetime, zone: str) -> tuple[str, str]:
    """The date and time as the booking pages print them ("l, F j, Y" and "g:i A")."""
    local = start.astimezone(ZoneInfo(zone))
    day = f"{local:%A}, {local:%B} {local.day}, {local.year}"
    clock = f"{local.hour % 12 or 12}:{local:%M} {local:%p}"
    return day, clock


# 1. The whole journey -----------------------------------------------------------------------


def test_new_patient_books_reschedules_and_cancels(browser: Browser, server: Server) -> None:
    problems: list[str] = []
    casey = new_patient("casey")
    patient = casey.email
    with new_page(browser, server, timezone_id=CHICAGO) as page:
        page.goto("/")
        page.get_by_role("link", name="Book a free consultation").first.click()
        expect(page).to_have_url(f"{server.base_url}/book/")
        # book.js preselects the browser's zone.
        expect(page.locator("#id_tz")).to_have_value(CHICAGO)
        choose_place(page, "New York")
        expect(page.locator(".zone-note")).to_contain_text(CHICAGO)
        expect(page.locator("section.day h3").first).to_be_visible()
        assert slot_forms(page).count() > 0, "the slots page lists no times for New York"

        start, label = hold_slot(page)
        expect(page).to_have_url(re.compile(r"/book/confirm/[0-9a-f-]{36}/$"))
        confirm_url = page.url
        day_text, clock = local_label(start, CHICAGO)
        assert clock == label, f"the slot button said {label!r}, the held time is {clock}"
        expect(page.locator(".held__when")).to_contain_text(clock)
        expect(page.locator(".held__when")).to_contain_text(CHICAGO_NAME)

        sign_up_from_hold(page, server, patient)
        through_intake(page, casey, confirm_url, problems, "signing up and verifying the email")
        fill_birth_date(page, adult_birth_date())
        page.get_by_role("button", name="Confirm booking").click()
        expect(heading(page)).to_have_text("You're booked")
        expect(page).to_have_url(re.compile(r"/book/booked/[0-9a-f-]{36}/$"))
        when = page.locator(".held__when")
        expect(when).to_contain_text(day_text)
        expect(when).to_contain_text(clock)
        expect(when).to_contain_text(CHICAGO_NAME)
        phone_screenshot(page, "book-booked")

    # The confirmation email and its invitation.
    booked = wait_for_mail(server, patient, BOOKED_SUBJECT)
    body = email_text(booked)
    assert_no_clinical_words("the confirmation email's body", body)
    assert_no_clinical_words("the confirmation email's subject", str(booked["Subject"]))
    calendar = ics_of(booked)
    assert str(calendar["METHOD"]) == "REQUEST"
    event = only_event(calendar)
    uid = str(event["UID"])
    assert uid, "the VEVENT has no UID"
    assert int(event["SEQUENCE"]) == 0
    assert event["DTSTART"].dt == start, f"DTSTART {event['DTSTART'].dt} is not the booked {start}"
    assert_no_clinical_words("the invitation's SUMMARY", str(event["SUMMARY"]))
    assert_no_clinical_words("the invitation's DESCRIPTION", str(event.get("DESCRIPTION", "")))
    links = re.findall(r"https?://\S+/manage/[^/\s]+/", body)
    assert links, f"no /manage/<token>/ link in the confirmation email:\n{body}"
    assert links[0].startswith(f"{server.base_url}/manage/"), (
        f"the manage link {links[0]} is not on this site"
    )
    manage_path = links[0].removeprefix(server.base_url)

    # The manage link, from a browser that is not signed in.
    with new_page(browser, server, timezone_id=CHICAGO) as page:
        page.goto(manage_path)
        expect(heading(page)).to_have_text("Your appointment")
        expect(page.locator(".held__when")).to_contain_text(clock)
        expect(
            page.get_by_role("navigation", name="Main").get_by_role("link", name="Sign in")
        ).to_be_visible()
        page.get_by_role("link", name="Choose another time").click()
        expect(heading(page)).to_have_text("Choose another time")
        starts = slot_starts(page)
        others = [i for i, s in enumerate(starts) if s != start and i >= first_time(page)]
        assert others, "the reschedule page offers no other time"
        new_start, new_label = hold_slot(page, others[0])
        expect(heading(page)).to_have_text("Confirm the new time")
        page.get_by_role("button", name="Move my appointment").click()
        expect(heading(page)).to_have_text("Your appointment")
        new_day, new_clock = local_label(new_start, CHICAGO)
        assert new_clock == new_label
        expect(page.locator(".held__when")).to_contain_text(new_day)
        expect(page.locator(".held__when")).to_contain_text(new_clock)
        expect(page.get_by_role("status")).to_contain_text("new time")

        moved = wait_for_mail(server, patient, MOVED_SUBJECT)
        assert_no_clinical_words("the new-time email", email_text(moved))
        # The updated email carries a new manage link (the page now on screen); the old one is dead.
        renewed = re.findall(r"https?://\S+/manage/[^/\s]+/", email_text(moved))
        assert renewed and renewed[0].removeprefix(server.base_url) != manage_path
        expect(page).to_have_url(renewed[0])
        moved_calendar = ics_of(moved)
        assert str(moved_calendar["METHOD"]) == "REQUEST"
        moved_event = only_event(moved_calendar)
        assert str(moved_event["UID"]) == uid
        assert int(moved_event["SEQUENCE"]) == 1
        assert moved_event["DTSTART"].dt == new_start
        assert renewed[0] in str(moved_event.get("DESCRIPTION", "")).replace("\n", " ")

        # Cancel from the manage page.
        page.get_by_text("Cancel this appointment").click()
        page.get_by_role("button", name="Cancel appointment").click()
        expect(heading(page)).to_have_text("Your appointment")
        expect(page.locator(".held")).to_contain_text("Status: Cancelled")
        expect(page.get_by_role("link", name="Choose another time")).to_have_count(0)

        cancelled = wait_for_mail(server, patient, CANCELLED_SUBJECT)
        assert_no_clinical_words("the cancellation email", email_text(cancelled))
        cancelled_calendar = ics_of(cancelled)
        assert str(cancelled_calendar["METHOD"]) == "CANCEL"
        cancelled_event = only_event(cancelled_calendar)
        assert str(cancelled_event["UID"]) == uid
        assert int(cancelled_event["SEQUENCE"]) == 2

    assert not problems, "app problems:\n" + "\n".join(problems)


# 2. The age rule ----------------------------------------------------------------------------


def test_under_18_cannot_book(page: Page, server: Server) -> None:
    jamie = new_patient("jamie")
    patient = jamie.email
    page.goto("/book/")
    choose_place(page, "New York")
    hold_slot(page)
    expect(page).to_have_url(CONFIRM_URL)
    sign_up_from_hold(page, server, patient)
    # The questionnaire asks the date of birth on its first step, and stops there.
    expect(page, "after signing up the patient is not sent to the questionnaire").to_have_url(INTAKE_ABOUT)
    # 17 years and a month old: still 17 on any day a consultation can be booked.
    born = years_before(dt.date.today(), 17) - dt.timedelta(days=30)  # noqa: DTZ011
    with page.expect_response(
        lambda r: r.request.method == "POST" and bool(INTAKE_ABOUT.search(r.url))
    ) as answer:
        fill_about_born(page, jamie, born)
    assert answer.value.status == 403, f"an under-18 'About you' answered {answer.value.status}"
    expect(heading(page)).to_contain_text("our consultations are for adults")
    expect(page.get_by_role("main").locator(".lead")).to_contain_text("aged 18 and over")
    numbers = page.get_by_role("main").locator(".crisis-line__number")
    expect(numbers.filter(has_text=re.compile(r"^988$")).first).to_be_visible()
    expect(numbers.filter(has_text=re.compile(r"^911$")).first).to_be_visible()
    phone_screenshot(page, "book-not-adult")

    assert upcoming_on_account_page(page) == 0, "an under-18 patient has an upcoming consultation"
    expect(page.get_by_text("You have no appointments booked.")).to_be_visible()
    assert not mails(server, patient, BOOKED_SUBJECT), "an under-18 patient was sent a booking"


# 3. Double submits --------------------------------------------------------------------------


def confirm_twice(
    page: Page,
    server: Server,
    patient: str,
    submit: Callable[[Page], None],
) -> None:
    fill_birth_date(page, adult_birth_date())
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    submit(page)
    expect(heading(page)).to_have_text("You're booked", timeout=15_000)
    assert upcoming_on_account_page(page) == 1, (
        f"{patient}: {page.locator('.booking-row').count()} upcoming consultations after a double submit "
        f"({len(posts)} POSTs sent)"
    )
    wait_for_mail(server, patient, BOOKED_SUBJECT)
    time.sleep(1.0)  # room for a second (wrong) confirmation email
    sent = mails(server, patient, BOOKED_SUBJECT)
    assert len(sent) == 1, f"{patient} received {len(sent)} booking confirmations"


def new_patient_at_confirm(page: Page, server: Server, problems: list[str], label: str) -> str:
    """A fresh patient picks the first time, signs up and answers the questionnaire; the page
    ends on "Confirm"."""
    patient = new_patient(label)
    page.goto("/book/")
    choose_place(page, "New York")
    hold_slot(page)
    confirm_url = page.url
    sign_up_from_hold(page, server, patient.email)
    through_intake(page, patient, confirm_url, problems, "signing up and verifying the email")
    return patient.email


CONFIRM_FORM = "[...document.querySelectorAll('main form')].find(f => f.querySelector('[data-once]'))"


def test_double_click_confirm_creates_one_booking(page: Page, browser: Browser, server: Server) -> None:
    problems: list[str] = []

    def double_click(p: Page) -> None:
        p.get_by_role("button", name="Confirm booking").dblclick()

    # Sam signs in, picks a time and double-clicks "Confirm booking".
    page.goto("/accounts/login/")
    page.locator("#id_login").fill(SAM)
    page.locator("#id_password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign In", exact=True).click()
    if upcoming_on_account_page(page) == 0:
        page.goto("/book/")
        choose_place(page, "New York")
        # Signed in already, the held time's confirm page sends Sam straight to the questionnaire.
        with page.expect_request(CONFIRM_URL) as held:
            hold_slot(page)
        through_intake(page, demo_patient(SAM, "Sam Patel"), held.value.url, problems, "choosing a time")
        expect(heading(page)).to_have_text("Confirm your consultation")
        confirm_twice(page, server, SAM, double_click)
    else:
        # One future consultation per patient: another test booked Sam already, so a second
        # booking would be refused whatever the button does. A fresh patient stands in.
        warnings.warn("Sam already has a consultation; a fresh patient double-clicks instead", stacklevel=1)
        with new_page(browser, server) as other:
            patient = new_patient_at_confirm(other, server, problems, "morgan")
            confirm_twice(other, server, patient, double_click)

    # A fresh patient's browser submits the form twice from script.
    with new_page(browser, server) as other:
        patient = new_patient_at_confirm(other, server, problems, "riley")

        def request_submit_twice(p: Page) -> None:
            p.evaluate(
                f"() => {{ const form = {CONFIRM_FORM}; form.requestSubmit(); form.requestSubmit(); }}"
            )

        confirm_twice(other, server, patient, request_submit_twice)

    # Chromium sends only one POST for each of the above (book.js disables the button at once,
    # and a second requestSubmit replaces the first), so the server's idempotency is checked
    # directly too: the same form posted twice at the same time, as a browser without book.js
    # (or a retry on a flaky network) could.
    with new_page(browser, server) as other:
        patient = new_patient_at_confirm(other, server, problems, "taylor")
        fill_birth_date(other, adult_birth_date())
        statuses = other.evaluate(
            f"""async () => {{
              const form = {CONFIRM_FORM};
              const post = () => fetch(form.action,
                {{method: 'POST', body: new FormData(form), redirect: 'manual'}});
              const answers = await Promise.all([post(), post()]);
              return answers.map(a => a.type === 'opaqueredirect' ? 302 : a.status);
            }}"""
        )
        assert statuses == [302, 302], f"two simultaneous confirms answered {statuses}"
        count = upcoming_on_account_page(other)
        assert count == 1, f"{count} upcoming consultations after two simultaneous confirms"
        wait_for_mail(server, patient, BOOKED_SUBJECT)
        time.sleep(1.0)  # room for a second (wrong) confirmation email
        assert len(mails(server, patient, BOOKED_SUBJECT)) == 1

    assert not problems, "app problems:\n" + "\n".join(problems)


# 4. Phone -----------------------------------------------------------------------------------


def scroll_width(page: Page) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))


def serious_axe_violations(page: Page, name: str) -> list[str]:
    results = Axe().run(page)
    found = []
    for violation in results.response["violations"]:
        if violation["impact"] in {"serious", "critical"}:
            targets = [", ".join(map(str, node["target"])) for node in violation["nodes"]]
            found.append(
                f"{name}: [{violation['impact']}] {violation['id']}: {violation['help']} -> {targets}"
            )
    return found


def test_booking_pages_work_on_a_phone(browser: Browser, server: Server) -> None:
    problems: list[str] = []
    widths: dict[str, int] = {}
    with new_page(browser, server, viewport=PHONE, timezone_id=CHICAGO) as page:
        page.goto("/book/")
        widths["book"] = scroll_width(page)
        problems += serious_axe_violations(page, "/book/")
        phone_screenshot(page, "book-start")

        choose_place(page, "New York")
        widths["slots"] = scroll_width(page)
        problems += serious_axe_violations(page, "slots page")
        phone_screenshot(page, "book-slots")

        hold_slot(page)
        confirm_url = page.url
        widths["almost there"] = scroll_width(page)
        phone_screenshot(page, "book-almost-there")
        sign_in_from_hold(page, ALEX)
        through_intake(page, demo_patient(ALEX, "Alex Rivera"), confirm_url, problems, "signing in")
        widths["confirm"] = scroll_width(page)
        phone_screenshot(page, "book-confirm")

    too_wide = {name: w for name, w in widths.items() if w > PHONE["width"] + 1}
    assert not too_wide, f"horizontal scrolling at {PHONE['width']}px: {too_wide}"
    assert not problems, "\n".join(problems)


# 5. Keyboard --------------------------------------------------------------------------------


def test_keyboard_only_booking_start(page: Page) -> None:
    page.goto("/book/")
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "id_jurisdiction":
            break
    else:
        raise AssertionError("Tab never reached the 'Where will you be' select")
    page.keyboard.type("New York")
    expect(page.locator("#id_jurisdiction")).to_have_value("US-NY")
    # Arrow keys move through the states and back.
    page.keyboard.press("ArrowDown")
    expect(page.locator("#id_jurisdiction")).to_have_value("US-NC")
    page.keyboard.press("ArrowUp")
    expect(page.locator("#id_jurisdiction")).to_have_value("US-NY")
    for _ in range(5):
        page.keyboard.press("Tab")
        focused = page.evaluate("[document.activeElement.tagName, document.activeElement.textContent]")
        if focused[0] == "BUTTON" and "Show available times" in focused[1]:
            break
    else:
        raise AssertionError("Tab never reached 'Show available times'")
    page.keyboard.press("Enter")
    expect(heading(page)).to_have_text("Choose a time")
    expect(page.locator(".zone-note")).to_contain_text("New York")
    assert slot_forms(page).count() > 0
