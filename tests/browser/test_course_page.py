"""The treatment course page in a real browser: Dr Maya Chen opens the demo patient's course
(three sessions done, two booked, the prescribing record) and the patient reads their plan with
no dose on it. Screenshots for the README tour."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import DESKTOP, SHOTS_DIR, Server, manage

ALEX = "alex.rivera@demo.mendwell.example"
MAYA = "maya.chen@demo.mendwell.example"
DEMO_PASSWORD = "mendwell-demo-2026"


def test_the_course_page_shows_the_timeline_and_prescribing_record(page: Page, server: Server) -> None:
    from tests.browser.test_consultation_journey import sign_in_with_code

    alex = manage(
        server, "shell", "-c",
        f"from clinic.accounts.models import User; print(User.objects.get(email='{ALEX}').public_id)",
    ).strip().splitlines()[-1]  # fmt: skip
    page.set_viewport_size(DESKTOP)
    sign_in_with_code(page, server, MAYA)
    page.goto(f"/clinician/patients/{alex}/course/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("treatment course")
    expect(page.locator("#sessions-title")).to_be_visible()
    expect(page.get_by_text(re.compile(r"\d+ done · \d+ to come"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"DEA telemedicine flexibilities · in force until"))).to_be_visible()
    SHOTS_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS_DIR / "course.png"), full_page=True)
    page.goto("/accounts/logout/")
    page.get_by_role("button", name="Sign Out", exact=True).click()
    page.goto("/accounts/login/")
    page.locator("#id_login").fill(ALEX)
    page.locator("#id_password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign In", exact=True).click()
    page.goto("/me/plan/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your treatment plan")
    main = page.locator("main").inner_text()
    assert "mg" not in main.split() and "84" not in main and "Do not drive" in main
    page.screenshot(path=str(SHOTS_DIR / "my-plan.png"), full_page=True)
