"""A patient mid-course answers a weekly check-in from the emailed link; the clinician sees the
new point on the chart and, after a worse answer, a relapse-watch item on the dashboard."""

from __future__ import annotations

import re
import time

from playwright.sync_api import Page, expect

from tests.browser.conftest import DESKTOP, ROOT, Server, email_text, manage, read_emails, unused_totp_code

PATIENT = "morgan.mid@example.org"
MAYA = "maya.chen@demo.mendwell.example"
PASSWORD = "mendwell-demo-2026"

# Mid-course: baseline 19, a response (8), then 6 a week ago; today's check-in waits to be sent.
SETUP = f"""
import datetime as dt
from django.utils import timezone
from clinic.accounts.models import Role, User
from allauth.account.models import EmailAddress
from clinic.measures.demo import give_measures
from clinic.measures.actions import do_reschedule as reschedule
from clinic.measures.models import CheckIn
patient = User.objects.create_user("{PATIENT}", "{PASSWORD}", role=Role.PATIENT, display_name="Morgan Mid",
    time_zone="America/New_York")
EmailAddress.objects.create(user=patient, email="{PATIENT}", verified=True, primary=True)
maya = User.objects.get(email="{MAYA}")
schedule = give_measures(patient, clinician=maya, weeks=((19, 15, 0), (14, 12, 0), (8, 8, 0), (6, 7, 0)))
# One session, on the first day: no side-effect check-in is waiting besides the weekly one.
reschedule(course_ref=schedule.course_ref, sessions=[schedule.induction_start], last_session=None)
# Today's weekly check-in goes out at 09:00 in the patient's zone: bring it forward to now.
CheckIn.objects.filter(schedule=schedule, status="scheduled",
    due_on=schedule.induction_start + dt.timedelta(weeks=4)).update(send_after=timezone.now())
from clinic.measures.tasks import checkin_sweep
checkin_sweep.enqueue()
"""

# PHQ-9 total 12 (≥ 10 and ≥ half the baseline of 19, after a response): relapse watch.
WORSE = {1: "2", 2: "2", 3: "2", 4: "2", 5: "2", 6: "1", 7: "1", 8: "0", 9: "0"}


def _checkin_email(server: Server, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in read_emails(server):
            if (
                PATIENT in str(message.get("To", ""))
                and "check-in" in str(message.get("Subject", "")).lower()
            ):
                found = re.search(r"(http://\S+/check-in/\S+/)", email_text(message))
                assert found, email_text(message)
                return found.group(1)
        time.sleep(0.3)
    raise AssertionError(
        f"no check-in email; worker log:\n{(server.var_dir / 'worker.log').read_text()[-3000:]}"
    )


def test_a_weekly_check_in_from_the_email_reaches_the_clinicians_chart(page: Page, server: Server, browser):
    manage(server, "shell", "-c", SETUP)
    link = _checkin_email(server)
    assert "depress" not in link and re.search(r"/check-in/[A-Za-z0-9_-]{40,}/$", link)

    # The link asks for sign-in first, then opens the check-in.
    page.goto(link)
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.locator("#id_login").fill(PATIENT)
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your check-in")
    for n, value in WORSE.items():
        page.locator(f"input[name=phq9_{n}][value='{value}']").check()
    for n in range(1, 8):
        page.locator(f"input[name=gad7_{n}][value='1']").check()
    for n in range(1, 5):
        page.locator(f"input[name=asq{n}][value='no']").check()
    if page.locator("input[name=auditc_1]").count():  # a monthly check-in due the same day
        for name in ("auditc_1", "auditc_2", "auditc_3", "drug_use_1"):
            page.locator(f"input[name={name}][value='0']").check()
        for name in ("bl_pain", "bl_often", "bl_blood"):
            page.locator(f"input[name={name}][value='no']").check()
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your check-ins")
    expect(page.get_by_text("your answers are in")).to_be_visible()
    expect(page.get_by_text("Lower is better.")).to_be_visible()
    # The link works once.
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("This link no longer works")

    # The clinician: the relapse-watch item on the dashboard, the new point on the chart.
    doctor = browser.new_context(viewport=DESKTOP, base_url=server.base_url).new_page()
    doctor.goto("/accounts/login/")
    doctor.locator("#id_login").fill(MAYA)
    doctor.locator("#id_password").fill(PASSWORD)
    doctor.get_by_role("button", name="Sign In", exact=True).click()
    expect(doctor).to_have_url(re.compile(r"/accounts/2fa/authenticate/"))
    doctor.locator("#id_code").fill(unused_totp_code(server, MAYA))
    doctor.get_by_role("button", name="Sign In", exact=True).click()
    doctor.goto("/clinician/")
    attention = doctor.locator("#attention-title").locator("..")
    expect(attention).to_contain_text("Relapse watch")
    expect(attention).to_contain_text("Morgan Mid")
    expect(attention).to_contain_text("PHQ-9 12 after a response; baseline 19")
    attention.get_by_role("link", name="Open the measures").first.click()
    expect(doctor.get_by_role("heading", level=1)).to_have_text("Measures: Morgan Mid")
    table = doctor.locator("table").first
    last = table.locator("tbody tr").last
    expect(last).to_contain_text("12")
    expect(last).to_contain_text("relapse watch")
    chart = doctor.locator(".measures-phq9 svg").first
    expect(chart).to_be_visible()
    # Five PHQ-9 dots: four earlier weeks and the new answer (pygal draws one circle.dot per value).
    expect(doctor.locator(".measures-phq9 .serie-5 circle.dot")).to_have_count(5)
    # The README's picture: the demo's mid-course patient, whose item waits on the same list.
    doctor.goto("/clinician/")
    doctor.locator("li", has_text="Alex Rivera").get_by_role("link", name="Open the measures").click()
    expect(doctor.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Measures: Alex\b"))
    doctor.locator(".measures-chart").first.screenshot(
        path=str(ROOT / "docs" / "screenshots" / "measures-chart.png")
    )
