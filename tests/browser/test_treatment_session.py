"""One whole in-clinic esketamine session in a real browser, nurse and prescriber side by side.

A session is booked now with Dr Maya Chen and the nurse Riley Brooks for a patient whose
pre-session check-in is answered (built through the database: the plan's own pages are tested
where they are built). Riley records the pre-dose vital signs (their real time, a few minutes
back); Dr Chen sees the hold rule pass and records 56 mg given 41 minutes ago (a late entry with
its real time), so the 40-minute reading is asked for at once; Riley records it with sedation and
dissociation. Discharge is blocked at 41 of 120 minutes, in the page and on the server. Then the
clinic's clock is moved on (the dose time is shifted 80 minutes back in the database, as two
hours passing would): the open page opens discharge by itself; Riley records the discharge
reading and checks and discharges; Dr Chen records no adverse events and signs, the page says the
REMS form is due in 7 days, the printable form is filled from the record, and staff mark it
submitted. The site's controlled-substance register has the administration line.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from zoneinfo import ZoneInfo

from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import DESKTOP, SHOTS_DIR, Server, manage, unused_totp_code

DEMO_PASSWORD = "mendwell-demo-2026"
MAYA = "maya.chen@demo.mendwell.example"
RILEY = "riley.brooks@demo.mendwell.example"
JORDAN = "jordan.lee@demo.mendwell.example"
NEW_YORK = ZoneInfo("America/New_York")
SCREENSHOT = SHOTS_DIR

SETUP = """
import datetime as dt
from django.utils import timezone
from clinic.accounts.models import PatientProfile, Role, User
from clinic.care.models import PreSessionCheckIn
from tests.support.personas import make_user
from tests.support.treatment_session import make_session
maya = User.objects.get(email="{maya}")
patient = make_user("avery.stone@demo.mendwell.example", Role.PATIENT, name="Avery Stone")
PatientProfile.objects.update_or_create(user=patient, defaults={{"date_of_birth": "1988-03-02"}})
session = make_session(
    patient=patient,
    clinician=maya,
    staff=User.objects.get(email="{jordan}"),
    nurse=User.objects.get(email="{riley}"),
    start=timezone.now() - dt.timedelta(minutes=50),
)
PreSessionCheckIn.objects.create(
    session=session, patient=patient, status="submitted", answers_json="{{}}", asq_result="negative",
    triage="routine", created_at=timezone.now() - dt.timedelta(hours=3),
    submitted_at=timezone.now() - dt.timedelta(hours=3),
)
print(session.public_id)
"""

# Two hours pass: the dose time moves back (the record is not signed yet, so the database lets it).
MOVE_CLOCK = """
import datetime as dt
from clinic.care.models.sessions import SessionRecord
record = SessionRecord.objects.get(session__public_id="{session}")
SessionRecord.objects.filter(pk=record.pk).update(dosed_at=record.dosed_at - dt.timedelta(minutes=80))
"""


def sign_in(page: Page, server: Server, email_address: str) -> None:
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


def local(minutes_ago: int) -> str:
    """A datetime-local value in New York (both people's zone) ``minutes_ago`` minutes back."""
    at = dt.datetime.now(tz=NEW_YORK) - dt.timedelta(minutes=minutes_ago)
    return at.strftime("%Y-%m-%dT%H:%M")


def vitals(
    page: Page, when: str, systolic: str, diastolic: str, heart_rate: str, spo2: str, ago: int | None = None
):
    form = page.locator("#vitals-form")
    form.locator("#vitals_when").select_option(when)
    form.locator("#vitals_systolic").fill(systolic)
    form.locator("#vitals_diastolic").fill(diastolic)
    form.locator("#vitals_heart_rate").fill(heart_rate)
    form.locator("#vitals_spo2").fill(spo2)
    if ago is not None:
        form.locator("#vitals_taken_at").fill(local(ago))
    form.get_by_role("button", name="Record vital signs").click()
    expect(page.locator(".messages")).to_contain_text("Vital signs recorded.")


def check(page: Page, when: str, moaas: str, cadss: str, spo2: str) -> None:
    form = page.locator("#observation-form")
    form.locator("#check_when").select_option(when)
    form.locator("#check_moaas").select_option(moaas)
    form.locator("#check_cadss_form").select_option("short_6")
    form.locator("#check_cadss_score").fill(cadss)
    form.locator("#check_spo2").fill(spo2)
    form.get_by_role("button", name="Record the check").click()
    expect(page.locator(".messages")).to_contain_text("Sedation and dissociation recorded.")


def test_one_whole_in_clinic_esketamine_session(browser: Browser, server: Server) -> None:
    printed = manage(server, "shell", "-c", SETUP.format(maya=MAYA, jordan=JORDAN, riley=RILEY))
    session_id = printed.strip().splitlines()[-1]  # after the shell's own line about its imports
    assert re.fullmatch(r"[0-9a-f-]{36}", session_id), session_id
    path = f"/care/sessions/{session_id}/"
    contexts = [browser.new_context(viewport=DESKTOP, base_url=server.base_url) for _ in range(3)]
    nurse, doctor, staff = (context.new_page() for context in contexts)
    for page in (nurse, doctor, staff):
        page.set_default_timeout(15_000)
    try:
        # The nurse's day lists the session; the page opens with the check-in answered.
        sign_in(nurse, server, RILEY)
        expect(nurse.locator("#day-sessions")).to_contain_text("Avery Stone")
        expect(nurse.locator("#day-sessions")).to_contain_text("Not dosed yet")
        nurse.locator("#day-sessions").get_by_role("link", name="Avery Stone").click()
        expect(nurse).to_have_url(re.compile(path))
        expect(nurse.locator("#checkin")).to_contain_text("answered")
        expect(nurse.locator("#missing")).to_contain_text("Pre-dose vital signs")
        expect(nurse.locator("#dose-form")).to_have_count(0)
        vitals(nurse, "pre_dose", "132", "84", "76", "98", ago=45)
        expect(nurse.locator("#missing")).not_to_contain_text("Pre-dose vital signs")

        # The prescriber records the dose: 56 mg, given 41 minutes ago.
        sign_in(doctor, server, MAYA)
        doctor.goto(path)
        expect(doctor.locator("#hold")).to_have_count(0)
        form = doctor.locator("#dose-form")
        form.locator("#dose_dose_mg").fill("56")
        # The lot is chosen from the site's register (seeded with the demo esketamine lot).
        lot_value = form.locator("#dose_register_lot option", has_text="DEMO-E-2611").get_attribute("value")
        assert lot_value
        form.locator("#dose_register_lot").select_option(lot_value)
        form.locator("#dose_taken_at").fill(local(41))
        form.get_by_role("button", name="Record the dose given").click()
        expect(doctor.locator(".messages")).to_contain_text("Dose recorded")
        expect(doctor.locator("#clock")).to_contain_text(re.compile(r"In observation: 4[12] of 120 minutes"))
        expect(doctor.get_by_text("56.00 mg (0.80 mg/kg)")).to_be_visible()
        expect(doctor.locator("#post-dose-due")).to_be_visible()

        # The nurse's open page notices the dose and asks for the 40-minute reading.
        expect(nurse.locator("#post-dose-due")).to_be_visible(timeout=20_000)
        vitals(nurse, "post_dose", "138", "86", "80", "97")
        check(nurse, "post_dose", "4", "6", "97")
        expect(nurse.locator("#post-dose-due")).to_be_hidden()
        SCREENSHOT.mkdir(parents=True, exist_ok=True)
        nurse.screenshot(path=str(SCREENSHOT / "session-record.png"), full_page=True)
        # Discharge is closed at 41 minutes, on the page and on the server.
        expect(nurse.locator("#discharge-button")).to_be_disabled()
        expect(nurse.locator("#discharge-wait")).to_contain_text("after 120 minutes")
        nurse.evaluate("document.getElementById('discharge-button').disabled = false")
        nurse.locator("#discharge-button").click()
        expect(nurse.locator(".messages")).to_contain_text(re.compile(r"Observed 4[12] of 120 minutes"))
        expect(nurse.locator("#clock")).to_contain_text("In observation")

        # The clinician's day shows who is in observation and for how long.
        doctor.goto("/clinician/")
        expect(doctor.locator("#day-sessions")).to_contain_text(
            re.compile(r"In observation: 4[12] of 120 minutes")
        )

        # Two hours pass. The open page opens discharge by itself.
        manage(server, "shell", "-c", MOVE_CLOCK.format(session=session_id))
        expect(nurse.locator("#discharge-button")).to_be_enabled(timeout=20_000)
        expect(nurse.locator("[data-clock-minutes]")).to_have_text(re.compile(r"12[12]"))
        vitals(nurse, "discharge", "126", "80", "72", "98")
        check(nurse, "discharge", "5", "0", "98")
        for name in ("alert_oriented", "vitals_in_range", "escort_present", "told_not_to_drive"):
            nurse.locator(f"#discharge_{name}").check()
        nurse.get_by_role("button", name="Discharge the patient").click()
        expect(nurse.locator(".messages")).to_contain_text("Patient discharged.")
        expect(nurse.locator("#missing")).to_have_text("Adverse events (or none)")
        expect(nurse.locator("#sign-form")).to_have_count(0)

        # The prescriber: no adverse events, then sign; the REMS form is due.
        doctor.goto(path)
        expect(doctor.locator("#sign-button")).to_be_disabled()
        doctor.get_by_role("button", name="No adverse events").click()
        expect(doctor.locator("#missing")).to_contain_text("Nothing: the record is complete.")
        doctor.get_by_role("button", name="Sign the session record").click()
        expect(doctor.locator(".messages")).to_contain_text("Session record signed.")
        expect(doctor.locator("#rems-status")).to_contain_text("due in 7 days")
        doctor.locator("#rems-status").get_by_role("link", name="Open the form").click()
        form_page = doctor.locator(".rems-form")
        expect(form_page).to_contain_text("DEMO-E-2611")
        expect(form_page).to_contain_text("56 mg")
        expect(form_page).to_contain_text(re.compile(r"12[12] minutes"))
        expect(form_page).to_contain_text("Serious adverse events: none")

        # Staff mark it submitted; the session page then says who and when.
        sign_in(staff, server, JORDAN)
        staff.goto("/staff/rems-forms/")
        expect(staff.locator("main")).to_contain_text("Due in 7 days")
        staff.get_by_role("link", name="Avery Stone").click()
        staff.get_by_role("button", name="Mark as submitted").click()
        expect(staff.locator("#rems-submission")).to_contain_text("Submitted by")
        doctor.goto(path)
        expect(doctor.locator("#rems-status")).to_contain_text("submitted by")
        # The register has the administration, from the signed record, with its patient.
        staff.goto("/staff/register/")
        staff.get_by_role("link", name=re.compile("DEMO-E-2611")).first.click()
        expect(staff.locator("main")).to_contain_text("Patient: Avery Stone (signed session record)")
        expect(staff.locator("main")).to_contain_text("616")  # 672 mg received, 56 given
        # Signed: the nurse's page has no forms left.
        nurse.goto(path)
        expect(nurse.locator("#vitals-form")).to_have_count(0)
    finally:
        for context in contexts:
            context.close()
