"""Neighbours of the check-ins' tested paths: a non-acute positive ASQ in a course check-in (the
same-day follow-up, as the intake raises it, without the crisis page), and what the course page's
measures section really draws (item 9, the session markers, the response line)."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
from django.core import mail
from django.urls import reverse

from clinic.care import actions as care_actions
from clinic.intake.actions import booking_block
from clinic.intake.models import UrgentItem, UrgentKind
from clinic.measures import actions
from clinic.measures.models import AttentionItem, CheckIn, CheckInStatus, Reason, Schedule
from tests.support import care
from tests.support.personas import client_for

pytestmark = pytest.mark.django_db

ZONE = "America/New_York"
GAD = {f"gad7_{n}": "0" for n in range(1, 8)}
ASQ_NO = {f"asq{n}": "no" for n in range(1, 5)}
# Question 1 yes, question 5 (thoughts right now) no: positive, not acute.
NON_ACUTE = {"asq1": "yes", "asq2": "no", "asq3": "no", "asq4": "no", "asq5": "no"}
MONTHLY_NO = {
    "auditc_1": "0",
    "auditc_2": "0",
    "auditc_3": "0",
    "drug_use_1": "0",
    "bl_pain": "no",
    "bl_often": "no",
    "bl_blood": "no",
}


def phq(total: int, item9: int = 0) -> dict[str, str]:
    """Answers with the given PHQ-9 total, ``item9`` of it on item 9 (items 1-8 carry the rest)."""
    answers = {f"phq9_{n}": "0" for n in range(1, 10)}
    answers["phq9_9"] = str(item9)
    left = total - item9
    for n in range(1, 9):
        step = min(3, left)
        answers[f"phq9_{n}"] = str(step)
        left -= step
    assert left == 0
    return answers


@pytest.fixture
def course(frozen, patient, clinician, django_capture_on_commit_callbacks):
    today = dt.date(2026, 12, 1)
    with django_capture_on_commit_callbacks(execute=True):
        schedule = actions.do_schedule_course(
            patient=patient,
            course_ref=uuid.uuid4(),
            induction_start=today,
            sessions=[today, today + dt.timedelta(days=3)],
            last_session=None,
            zone=ZONE,
            clinician=clinician,
        )
    return schedule


def link_of(message) -> str:
    found = re.search(r"https?://\S+/check-in/(\S+)/", message.body)
    assert found, message.body
    return found.group(1)


# A non-acute positive screen ------------------------------------------------------------------


def test_a_non_acute_positive_asq_raises_the_same_day_follow_up_and_shows_crisis_help_not_the_crisis_page(
    course, frozen, patient, other_patient, clinician, django_capture_on_commit_callbacks
):
    type(clinician).objects.filter(pk=clinician.pk).update(on_call=True)
    frozen.move_to(dt.datetime(2026, 12, 1, 14, 5, tzinfo=dt.UTC))  # 09:05 in New York
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        actions.sweep_checkins()
    checkin = CheckIn.objects.get(schedule=course, due_on=dt.date(2026, 12, 1))
    assert "asq" in checkin.instruments
    token = link_of(mail.outbox[-1])
    client = client_for(patient)
    assert client.get(reverse("measures:link", args=[token]))["Location"] == reverse(
        "measures:answer", args=[checkin.public_id]
    )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("measures:answer", args=[checkin.public_id]), {**phq(6), **GAD, **NON_ACUTE, **MONTHLY_NO}
        )
    # Thanked with the crisis page's help and a call today (INSTRUMENTS.md: crisis resources
    # shown), not sent to the acute crisis page (which does not exist for it).
    assert response.status_code == 302
    assert response["Location"] == reverse("measures:take_care", args=[checkin.public_id])
    page = client.get(response["Location"]).content.decode()
    assert "will contact you <strong>today</strong>" in page and "2 working days" not in page
    assert "go to the nearest emergency department" in page and "988" in page
    assert "Please get help now" not in page
    assert client.get(reverse("measures:help_now", args=[checkin.public_id])).status_code == 404
    # The page is the patient's own.
    take_care = response["Location"]
    assert client_for(other_patient).get(take_care).status_code == 404
    assert client_for(clinician).get(take_care).status_code == 403
    assert client_for(None).get(take_care).status_code == 302
    checkin.refresh_from_db()
    assert checkin.status == CheckInStatus.ANSWERED
    assert (checkin.asq_result, checkin.triage) == ("non_acute_positive", "safety_assessment_first")
    # The intake's same-day follow-up: one item, not acute, blocking neither sessions nor bookings.
    item = UrgentItem.objects.get(patient=patient)
    assert item.kind == UrgentKind.FOLLOW_UP and item.acknowledged_at is None
    assert actions.session_block(patient) is None and booking_block(patient) is None
    # The on-call clinician gets the intake's follow-up email (not the urgent one), and the
    # course's clinician (the same person here) the needs-attention one; nobody else is written to.
    subjects = sorted(m.subject for m in mail.outbox if m.to == [clinician.email])
    assert subjects == [
        "[Mendwell] Something for today is waiting",
        "[Mendwell] Something is waiting for you",
    ]
    assert all(m.to == [clinician.email] for m in mail.outbox)
    # And it waits on their Today: on the urgent list as a same-day follow-up, and as a positive
    # screen on the needs-attention list.
    assert AttentionItem.objects.filter(checkin=checkin, reason=Reason.POSITIVE_SCREEN).exists()
    today = client_for(clinician).get(reverse("portal:clinician_home")).content.decode()
    assert f'<li class="urgent urgent--follow_up" id="urgent-{item.public_id}">' in today
    assert "Positive screen: contact the patient today" in today
    assert "Needs attention (1)" in today and "Positive screen" in today


# The course page's measures chart ------------------------------------------------------------

SESSION = dt.datetime(2026, 12, 2, 14, 0, tzinfo=dt.UTC)  # 09:00 in New York


def _svg(html: str, kind: str) -> str:
    found = re.search(rf'<div class="measures-{kind}">(<svg.*?</svg>)</div>', html, re.S)
    assert found, f"no {kind} chart"
    return found.group(1)


def _series_of(svg: str, legend: str) -> int:
    """The index of the series named ``legend`` in the chart's legend."""
    found = re.search(
        rf'<g id="activate-serie-(\d+)" class="legend[^"]*">'
        rf"(?:(?!</g>).)*<text[^>]*>{re.escape(legend)}</text>",
        svg,
        re.S,
    )
    assert found, f"no {legend!r} in the legend"
    return int(found.group(1))


@pytest.fixture
def charted(frozen, open_clinic, staff, patient):
    """Baseline PHQ-9 20 (item 9 at 0) the day before the first session, then 8 with item 9 at 1."""
    plan = care.ready_plan(patient, open_clinic, staff)
    schedule = Schedule.objects.get(course_ref=plan.public_id)
    first = actions.do_add_checkin(
        clinician=open_clinic, schedule=schedule, due_on=dt.date(2026, 12, 1), what="mood"
    )
    actions.do_answer(patient=patient, checkin=first, answers={**phq(20), **GAD, **ASQ_NO})
    session = plan.sessions.order_by("number").first()
    care_actions.do_book_session(actor=open_clinic, session=session, start=SESSION)
    frozen.move_to(dt.datetime(2026, 12, 9, 15, 0, tzinfo=dt.UTC))
    later = actions.do_add_checkin(
        clinician=open_clinic, schedule=schedule, due_on=dt.date(2026, 12, 9), what="mood"
    )
    actions.do_answer(patient=patient, checkin=later, answers={**phq(8, item9=1), **GAD, **ASQ_NO})
    return plan


def test_the_course_page_draws_item_9_the_session_dates_and_the_response_line(charted, open_clinic, patient):
    response = client_for(open_clinic).get(reverse("care:course", args=[patient.public_id]))
    assert response.status_code == 200
    html = response.content.decode()
    section = html[html.index('id="course-measures-title"') :]

    # PHQ-9 item 9 over time: its own chart, one bar per PHQ-9 answered, on its date.
    item9 = _svg(section, "item9")
    assert 'aria-label="PHQ-9 item 9 over time; the figures are in the table"' in item9
    assert "<title>PHQ-9 item 9 (0-3): 1 or more is followed up the same day</title>" in item9
    bars = re.findall(
        r'<g class="bar">.*?<desc class="value">([^<]*)</desc>.*?<desc class="x_label">([^<]*)</desc>',
        item9,
        re.S,
    )
    assert bars == [("0", "Dec 1"), ("1", "Dec 9")]
    assert '<h3 class="h3">PHQ-9 item 9 over time</h3>' in section
    assert '<td><span class="badge badge--alert">1</span></td>' in section  # item 9 in the table

    # The session's date is marked on both trend charts (only the booked one) and listed.
    for kind in ("phq9", "gad7"):
        svg = _svg(section, kind)
        index = _series_of(svg, "Session")
        marks = re.search(
            rf'class="plot overlay">.*?<g class="series serie-{index} color-{index}">(.*?)</g></g>', svg, re.S
        )
        assert marks, kind
        assert re.findall(r'<desc class="value">([^<]*)</desc>', marks.group(1)) == ["Dec 2: 0.4"], kind
    assert "Sessions: Dec 2." in section

    # The response line: half the baseline of 20, drawn flat across the chart at the axis's 10.
    phq9 = _svg(section, "phq9")
    assert "<title>PHQ-9 (0-27), lower is better</title>" in phq9
    index = _series_of(phq9, "Response line: 10 (half of 20)")
    line = re.search(
        rf'<g class="series serie-{index} color-{index}"><path d="M([\d.]+) ([\d.]+) L([\d.]+) ([\d.]+)"',
        phq9,
    )
    assert line, "the response line is not drawn"
    x1, y1, x2, y2 = map(float, line.groups())
    ten = re.search(r'<path d="M0\.000000 ([\d.]+) h[\d.]+" class="[^"]*" /><text[^>]*>10</text>', phq9)
    assert ten, "no 10 on the y axis"
    assert y1 == y2 == pytest.approx(float(ten.group(1)), abs=0.01) and x2 > x1
    assert '<text x="' in phq9 and 'class="label">baseline</text>' in phq9
    assert "Baseline PHQ-9 20 on Dec 1, 2026." in section
    assert '<span class="badge">response</span>' in section  # 8 is a fall of 60 % from 20


def test_a_routine_check_in_has_no_take_care_page_and_is_thanked_on_the_patients_page(
    course, frozen, patient, django_capture_on_commit_callbacks
):
    frozen.move_to(dt.datetime(2026, 12, 1, 14, 5, tzinfo=dt.UTC))
    with django_capture_on_commit_callbacks(execute=True):
        actions.sweep_checkins()
    checkin = CheckIn.objects.get(schedule=course, due_on=dt.date(2026, 12, 1))
    client = client_for(patient)
    client.get(reverse("measures:link", args=[link_of(mail.outbox[-1])]))
    routine = {**phq(6), **GAD, **ASQ_NO, **MONTHLY_NO}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("measures:answer", args=[checkin.public_id]), routine)
    assert response.status_code == 302 and response["Location"] == reverse("measures:mine")
    assert client.get(reverse("measures:take_care", args=[checkin.public_id])).status_code == 404
