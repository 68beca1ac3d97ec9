"""The safety and trust round in a real browser: an acute screen after a routine one stops booking,
the on-call clinician sees who to reach, and emailed links reach a server on another port."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import DESKTOP, ROOT, SHOTS_DIR, Server, _free_port, _manage, _stop, _tail
from tests.browser.test_booking_journey import (
    BOOKED_SUBJECT,
    choose_place,
    heading,
    hold_slot,
    new_page,
    sign_up_from_hold,
    through_intake,
    upcoming_on_account_page,
    wait_for_mail,
)
from tests.browser.test_intake_journey import (
    Patient,
    answer_asq,
    answer_gad7,
    answer_phq9,
    at_step,
    choose,
    save,
    sign_in_clinician,
)

CLINICIAN = "maya.chen@demo.mendwell.example"


def screenshot(page: Page, name: str) -> None:
    SHOTS_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS_DIR / f"{name}.png"), full_page=True)


def book_routine(page: Page, server: Server, patient: Patient) -> None:
    page.goto("/book/")
    choose_place(page, "New York")
    hold_slot(page)
    confirm_url = page.url
    sign_up_from_hold(page, server, patient.email)
    problems: list[str] = []
    through_intake(page, patient, confirm_url, problems, "signing up")
    assert not problems, problems
    page.get_by_role("button", name="Confirm booking").click()
    expect(heading(page)).to_have_text("You're booked")


def test_an_acute_screen_after_a_routine_one_stops_booking(browser: Browser, server: Server) -> None:
    patient = Patient.new("quinn")
    with new_page(browser, server) as page:
        book_routine(page, server, patient)
        # A new questionnaire from the account, ASQ question 5 "yes".
        page.goto("/intake/")
        at_step(page, "about")
        save(page)
        answer_phq9(page)
        answer_gad7(page)
        answer_asq(page, yes=("asq1",))
        at_step(page, "asq5")
        choose(page, "asq5", "Yes")
        save(page)
        expect(page).to_have_url(re.compile(r"/help-now/$"))
        # Trying to book again: a time can be chosen, but the confirm step is the crisis page.
        page.goto("/book/")
        choose_place(page, "New York")
        hold_slot(page)
        expect(page).to_have_url(re.compile(r"/help-now/$"))
        expect(page.get_by_role("main")).not_to_contain_text("Confirm booking")
        assert upcoming_on_account_page(page) == 1  # only the earlier booking

    # The on-call clinician sees who and where, with the time of the screen.
    context = browser.new_context(viewport=DESKTOP, base_url=server.base_url, timezone_id="America/New_York")
    try:
        page = context.new_page()
        sign_in_clinician(page, server, CLINICIAN)
        page.goto("/clinician/")
        card = page.locator(".urgent--acute_screen").filter(has_text=patient.legal_name)
        expect(card).to_be_visible()
        expect(card).to_contain_text(patient.phone)
        expect(card).to_contain_text(patient.address)
        expect(card).to_contain_text("Emergency contact")
        screenshot(page, "urgent-item")
        SHOTS_DIR.mkdir(parents=True, exist_ok=True)
        page.screenshot(
            path=str(SHOTS_DIR / "urgent-item-top.png"), clip={"x": 0, "y": 0, "width": 1280, "height": 900}
        )
        card.get_by_label("What did you do? (outcome)").fill("Called; safe, plan agreed.")
        card.get_by_role("button", name="Acknowledge").click()
        expect(page.locator(".urgent--acute_screen").filter(has_text=patient.legal_name)).to_have_count(0)
    finally:
        context.close()


def test_emailed_links_reach_a_server_on_another_port(browser: Browser, server: Server) -> None:
    """`PORT=<other> make run` (bin/serve without SITE_URL): the emailed manage link opens."""
    var_dir = Path(tempfile.mkdtemp(prefix="mendwell-port-"))
    port = _free_port()
    env = {k: v for k, v in server.env.items() if k != "SITE_URL"}
    env.update(MENDWELL_VAR_DIR=str(var_dir), PORT=str(port), HOST="127.0.0.1")
    for args in (("create_local_key",), ("collectstatic", "--noinput", "-v0"), ("migrate", "--noinput"),
                 ("createcachetable",), ("seed_demo",)):  # fmt: skip
        _manage(env, *args)
    log = (var_dir / "serve.log").open("wb")
    serve = subprocess.Popen(
        [str(ROOT / "bin" / "serve")],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2):  # noqa: S310 (loopback)
                    break
            except OSError:
                if serve.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(_tail(var_dir / "serve.log")) from None
                time.sleep(0.3)
        other = Server(base_url=base, var_dir=var_dir, env=env)
        patient = Patient.new("porter")
        context = browser.new_context(viewport=DESKTOP, base_url=base)
        try:
            page = context.new_page()
            book_routine(page, other, patient)
            booked = wait_for_mail(other, patient.email, BOOKED_SUBJECT)
            body = booked.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
            link = re.search(r"(http://\S+/manage/\S+/)", body).group(1)  # type: ignore[union-attr]
            assert link.startswith(f"{base}/"), f"the emailed link points at {link}, not port {port}"
            page.goto(link)
            expect(heading(page)).to_have_text("Your appointment")
        finally:
            context.close()
    finally:
        os.killpg(serve.pid, 15)
        _stop(serve)
