"""Check-ins through the actions and the HTTP client: scheduling, sending, the link, answering,
triage, the rules raising items, and who may see what."""

from __future__ import annotations

import datetime as dt
import re
import uuid
import zoneinfo
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from clinic.audit.models import Action, AuditEvent
from clinic.intake.actions import booking_block
from clinic.intake.models import UrgentItem, UrgentKind
from clinic.measures import actions, charts
from clinic.measures.models import AttentionItem, CheckIn, CheckInStatus, Reason
from tests.support.personas import client_for

pytestmark = pytest.mark.django_db

ZONE = "America/New_York"
FREQ = {f"phq9_{n}": "0" for n in range(1, 10)}
GAD = {f"gad7_{n}": "0" for n in range(1, 8)}
ASQ_NO = {f"asq{n}": "no" for n in range(1, 5)}


def phq(total: int) -> dict[str, str]:
    """Answers with the given PHQ-9 total, item 9 at 0 (items 1-8 carry it)."""
    answers = dict(FREQ)
    left = total
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


def sweep(capture, now=None):
    with capture(execute=True):
        return actions.sweep_checkins(now)


def link_of(message) -> str:
    found = re.search(r"https?://\S+/check-in/(\S+)/", message.body)
    assert found, message.body
    return found.group(1)


def test_scheduling_creates_the_plan_and_skips_windows_already_closed(frozen, patient, clinician):
    past_start = dt.date(2026, 10, 1)
    schedule = actions.do_schedule_course(
        patient=patient,
        course_ref=uuid.uuid4(),
        induction_start=past_start,
        sessions=[past_start],
        last_session=dt.date(2026, 11, 26),
        zone=ZONE,
    )
    dues = list(schedule.checkins.values_list("due_on", flat=True))
    assert min(dues) >= dt.date(2026, 11, 25)  # nothing whose window closed before "now"
    assert AuditEvent.objects.filter(action=Action.MEASURES_SCHEDULED, patient=patient).count() == 1


def test_reschedule_withdraws_unsent_check_ins_and_keeps_them(course, frozen):
    sessions = [dt.date(2026, 12, 1)]
    actions.do_reschedule(course_ref=course.course_ref, sessions=sessions, last_session=None)
    withdrawn = CheckIn.objects.filter(schedule=course, status=CheckInStatus.WITHDRAWN)
    assert withdrawn.filter(due_on=dt.date(2026, 12, 5)).exists()  # the day after the dropped session
    assert withdrawn.get(due_on=dt.date(2026, 12, 5)).withdrawn_reason == "rescheduled"


def test_pause_withdraws_and_resume_restores(course, frozen):
    actions.do_pause(course_ref=course.course_ref)
    assert not CheckIn.objects.filter(schedule=course, status=CheckInStatus.SCHEDULED).exists()
    actions.do_pause(course_ref=course.course_ref, paused=False)
    assert CheckIn.objects.filter(schedule=course, status=CheckInStatus.SCHEDULED).exists()


def test_the_sweep_sends_once_reminds_twice_at_most_and_marks_missed(
    course, frozen, patient, django_capture_on_commit_callbacks
):
    frozen.move_to(dt.datetime(2026, 12, 1, 14, 5, tzinfo=dt.UTC))  # 09:05 in New York
    mail.outbox.clear()
    assert sweep(django_capture_on_commit_callbacks)["sent"] == 1
    assert sweep(django_capture_on_commit_callbacks)["sent"] == 0
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [patient.email]
    assert "check-in" in message.subject.lower()
    for word in ("depress", "suicid", "phq", "gad", "mood", "symptom", "ketamine"):
        assert word not in (message.subject + message.body).lower()
    checkin = CheckIn.objects.get(schedule=course, due_on=dt.date(2026, 12, 1))
    assert checkin.status == CheckInStatus.SENT
    assert link_of(message) not in checkin.token_hash  # only the hash is kept
    for days, expected in ((1, 0), (1, 1), (2, 2), (2, 2)):
        frozen.shift(dt.timedelta(days=days, minutes=1))
        sweep(django_capture_on_commit_callbacks)
        checkin.refresh_from_db()
        assert checkin.reminders_sent == expected
    frozen.shift(dt.timedelta(days=1))
    sweep(django_capture_on_commit_callbacks)
    checkin.refresh_from_db()
    assert checkin.reminders_sent == 2
    assert checkin.status == CheckInStatus.MISSED  # closed after six days: missed, not dropped
    reminders = [m for m in mail.outbox if "reminder" in m.subject.lower() and m.to == [patient.email]]
    assert len(reminders) >= 2  # this one's two, and the side-effect check-in's
    assert AttentionItem.objects.filter(checkin=checkin, reason=Reason.MISSED).exists()
    page = client_for(patient).get(reverse("measures:mine"))
    assert "missed" in page.content.decode()


def _sent(course, frozen, capture) -> tuple[CheckIn, str]:
    frozen.move_to(dt.datetime(2026, 12, 1, 14, 5, tzinfo=dt.UTC))
    mail.outbox.clear()
    sweep(capture)
    checkin = CheckIn.objects.get(schedule=course, due_on=dt.date(2026, 12, 1))
    return checkin, link_of(mail.outbox[-1])


def test_the_link_opens_only_after_sign_in_only_for_its_patient_and_only_once(
    course, frozen, patient, other_patient, django_capture_on_commit_callbacks
):
    checkin, token = _sent(course, frozen, django_capture_on_commit_callbacks)
    url = reverse("measures:link", args=[token])
    anonymous = client_for(None).get(url)
    assert anonymous.status_code == 302 and "/accounts/login" in anonymous["Location"]
    assert client_for(other_patient).get(url).status_code == 404
    first = client_for(patient).get(url)
    assert first.status_code == 302
    assert first["Location"] == reverse("measures:answer", args=[checkin.public_id])
    assert client_for(patient).get(url).status_code == 410  # used up
    assert client_for(patient).get(reverse("measures:link", args=["x" * 43])).status_code == 404


def test_the_link_expires_when_the_check_in_closes(
    course, frozen, patient, django_capture_on_commit_callbacks
):
    _, token = _sent(course, frozen, django_capture_on_commit_callbacks)
    frozen.shift(dt.timedelta(days=7))
    assert client_for(patient).get(reverse("measures:link", args=[token])).status_code == 410


def answer(patient, checkin, answers):
    return client_for(patient).post(reverse("measures:answer", args=[checkin.public_id]), answers)


def test_answers_are_scored_and_encrypted(course, frozen, patient, django_capture_on_commit_callbacks):
    checkin, _ = _sent(course, frozen, django_capture_on_commit_callbacks)
    response = answer(
        patient,
        checkin,
        {
            **phq(14),
            **GAD,
            **ASQ_NO,
            "auditc_1": "0",
            "auditc_2": "0",
            "auditc_3": "0",
            "drug_use_1": "0",
            "bl_pain": "no",
            "bl_often": "no",
            "bl_blood": "no",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    checkin.refresh_from_db()
    assert (checkin.status, checkin.phq9_total, checkin.gad7_total, checkin.auditc_total) == (
        "answered",
        14,
        0,
        0,
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT answers_json FROM measures_checkin WHERE id = %s", [checkin.pk])
        raw = cursor.fetchone()[0]
    assert "phq9_1" not in raw and raw.startswith("gAAAA")
    assert answer(patient, checkin, {**phq(3), **GAD, **ASQ_NO}).status_code == 302  # done: nothing changes
    checkin.refresh_from_db()
    assert checkin.phq9_total == 14


def test_a_partial_phq9_has_no_total(course, frozen, patient, django_capture_on_commit_callbacks):
    checkin, _ = _sent(course, frozen, django_capture_on_commit_callbacks)
    answers = {
        **phq(10),
        **GAD,
        **ASQ_NO,
        "auditc_1": "0",
        "auditc_2": "0",
        "auditc_3": "0",
        "drug_use_1": "0",
        "bl_pain": "no",
        "bl_often": "no",
        "bl_blood": "no",
    }
    del answers["phq9_3"]
    assert answer(patient, checkin, answers).status_code == 302
    checkin.refresh_from_db()
    assert checkin.phq9_total is None and checkin.phq9_partial and checkin.phq9_item9 == 0


MONTHLY_NO = {
    "auditc_1": "0",
    "auditc_2": "0",
    "auditc_3": "0",
    "drug_use_1": "0",
    "bl_pain": "no",
    "bl_often": "no",
    "bl_blood": "no",
}


def test_an_acute_answer_shows_the_crisis_page_and_blocks_sessions(
    course, frozen, patient, django_capture_on_commit_callbacks
):
    checkin, _ = _sent(course, frozen, django_capture_on_commit_callbacks)
    asq = {"asq1": "yes", "asq2": "no", "asq3": "yes", "asq4": "no", "asq5": "yes"}
    response = answer(patient, checkin, {**phq(12), **GAD, **asq, **MONTHLY_NO})
    assert response["Location"] == reverse("measures:help_now", args=[checkin.public_id])
    assert "988" in client_for(patient).get(response["Location"]).content.decode()
    item = UrgentItem.objects.get(patient=patient)
    assert item.kind == UrgentKind.ACUTE_SCREEN
    assert actions.session_block(patient) == item == booking_block(patient)
    assert AttentionItem.objects.filter(checkin=checkin, reason=Reason.POSITIVE_SCREEN).exists()


def test_asq_question_5_is_required_when_needed(course, frozen, patient, django_capture_on_commit_callbacks):
    checkin, _ = _sent(course, frozen, django_capture_on_commit_callbacks)
    asq = {"asq1": "yes", "asq2": "no", "asq3": "no", "asq4": "no"}
    response = answer(patient, checkin, {**phq(12), **GAD, **asq, **MONTHLY_NO})
    assert response.status_code == 400 and "asq5" in response.content.decode()
    checkin.refresh_from_db()
    assert checkin.status == CheckInStatus.SENT


def test_item_9_raises_a_same_day_follow_up(course, frozen, patient, django_capture_on_commit_callbacks):
    checkin, _ = _sent(course, frozen, django_capture_on_commit_callbacks)
    answers = {**phq(6), **GAD, **ASQ_NO, **MONTHLY_NO, "phq9_9": "1"}
    assert answer(patient, checkin, answers).status_code == 302
    assert UrgentItem.objects.get(patient=patient).kind == UrgentKind.FOLLOW_UP
    assert actions.session_block(patient) is None


def test_bad_answers_are_refused_and_change_nothing(
    course, frozen, patient, django_capture_on_commit_callbacks
):
    checkin, _ = _sent(course, frozen, django_capture_on_commit_callbacks)
    response = answer(patient, checkin, {**phq(6), **GAD, **ASQ_NO, **MONTHLY_NO, "phq9_1": "7"})
    assert response.status_code == 400
    checkin.refresh_from_db()
    assert checkin.status == CheckInStatus.SENT


def _answer_series(schedule, patient, scores, frozen, capture):
    """Answer one clinician-added mood check-in per score, a week apart."""
    for score in scores:
        checkin = actions.do_add_checkin(
            clinician=schedule.clinician,
            schedule=schedule,
            due_on=timezone.now().astimezone(zoneinfo.ZoneInfo(ZONE)).date(),
            what="mood",
        )
        actions.do_answer(patient=patient, checkin=checkin, answers={**phq(score), **GAD, **ASQ_NO})
        frozen.shift(dt.timedelta(days=7))


def test_relapse_watch_and_worsening_raise_items_with_their_reason(
    course, frozen, patient, clinician, django_capture_on_commit_callbacks
):
    # Baseline 20 on the first session day, a response (8), then 12: ≥ 10 and ≥ half of 20.
    frozen.move_to(dt.datetime(2026, 12, 1, 15, 0, tzinfo=dt.UTC))
    with django_capture_on_commit_callbacks(execute=True):
        _answer_series(course, patient, [20, 8, 13], frozen, django_capture_on_commit_callbacks)
    reasons = set(AttentionItem.objects.filter(patient=patient).values_list("reason", flat=True))
    assert {Reason.RELAPSE_WATCH, Reason.WORSENING} <= reasons
    item = AttentionItem.objects.get(reason=Reason.RELAPSE_WATCH)
    assert "baseline 20" in actions.explain(item)
    assert "from 8 to 13" in actions.explain(AttentionItem.objects.get(reason=Reason.WORSENING))
    assert any("measures" in m.subject.lower() or "waiting" in m.subject.lower() for m in mail.outbox)


def test_acknowledging_takes_a_note_and_is_encrypted(course, frozen, patient, clinician, clinician_elsewhere):
    checkin = actions.do_add_checkin(
        clinician=clinician, schedule=course, due_on=dt.date(2026, 12, 1), what="monthly"
    )
    actions.do_answer(patient=patient, checkin=checkin, answers={**MONTHLY_NO, "drug_use_1": "1"})
    item = AttentionItem.objects.get(reason=Reason.DRUG_USE)
    url = reverse("measures:acknowledge", args=[item.public_id])
    assert client_for(clinician_elsewhere).post(url, {"note": "called, all fine"}).status_code == 404
    assert client_for(clinician).post(url, {"note": "ok"}).status_code == 400
    assert client_for(clinician).post(url, {"note": "Called, safe, plan agreed"}).status_code == 302
    item.refresh_from_db()
    assert item.acknowledged_by == clinician and item.note == "Called, safe, plan agreed"
    with connection.cursor() as cursor:
        cursor.execute("SELECT note FROM measures_attentionitem WHERE id = %s", [item.pk])
        assert "plan" not in cursor.fetchone()[0]


def test_pages_refuse_the_wrong_persona(
    course, frozen, patient, other_patient, clinician, clinician_elsewhere, staff
):
    chart = reverse("measures:patient_chart", args=[patient.public_id])
    assert client_for(clinician).get(chart).status_code == 200
    assert client_for(clinician_elsewhere).get(chart).status_code == 404
    assert client_for(staff).get(chart).status_code == 403
    assert client_for(patient).get(chart).status_code == 403
    assert client_for(None).get(chart).status_code == 302
    checkin = CheckIn.objects.filter(schedule=course).first()
    own = reverse("measures:answer", args=[checkin.public_id])
    assert client_for(other_patient).get(own).status_code == 404
    assert client_for(clinician).get(own).status_code == 403
    mine = client_for(other_patient).get(reverse("measures:mine"))
    assert mine.status_code == 200 and "no check-ins yet" in mine.content.decode()
    add = reverse("measures:add_checkin", args=[course.public_id])
    assert (
        client_for(clinician_elsewhere).post(add, {"what": "mood", "due_on": "2026-12-02"}).status_code == 404
    )
    assert client_for(clinician).post(add, {"what": "mood", "due_on": "bad"}).status_code == 400
    assert client_for(clinician).post(add, {"what": "nothing", "due_on": "2026-12-02"}).status_code == 400
    assert client_for(clinician).post(add, {"what": "mood", "due_on": "2026-11-02"}).status_code == 400
    assert client_for(clinician).post(add, {"what": "mood", "due_on": "2026-12-02"}).status_code == 302
    pause = reverse("measures:withdraw_checkin", args=[checkin.public_id])
    assert client_for(clinician_elsewhere).post(pause).status_code == 404
    assert client_for(clinician).post(pause).status_code == 302
    assert client_for(clinician).post(pause).status_code == 400  # already paused: a clear message
    checkin.refresh_from_db()
    assert checkin.withdrawn_reason == "paused_by_clinician"
    course_pause = reverse("measures:pause_course", args=[course.public_id])
    assert client_for(clinician_elsewhere).post(course_pause).status_code == 404
    assert client_for(staff).post(course_pause).status_code == 403
    assert client_for(clinician).post(course_pause).status_code == 302
    course.refresh_from_db()
    assert course.paused_at is not None
    assert client_for(clinician).post(course_pause, {"resume": "1"}).status_code == 302
    crisis = reverse("measures:help_now", args=[checkin.public_id])
    assert client_for(patient).get(crisis).status_code == 404  # not an acute check-in
    assert client_for(other_patient).get(crisis).status_code == 404
    assert client_for(clinician).get(reverse("measures:link", args=["t" * 43])).status_code == 403


def test_every_read_is_audited(course, frozen, patient, clinician):
    client_for(clinician).get(reverse("measures:patient_chart", args=[patient.public_id]))
    client_for(patient).get(reverse("measures:mine"))
    rows = AuditEvent.objects.filter(action=Action.MEASURES_VIEWED, patient=patient)
    assert {row.actor_id for row in rows} == {clinician.pk, patient.pk}


def test_the_chart_has_no_inline_style_or_script_and_its_css_is_current(course, frozen, patient, clinician):
    checkin = actions.do_add_checkin(
        clinician=clinician, schedule=course, due_on=dt.date(2026, 12, 1), what="mood"
    )
    actions.do_answer(patient=patient, checkin=checkin, answers={**phq(15), **GAD, **ASQ_NO})
    html = charts.course_chart(patient, course.course_ref, course.session_dates)
    assert "<svg" in html and "<style" not in html and "<script" not in html and 'style="' not in html
    assert "baseline" in html and "Remission line: below 5" in html and "<table" in html
    static = Path(settings.BASE_DIR) / "clinic" / "static" / "measures" / "chart.css"
    generated = static.read_text().split("\n", 1)[1]
    assert generated == charts.chart_css(), "regenerate clinic/static/measures/chart.css from chart_css()"
    assert charts.course_chart(patient, uuid.uuid4(), []) == ""


@pytest.mark.parametrize("zone", ["Pacific/Auckland", "America/Los_Angeles", "Europe/London"])
def test_stored_due_dates_are_local_and_sent_at_nine_there_across_a_clock_change(frozen, patient, zone):
    # March 2027: the US changes on the 14th, Europe on the 28th; April 4th in New Zealand.
    frozen.move_to(dt.datetime(2027, 3, 1, 12, 0, tzinfo=dt.UTC))
    start = dt.date(2027, 3, 7)
    schedule = actions.do_schedule_course(
        patient=patient,
        course_ref=uuid.uuid4(),
        induction_start=start,
        sessions=[start],
        last_session=None,
        zone=zone,
    )
    weekly = [c for c in schedule.checkins.order_by("due_on") if "weekly" in c.purposes][:6]
    assert [c.due_on for c in weekly] == [start + dt.timedelta(weeks=n) for n in range(6)]
    for checkin in weekly:
        local = checkin.send_after.astimezone(zoneinfo.ZoneInfo(zone))
        assert (local.date(), local.hour, local.minute) == (checkin.due_on, 9, 0)
    offsets = {c.send_after.astimezone(zoneinfo.ZoneInfo(zone)).utcoffset() for c in weekly}
    assert len(offsets) == 2  # the clock changed within these weeks, the local hour did not


def test_the_dashboard_lists_needs_attention_and_names_those_patients_in_its_read(
    course, frozen, patient, clinician, clinician_elsewhere
):
    checkin = actions.do_add_checkin(
        clinician=clinician, schedule=course, due_on=dt.date(2026, 12, 1), what="monthly"
    )
    actions.do_answer(patient=patient, checkin=checkin, answers={**MONTHLY_NO, "bl_blood": "yes"})
    page = client_for(clinician).get(reverse("portal:clinician_home"))
    text = page.content.decode()
    assert "Needs attention" in text and "Bladder: blood in your urine." in text
    row = AuditEvent.objects.filter(action=Action.DASHBOARD_VIEWED, actor=clinician).latest("at")
    assert str(patient.public_id) in row.patients
    assert (
        "Needs attention"
        not in client_for(clinician_elsewhere).get(reverse("portal:clinician_home")).content.decode()
    )


def test_a_new_zone_moves_the_unsent_check_ins_to_nine_there(course, frozen):
    actions.do_reschedule(
        course_ref=course.course_ref, sessions=course.session_dates, last_session=None, zone="Asia/Tokyo"
    )
    later = CheckIn.objects.filter(schedule=course, status=CheckInStatus.SCHEDULED).order_by("due_on").last()
    local = later.send_after.astimezone(zoneinfo.ZoneInfo("Asia/Tokyo"))
    assert (local.date(), local.hour) == (later.due_on, 9)
    with pytest.raises(actions.MeasuresError):
        actions.do_reschedule(course_ref=course.course_ref, sessions=[], last_session=None, zone="Mars/Base")


SIDE_NO = {
    key: "no"
    for key in (
        "se_nausea",
        "se_dizziness",
        "se_headache",
        "se_dissociation",
        "se_anxiety",
        "se_bladder",
        "se_other",
    )
}


def test_a_side_effect_reported_after_a_session_waits_with_the_patients_words(
    course, frozen, patient, clinician
):
    checkin = CheckIn.objects.get(
        schedule=course, due_on=dt.date(2026, 12, 2)
    )  # the day after the first session
    assert checkin.instruments == ["side_effects"]
    frozen.move_to(dt.datetime(2026, 12, 2, 15, 0, tzinfo=dt.UTC))
    typed = "dizzy all evening after the drive home"
    actions.do_answer(
        patient=patient, checkin=checkin, answers={**SIDE_NO, "se_dizziness": "yes", "se_detail": typed}
    )
    item = AttentionItem.objects.get(checkin=checkin)
    assert item.reason == Reason.ADVERSE_EVENT
    assert actions.explain(item) == "After a session: dizziness."
    assert typed not in client_for(clinician).get(reverse("portal:clinician_home")).content.decode()
    assert (
        typed
        in client_for(clinician)
        .get(reverse("measures:patient_chart", args=[patient.public_id]))
        .content.decode()
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT answers_json FROM measures_checkin WHERE id = %s", [checkin.pk])
        assert "dizzy" not in cursor.fetchone()[0]
