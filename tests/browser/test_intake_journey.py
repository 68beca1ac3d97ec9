"""The intake questionnaire and safety triage in a real browser: a routine patient books after
the eight steps; an acute ASQ screen stops at the crisis page and alerts the on-call clinicians;
PHQ-9 item 9 books but marks the visit "safety assessment first"; and the steps at phone size
(axe, no sideways scrolling, a keyboard-only PHQ-9, screenshots)."""

from __future__ import annotations

import re
import secrets
import string
import time
import uuid
from dataclasses import dataclass
from email.message import EmailMessage

from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import PHONE, Server, phone_screenshot, read_emails, unused_totp_code
from tests.browser.test_booking_journey import (
    DEMO_PASSWORD,
    choose_place,
    fresh_email,
    heading,
    hold_slot,
    mails,
    new_page,
    scroll_width,
    serious_axe_violations,
    sign_up_from_hold,
    upcoming_on_account_page,
    wait_for_mail,
)

MAYA = "maya.chen@demo.mendwell.example"
CLINICIANS = {
    "Dr Maya Chen": MAYA,
    "Dr Daniel Okafor": "daniel.okafor@demo.mendwell.example",
    "Dr Sofia Reyes": "sofia.reyes@demo.mendwell.example",
}
URGENT_SUBJECT = "Something urgent is waiting for you"
ATTENTION_SUBJECT = "needs your attention"
# Words no alert email may carry (the emails say only "sign in").
ALERT_FORBIDDEN = ("suicid", "kill", "ketamine", "depress")
CLINICAL_WORDS = (*ALERT_FORBIDDEN, "harm", "phq", "asq", "item 9", "risk", "safety")
STEP_TOTAL = 8
TITLES = {
    "about": (1, "About you"),
    "phq9": (2, "How you have been feeling"),
    "gad7": (3, "Worry and anxiety"),
    "asq": (4, "Your safety"),
    "asq5": (4, "Your safety right now"),
    "conditions": (5, "Your health"),
    "medicines": (6, "Medicines"),
    "past_treatment": (7, "Past treatment and substance use"),
    "consent": (8, "Consent to video consultations"),
}
CRISIS_HEADING = "Thank you for telling us. Please get help now."
SAFETY_CARD = "Some of your answers matter a lot to us"


# The patient --------------------------------------------------------------------------------


def _letters(n: int) -> str:
    return "".join(secrets.choice(string.ascii_lowercase) for _ in range(n)).capitalize()


@dataclass
class Patient:
    email: str
    legal_name: str
    preferred_name: str
    phone: str
    contact_name: str = "Jordan Example"
    contact_phone: str = "(212) 555-0144"
    address: str = "12 Elm Street, Apt 4\nBrooklyn, NY 11201"

    @classmethod
    def new(cls, label: str) -> Patient:
        preferred = f"{label.capitalize()} {_letters(5)}"
        return cls(
            email=fresh_email(label),
            legal_name=f"{preferred} Quill-{_letters(4)}",
            preferred_name=preferred,
            phone=f"+1 212 555 {uuid.uuid4().int % 10_000:04d}",
        )


# Steps --------------------------------------------------------------------------------------


def progress(page: Page):  # type: ignore[no-untyped-def]
    return page.locator(".intake-progress")


def at_step(page: Page, step: str) -> None:
    number, title = TITLES[step]
    expect(heading(page)).to_have_text(title)
    expect(progress(page)).to_contain_text(f"Step {number} of {STEP_TOTAL}")
    bar = progress(page).get_by_role("progressbar")
    expect(bar).to_have_attribute("aria-valuenow", str(number))
    # The bar fills in proportion (the app rounds to tens of per cent).
    track, fill = bar.bounding_box(), bar.locator(".bar__fill").bounding_box()
    assert track and fill, "the progress bar is not drawn"
    assert abs(fill["width"] / track["width"] - number / STEP_TOTAL) <= 0.08, (
        f"step {number} of {STEP_TOTAL}: the bar is {fill['width'] / track['width']:.0%} full"
    )


def question(page: Page, key: str):  # type: ignore[no-untyped-def]
    return page.locator(f"fieldset#q-{key}")


def option(page: Page, key: str, answer: str):  # type: ignore[no-untyped-def]
    """The <label class="option"> reading exactly ``answer`` in question ``key``."""
    return (
        question(page, key)
        .locator("label.option")
        .filter(has_text=re.compile(rf"^\s*{re.escape(answer)}\s*$"))
    )


def choose(page: Page, key: str, answer: str) -> None:
    label = option(page, key, answer)
    label.click()
    expect(label.locator("input[type=radio]")).to_be_checked()


def expect_chosen(page: Page, key: str, answer: str) -> None:
    expect(option(page, key, answer).locator("input[type=radio]")).to_be_checked()


def save(page: Page) -> None:
    page.get_by_role("button", name="Save and continue").click()


def back(page: Page) -> None:
    page.get_by_role("main").get_by_role("link", name="Back", exact=True).click()


def questions(page: Page) -> list[str]:
    ids = page.locator("fieldset.question").evaluate_all("els => els.map(e => e.id)")
    return [i.removeprefix("q-") for i in ids]


def fill_about(page: Page, patient: Patient) -> None:
    at_step(page, "about")
    expect(page.get_by_role("main").get_by_role("link", name="Back", exact=True)).to_have_count(0)
    page.get_by_label("Your full legal name", exact=True).fill(patient.legal_name)
    page.get_by_label("What should we call you?", exact=True).fill(patient.preferred_name)
    page.get_by_label("Date of birth", exact=True).fill("1988-06-15")
    page.get_by_label("Your phone number", exact=True).fill(patient.phone)
    page.get_by_label("Emergency contact: name", exact=True).fill(patient.contact_name)
    page.get_by_label("Emergency contact: phone", exact=True).fill(patient.contact_phone)
    page.get_by_label("Where you live (address)", exact=True).fill(patient.address)
    page.get_by_label("Country", exact=True).select_option(label="United States")
    save(page)


def expect_about_kept(page: Page, patient: Patient) -> None:
    at_step(page, "about")
    expect(page.get_by_label("Your full legal name", exact=True)).to_have_value(patient.legal_name)
    expect(page.get_by_label("What should we call you?", exact=True)).to_have_value(patient.preferred_name)
    expect(page.get_by_label("Date of birth", exact=True)).to_have_value("1988-06-15")
    expect(page.get_by_label("Your phone number", exact=True)).to_have_value(patient.phone)
    expect(page.get_by_label("Emergency contact: phone", exact=True)).to_have_value(patient.contact_phone)
    expect(page.get_by_label("Where you live (address)", exact=True)).to_have_value(patient.address)
    expect(page.get_by_label("Country", exact=True)).to_have_value("US")


PHQ9_KEYS = [f"phq9_{n}" for n in range(1, 10)]


def answer_phq9(page: Page, item9: str = "Not at all") -> None:
    at_step(page, "phq9")
    assert questions(page) == [*PHQ9_KEYS, "phq9_difficulty"], questions(page)
    for key in PHQ9_KEYS[:8]:
        choose(page, key, "Several days")
    choose(page, "phq9_9", item9)
    choose(page, "phq9_difficulty", "Somewhat difficult")
    save(page)


def expect_phq9_kept(page: Page, item9: str = "Not at all") -> None:
    at_step(page, "phq9")
    for key in PHQ9_KEYS[:8]:
        expect_chosen(page, key, "Several days")
    expect_chosen(page, "phq9_9", item9)
    expect_chosen(page, "phq9_difficulty", "Somewhat difficult")


def answer_gad7(page: Page) -> None:
    at_step(page, "gad7")
    for key in questions(page):
        choose(page, key, "Several days")
    save(page)


def answer_asq(page: Page, yes: tuple[str, ...] = ()) -> None:
    at_step(page, "asq")
    assert questions(page) == ["asq1", "asq2", "asq3", "asq4"], questions(page)
    for key in questions(page):
        choose(page, key, "Yes" if key in yes else "No")
    save(page)


def answer_all(page: Page, step: str, answer: str = "No") -> None:
    at_step(page, step)
    keys = questions(page)
    assert keys, f"no questions on the {step} step"
    for key in keys:
        choose(page, key, answer)


def answer_conditions(page: Page) -> None:
    answer_all(page, "conditions")
    save(page)


def answer_medicines(page: Page) -> None:
    answer_all(page, "medicines")
    page.get_by_label(re.compile("^Please list all the medicines you take now")).fill(
        "Sertraline 100 mg once a day"
    )
    save(page)


def answer_past_treatment(page: Page) -> None:
    at_step(page, "past_treatment")
    choose(page, "antidepressants_tried", "1")
    choose(page, "psychotherapy", "Yes")
    choose(page, "ect_tms", "No")
    choose(page, "ketamine_before", "No")
    save(page)


def answer_history(page: Page) -> None:
    """Health conditions (all "No"), medicines (all "No", one listed) and past treatment."""
    answer_conditions(page)
    answer_medicines(page)
    answer_past_treatment(page)


def sign_consent(page: Page, patient: Patient) -> None:
    at_step(page, "consent")
    expect(page.locator(".consent")).to_contain_text("Consent to a telehealth consultation")
    page.locator("label[for=id_agree]").click()
    expect(page.get_by_label("I have read and agree to the consent above.")).to_be_checked()
    page.get_by_label("Type your full name to sign", exact=True).fill(patient.legal_name)
    page.get_by_role("button", name="Send my answers").click()


def start_booking(page: Page, server: Server, patient: Patient) -> str:
    """/book/ → New York → the first time → a new account; returns the confirm page's URL.
    The questionnaire should come next."""
    page.goto("/book/")
    choose_place(page, "New York")
    hold_slot(page)
    expect(page).to_have_url(re.compile(r"/book/confirm/[0-9a-f-]{36}/$"))
    confirm_url = page.url
    sign_up_from_hold(page, server, patient.email)
    expect(page).to_have_url(re.compile(r"/intake/[0-9a-f-]{36}/about/$"))
    return confirm_url


def mistyped(phone: str) -> str:
    return phone[:-1] + str((int(phone[-1]) + 1) % 10)


def ask_for_callback(page: Page, phone: str, again: str) -> None:
    page.get_by_label("Phone number to call").fill(phone)
    page.get_by_label("The same number again").fill(again)
    page.get_by_role("button", name="Ask for a call-back").click()


def main_numbers(page: Page, scope=None):  # type: ignore[no-untyped-def]
    return (scope or page.get_by_role("main")).locator(".crisis-line__number")


def expect_crisis_numbers(page: Page, scope=None) -> None:  # type: ignore[no-untyped-def]
    numbers = main_numbers(page, scope)
    expect(numbers.filter(has_text=re.compile(r"^988$")).first).to_be_visible()
    expect(numbers.filter(has_text=re.compile(r"^911$")).first).to_be_visible()


# Clinicians ---------------------------------------------------------------------------------


def sign_in_clinician(page: Page, server: Server, email_address: str) -> None:
    """Password, then a TOTP code not used yet (allauth refuses a code used once already)."""
    page.goto("/accounts/login/")
    page.locator("#id_login").fill(email_address)
    page.locator("#id_password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign In", exact=True).click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/"))
    code = unused_totp_code(server, email_address)
    page.locator("#id_code").fill(code)
    page.get_by_role("button", name="Sign In", exact=True).click()
    expect(page).to_have_url(f"{server.base_url}/clinician/")
    expect(heading(page)).to_contain_text("Good to see you")


# Emails -------------------------------------------------------------------------------------


def whole_text(message: EmailMessage) -> str:
    parts = [str(message.get("Subject", ""))]
    for part in message.walk():
        if part.get_content_maintype() == "text":
            content = part.get_content()  # type: ignore[attr-defined]
            parts.append(content if isinstance(content, str) else content.decode(errors="replace"))
    return "\n".join(parts)


def assert_says_nothing(what: str, message: EmailMessage, words: tuple[str, ...], patient: Patient) -> None:
    text = whole_text(message).lower()
    for word in (*words, patient.legal_name.lower(), patient.preferred_name.lower(), patient.email):
        assert word.lower() not in text, f"{what} ({message['To']}) contains {word!r}:\n{text}"


def urgent_mails(server: Server, to: str) -> list[EmailMessage]:
    return mails(server, to, URGENT_SUBJECT)


def wait_for_count(
    server: Server, to: str, subject: str, count: int, timeout: float = 15.0
) -> list[EmailMessage]:
    deadline = time.monotonic() + timeout
    while True:
        found = mails(server, to, subject)
        if len(found) >= count:
            return found
        if time.monotonic() > deadline:
            subjects = [str(m["Subject"]) for m in read_emails(server) if to in str(m["To"])]
            raise AssertionError(f"{to} got {len(found)} of {count} {subject!r} emails; all: {subjects}")
        time.sleep(0.2)


# 1. Routine ---------------------------------------------------------------------------------


def test_routine_patient_books_with_intake(browser: Browser, server: Server) -> None:
    patient = Patient.new("river")
    with new_page(browser, server) as page:
        confirm_url = start_booking(page, server, patient)

        # About you, then Back from the PHQ-9: what was typed is still there.
        fill_about(page, patient)
        at_step(page, "phq9")
        back(page)
        expect_about_kept(page, patient)
        save(page)

        # The PHQ-9, then Back from the GAD-7: every answer is still chosen.
        answer_phq9(page)
        at_step(page, "gad7")
        back(page)
        expect_phq9_kept(page)
        save(page)

        answer_gad7(page)
        answer_asq(page)
        # All four "No": no question 5, straight on to the health conditions; Back skips it too.
        at_step(page, "conditions")
        assert "/asq5/" not in page.url
        back(page)
        at_step(page, "asq")
        for key in ("asq1", "asq2", "asq3", "asq4"):
            expect_chosen(page, key, "No")
        save(page)

        answer_history(page)
        sign_consent(page, patient)

        # Back on the confirm page: routine, so no safety card, then booked.
        expect(page).to_have_url(confirm_url)
        expect(heading(page)).to_have_text("Confirm your consultation")
        expect(page.get_by_text(SAFETY_CARD)).to_have_count(0)
        # The questionnaire asked for the date of birth already.
        expect(page.get_by_label("Your date of birth")).to_have_count(0)
        page.get_by_role("button", name="Confirm booking").click()
        expect(heading(page)).to_have_text("You're booked")
        assert upcoming_on_account_page(page) == 1

        # The patient can read what they sent.
        page.goto("/me/questionnaire/")
        expect(heading(page)).to_have_text("Your questionnaire")
        expect(page.locator(".summary")).to_contain_text("PHQ-9")


# 2. Acute -----------------------------------------------------------------------------------


def test_acute_screen_shows_crisis_and_alerts_on_call(browser: Browser, server: Server) -> None:
    problems: list[str] = []
    patient = Patient.new("kit")
    callback_phone = f"+1 646 555 {uuid.uuid4().int % 10_000:04d}"
    before = {email: len(urgent_mails(server, email)) for email in CLINICIANS.values()}
    with new_page(browser, server) as page:
        confirm_url = start_booking(page, server, patient)
        fill_about(page, patient)
        answer_phq9(page)
        answer_gad7(page)
        answer_asq(page, yes=("asq3",))

        # Question 5, on its own page, still step 4.
        at_step(page, "asq5")
        assert questions(page) == ["asq5"], questions(page)
        expect(question(page, "asq5").locator("legend")).to_have_text(
            "Are you having thoughts of killing yourself right now?"
        )
        choose(page, "asq5", "Yes")
        save(page)

        # The crisis page: numbers to call, nothing to book.
        expect(page).to_have_url(re.compile(r"/intake/[0-9a-f-]{36}/help-now/$"))
        crisis_url = page.url
        expect(heading(page)).to_have_text(CRISIS_HEADING)
        expect_crisis_numbers(page, page.locator(".card--alert"))
        main = page.get_by_role("main")
        expect(main.get_by_role("button", name=re.compile("book", re.I))).to_have_count(0)
        expect(main.locator("a[href*='/book/']")).to_have_count(0)
        expect(main).to_contain_text("We have not booked an appointment")

        # No booking, and the held time is gone.
        assert upcoming_on_account_page(page) == 0, "an acute screen left an upcoming consultation"
        expect(page.get_by_text("You have no appointments booked.")).to_be_visible()
        answer = page.goto(confirm_url)
        assert answer is not None and answer.status == 404, (
            f"the held time's confirm page answered {answer and answer.status} after an acute screen"
        )

        # A call-back: the number twice, a mismatch first.
        page.goto(crisis_url)
        expect(page.get_by_label("Phone number to call")).to_have_value(patient.phone)
        ask_for_callback(page, callback_phone, mistyped(callback_phone))
        expect(page.locator(".field--error .error")).to_have_text(
            "The two numbers differ. Please check them."
        )
        expect(page.get_by_text("We will call you on")).to_have_count(0)
        ask_for_callback(page, callback_phone, callback_phone)
        expect(page).to_have_url(crisis_url)
        expect(page.get_by_role("status")).to_contain_text("We will call you on")
        expect(page.get_by_role("button", name="Ask for a call-back")).to_have_count(0)

    # Every clinician (nobody is on call) gets two alerts: the screen and the call-back.
    for email_address, count in before.items():
        for message in wait_for_count(server, email_address, URGENT_SUBJECT, count + 2)[count:]:
            assert_says_nothing("the urgent alert email", message, ALERT_FORBIDDEN, patient)

    # Dr Chen signs in: the urgent section, the questionnaire with the number, Acknowledge.
    with new_page(browser, server) as page:
        sign_in_clinician(page, server, MAYA)
        urgent = page.locator("section[aria-labelledby=urgent-title]")
        expect(urgent.get_by_role("heading", level=2)).to_have_text(re.compile(r"^Urgent \(\d+\)$"))
        items = urgent.locator("li")
        expect(items.filter(has_text="Acute suicide-risk screen").last).to_be_visible()
        expect(items.filter(has_text="Asked for an urgent call-back").last).to_be_visible()
        count = items.count()
        assert count >= 2
        expect(urgent.get_by_role("heading", level=2)).to_have_text(f"Urgent ({count})")

        phone_screenshot(page, "intake-clinician-urgent")
        shown_on_dashboard = urgent.get_by_text(callback_phone).count() > 0
        # Acute items first, each group oldest first: this patient's are the last of each kind.
        callback_item = items.filter(has_text="Asked for an urgent call-back").last
        expect(callback_item).to_contain_text(callback_phone)  # the number to call, on the item itself
        link = callback_item.get_by_role("link", name="Open the questionnaire")
        dashboard = page.url
        link.click()
        expect(heading(page)).to_have_text(patient.preferred_name)
        expect(page.get_by_role("main")).to_contain_text("Triage: Acute")
        expect(page.get_by_role("main").get_by_role("link", name=patient.phone)).to_be_visible()
        expect(page.get_by_role("main")).to_contain_text(patient.contact_name)
        phone_screenshot(page, "intake-clinician-questionnaire")
        if not shown_on_dashboard and not page.get_by_role("main").get_by_text(callback_phone).count():
            problems.append(
                f"the call-back number the patient typed on the crisis page ({callback_phone}) is shown "
                "nowhere to the clinician: neither on the dashboard's urgent item nor on the "
                f"questionnaire page (which shows only the profile phone {patient.phone})"
            )
        page.goto(dashboard)
        expect(urgent.locator("li")).to_have_count(count)
        callback_item = items.filter(has_text="Asked for an urgent call-back").last
        callback_item.get_by_label("What did you do? (outcome)").fill("Called back; safe with family.")
        callback_item.get_by_role("button", name="Acknowledge").click()
        expect(page).to_have_url(f"{server.base_url}/clinician/")
        expect(page.get_by_role("status")).to_contain_text("Acknowledged, with your outcome.")
        if count == 1:
            expect(urgent).to_have_count(0)
        else:
            expect(urgent.locator("li")).to_have_count(count - 1)
            expect(urgent.get_by_role("heading", level=2)).to_have_text(f"Urgent ({count - 1})")
            expect(items.filter(has_text="Acute suicide-risk screen").last).to_be_visible()

    assert not problems, "app problems:\n" + "\n".join(problems)


# 3. PHQ-9 item 9 ----------------------------------------------------------------------------


def test_item_nine_books_and_clinician_sees_safety_first(browser: Browser, server: Server) -> None:
    patient = Patient.new("wren")
    notices_before = {email: len(mails(server, email, ATTENTION_SUBJECT)) for email in CLINICIANS.values()}
    with new_page(browser, server) as page:
        confirm_url = start_booking(page, server, patient)
        fill_about(page, patient)
        answer_phq9(page, item9="Several days")
        answer_gad7(page)
        answer_asq(page)
        answer_history(page)
        sign_consent(page, patient)

        expect(page).to_have_url(confirm_url)
        expect(heading(page)).to_have_text("Confirm your consultation")
        card = page.locator(".card--alert", has_text=SAFETY_CARD)
        expect(card).to_be_visible()
        expect_crisis_numbers(page, card)
        phone_screenshot(page, "intake-confirm-safety-first")
        page.get_by_role("button", name="Confirm booking").click()
        expect(heading(page)).to_have_text("You're booked")
        held = page.locator(".held").first
        match = re.search(r"with (Dr [A-Za-z ]+?)\.", held.inner_text())
        assert match, f"no 'with Dr …' on the booked page: {held.inner_text()!r}"
        doctor = match.group(1)
    assert doctor in CLINICIANS, f"booked with {doctor!r}, not a demo clinician"
    clinician = CLINICIANS[doctor]

    # The booked clinician is told, without a clinical word.
    notice = wait_for_mail(server, clinician, ATTENTION_SUBJECT, count=notices_before[clinician] + 1)
    assert "attention" in str(notice["Subject"]).lower()
    assert_says_nothing("the safety-first email", notice, CLINICAL_WORDS, patient)

    with new_page(browser, server) as page:
        sign_in_clinician(page, server, clinician)
        row = page.locator("table tbody tr", has_text=patient.preferred_name)
        expect(row).to_have_count(1)
        expect(row.locator(".badge--alert", has_text="Safety assessment first")).to_be_visible()
        expect(row).to_contain_text("item 9: 1")
        row.get_by_role("link").first.click()
        expect(page).to_have_url(re.compile(r"/clinician/appointments/[0-9a-f-]{36}/$"))
        expect(heading(page)).to_have_text(patient.preferred_name)
        banner = page.get_by_role("alert").filter(has_text="Safety assessment first")
        expect(banner).to_be_visible()
        expect(page.locator(".flag-item9").first).to_contain_text("Item 9")
        expect(page.get_by_role("main")).to_contain_text("Safety assessment first")
        phone_screenshot(page, "intake-clinician-appointment")
    for other, count in notices_before.items():
        if other != clinician:
            assert len(mails(server, other, ATTENTION_SUBJECT)) == count, (
                f"{other} was told about another's patient"
            )


# 4. Phone, keyboard, axe --------------------------------------------------------------------


def answer_phq9_by_keyboard(page: Page, problems: list[str]) -> None:
    """Tab to the first group; in each group an arrow key chooses; Tab to the next; Enter on
    "Save and continue"."""
    at_step(page, "phq9")

    def focused() -> dict[str, str]:
        return page.evaluate(
            """() => { const e = document.activeElement; return {tag: e.tagName, type: e.type || '',
                name: e.name || '', value: e.value || '', text: (e.textContent || '').trim(),
                ring: getComputedStyle(e).boxShadow + ' ' + getComputedStyle(e).outlineStyle}; }"""
        )

    for _ in range(40):
        page.keyboard.press("Tab")
        if focused()["name"] == "phq9_1":
            break
    else:
        raise AssertionError("Tab never reached the first PHQ-9 question")
    if focused()["ring"].startswith("none") and "solid" not in focused()["ring"]:
        problems.append(f"PHQ-9: a keyboard-focused radio has no visible focus ring ({focused()['ring']})")

    wanted = {key: ("Several days", "1") for key in PHQ9_KEYS[:8]}
    wanted["phq9_9"] = ("Not at all", "0")
    wanted["phq9_difficulty"] = ("Somewhat difficult", "somewhat_difficult")
    for key, (label, value) in wanted.items():
        now = focused()
        assert now["type"] == "radio" and now["name"] == key, f"expected focus in {key}, it is on {now}"
        page.keyboard.press("ArrowDown")  # the second choice
        if key == "phq9_9":
            page.keyboard.press("ArrowUp")  # and back to the first
        expect_chosen(page, key, label)
        assert focused()["value"] == value
        page.keyboard.press("Tab")

    for _ in range(5):
        now = focused()
        if now["tag"] == "BUTTON" and now["text"] == "Save and continue":
            break
        page.keyboard.press("Tab")
    else:
        raise AssertionError(
            f"Tab never reached 'Save and continue' after the last question (on {focused()})"
        )
    page.keyboard.press("Enter")
    at_step(page, "gad7")


def dangling_descriptions(page: Page, name: str) -> list[str]:
    """Fields whose aria-describedby names an id that is not on the page (so a screen reader
    never hears the error or help text)."""
    missing = page.evaluate(
        """() => [...document.querySelectorAll('main [aria-describedby]')].flatMap(e =>
            e.getAttribute('aria-describedby').split(/\\s+/).filter(id => id && !document.getElementById(id))
             .map(id => `${e.name || e.id} -> #${id}`))"""
    )
    return [f"{name}: aria-describedby points at missing ids: {missing}"] if missing else []


def test_intake_pages_keyboard_phone_and_axe(browser: Browser, server: Server) -> None:
    problems: list[str] = []
    widths: dict[str, int] = {}
    patient = Patient.new("ash")
    with new_page(browser, server, viewport=PHONE) as page:

        def look(name: str, *, axe: bool = False) -> None:
            widths[name] = scroll_width(page)
            if axe:
                problems.extend(serious_axe_violations(page, name))
                problems.extend(dangling_descriptions(page, name))
            phone_screenshot(page, f"intake-{name}")

        start_booking(page, server, patient)
        at_step(page, "about")
        look("about", axe=True)
        # Nothing filled in: every required field says so.
        save(page)
        at_step(page, "about")
        expect(page.locator(".field--error")).to_have_count(6)
        look("about-errors", axe=True)
        fill_about(page, patient)

        at_step(page, "phq9")
        look("phq9", axe=True)
        answer_phq9_by_keyboard(page, problems)
        back(page)
        expect_phq9_kept(page)
        save(page)

        at_step(page, "gad7")
        look("gad7")
        answer_gad7(page)
        at_step(page, "asq")
        look("asq", axe=True)
        answer_asq(page)
        at_step(page, "conditions")
        look("conditions")
        answer_conditions(page)
        at_step(page, "medicines")
        look("medicines")
        answer_medicines(page)
        at_step(page, "past_treatment")
        look("past-treatment")
        answer_past_treatment(page)
        at_step(page, "consent")
        look("consent", axe=True)
        page.get_by_role("button", name="Send my answers").click()
        at_step(page, "consent")
        expect(page.locator(".field--error")).to_have_count(2)
        look("consent-errors", axe=True)

        # Back through the steps to the ASQ; a "yes" now asks question 5, then the crisis page.
        for step in ("past_treatment", "medicines", "conditions", "asq"):
            back(page)
            at_step(page, step)
        answer_asq(page, yes=("asq1",))
        at_step(page, "asq5")
        look("asq5", axe=True)
        choose(page, "asq5", "Yes")
        save(page)
        expect(heading(page)).to_have_text(CRISIS_HEADING)
        look("crisis", axe=True)
        ask_for_callback(page, patient.phone, mistyped(patient.phone))
        expect(page.locator(".field--error .error")).to_have_text(
            "The two numbers differ. Please check them."
        )
        look("crisis-error", axe=True)
        ask_for_callback(page, patient.phone, patient.phone)
        expect(page.get_by_role("status")).to_contain_text("We will call you on")
        look("crisis-callback")

    too_wide = {name: w for name, w in widths.items() if w > PHONE["width"] + 1}
    if too_wide:
        problems.append(f"horizontal scrolling at {PHONE['width']}px: {too_wide}")
    assert not problems, "\n".join(problems)
