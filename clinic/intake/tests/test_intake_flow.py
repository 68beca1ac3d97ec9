import datetime as dt
import re

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinic.audit.models import Action, AuditEvent
from clinic.intake.models import IntakeResponse, IntakeStatus, UrgentItem
from clinic.scheduling.models import Booking, Hold
from clinic.visits.models import BreakGlass
from tests.support.booking import confirm, hold, slot_starts, with_intake
from tests.support.intake import ABOUT, ASQ_NO, GAD7, fill, phq9, post_step, section, step_url  # noqa: F401
from tests.support.personas import client_for

pytestmark = pytest.mark.django_db


def ny_first() -> str:
    return slot_starts(Client().get("/book/", {"jurisdiction": "US-NY", "tz": "America/New_York"}))[0]


def test_routine_patient_books_with_intake_end_to_end(
    frozen, open_clinic, patient, django_capture_on_commit_callbacks
):
    client = client_for(patient)
    held = hold(client, ny_first())
    response = client.get(held["Location"])
    assert response.status_code == 302 and "/intake/?next=" in response["Location"]
    client.get(response["Location"])  # remembers the hold
    response, intake = fill(client)
    assert response.status_code == 302
    assert response["Location"] == held["Location"]  # back to confirm the held time
    assert intake.status == IntakeStatus.SUBMITTED and intake.triage == "routine"
    assert intake.phq9_total == 8 and intake.phq9_band == "mild" and intake.gad7_total == 7
    assert intake.consent_version == "2026-11" and intake.consent_name == "patricia patient"
    with django_capture_on_commit_callbacks(execute=True):
        done = confirm(client, held)
    assert done.status_code == 302
    booking = Booking.objects.get()
    assert booking.intake == intake and not booking.safety_first
    assert patient.patient_profile.preferred_name == "Pat"
    # Answers are ciphertext at rest.
    with connection.cursor() as cursor:
        cursor.execute("SELECT answers_json FROM intake_intakeresponse WHERE id = %s", [intake.pk])
        (stored,) = cursor.fetchone()
    assert "sertraline" not in stored and "phq9_1" not in stored


def test_acute_screen_goes_to_crisis_releases_the_hold_and_alerts_on_call(
    frozen, open_clinic, clinician_elsewhere, patient, django_capture_on_commit_callbacks
):
    clinician_elsewhere.on_call = True
    clinician_elsewhere.save()
    client = client_for(patient)
    start = ny_first()
    held = hold(client, start)
    client.get(client.get(held["Location"])["Location"])
    with django_capture_on_commit_callbacks(execute=True):
        response, intake = fill(client, asq={**ASQ_NO, "asq3": "yes"}, asq5="yes")
    assert response["Location"] == reverse("intake:crisis", args=[intake.public_id])
    assert intake.status == IntakeStatus.STOPPED_ACUTE and intake.triage == "acute"
    assert not Hold.objects.exists() and not Booking.objects.exists()
    assert start in slot_starts(Client().get("/book/", {"jurisdiction": "US-NY", "tz": "America/New_York"}))
    page = client.get(response["Location"]).content.decode()
    assert "988" in page and "911" in page and "Book" not in page.split("<main", 1)[1].split("</main>")[0]
    item = UrgentItem.objects.get()
    assert item.kind == "acute_screen" and item.patient == patient
    (alert,) = mail.outbox
    assert alert.to == [clinician_elsewhere.email]
    assert "urgent" in alert.subject.lower()
    for word in ("suicid", "kill", "ketamine", "depress", patient.email, "Patricia"):
        assert word.lower() not in (alert.subject + alert.body).lower()
    # The on-call clinician sees it on top of the dashboard; the other clinician does not.
    board = client_for(clinician_elsewhere).get(reverse("portal:clinician_home")).content.decode()
    assert "Acute suicide-risk screen" in board
    assert (
        "Acute suicide-risk screen"
        not in client_for(open_clinic).get(reverse("portal:clinician_home")).content.decode()
    )
    # The on-call clinician can open the intake (audited); acknowledging clears the item.
    url = reverse("visits:patient_intake", args=[patient.public_id])
    assert client_for(clinician_elsewhere).get(url).status_code == 200
    assert AuditEvent.objects.filter(
        action=Action.INTAKE_VIEWED, actor=clinician_elsewhere, reason="on call for an urgent item"
    ).exists()
    # Acknowledging takes a written outcome: without one nothing changes.
    client_for(clinician_elsewhere).post(reverse("intake:acknowledge", args=[item.public_id]))
    item.refresh_from_db()
    assert item.acknowledged_at is None
    client_for(clinician_elsewhere).post(
        reverse("intake:acknowledge", args=[item.public_id]), {"outcome": "Called; safe at home."}
    )
    item.refresh_from_db()
    assert item.acknowledged_by == clinician_elsewhere and item.outcome == "Called; safe at home."


def test_callback_request_needs_the_same_number_twice(
    frozen, open_clinic, patient, django_capture_on_commit_callbacks
):
    client = client_for(patient)
    _, intake = fill(client, asq={**ASQ_NO, "asq1": "yes"}, asq5="yes")
    url = reverse("intake:crisis", args=[intake.public_id])
    response = client.post(url, {"phone": "212 555 0100", "phone_again": "212 555 0101"})
    assert response.status_code == 400 and "differ" in response.content.decode()
    assert UrgentItem.objects.filter(kind="callback").count() == 0
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"phone": "212 555 0100", "phone_again": "(212) 555-0100"})
    item = UrgentItem.objects.get(kind="callback")
    assert item.phone == "212 555 0100"
    assert any(open_clinic.email in m.to for m in mail.outbox)  # nobody on call: every clinician
    assert "call you back" in client.get(url).content.decode()


def test_asq_five_is_asked_only_when_needed(frozen, patient):
    client = client_for(patient)
    response, intake = fill(client, stop_before="asq")
    response = post_step(client, intake, "asq", {**ASQ_NO, "asq2": "declined"})
    assert response["Location"] == step_url(intake, "asq5")
    response = post_step(client, intake, "asq", ASQ_NO)
    assert response["Location"] == step_url(intake, "conditions")
    assert client.get(step_url(intake, "asq5"))["Location"] == step_url(intake, "conditions")


def test_item_nine_books_but_marks_safety_first_and_tells_the_clinician(
    frozen, open_clinic, patient, django_capture_on_commit_callbacks
):
    client = client_for(patient)
    held = hold(client, ny_first())
    client.get(client.get(held["Location"])["Location"])
    response, intake = fill(client, item9="1")
    assert intake.triage == "safety_assessment_first"
    page = client.get(response["Location"]).content.decode()
    assert "Some of your answers matter a lot" in page and "988" in page
    with django_capture_on_commit_callbacks(execute=True):
        confirm(client, held)
    booking = Booking.objects.get()
    assert booking.safety_first
    assert any(m.to == [open_clinic.email] and "attention" in m.subject for m in mail.outbox), [
        (m.to, m.subject) for m in mail.outbox
    ]
    appointment = (
        client_for(open_clinic).get(reverse("visits:appointment", args=[booking.public_id])).content.decode()
    )
    assert "Safety assessment first" in appointment and "Item 9" in appointment
    board = client_for(open_clinic).get(reverse("portal:clinician_home")).content.decode()
    assert "Safety assessment first" in board


def test_non_acute_asq_positive_is_safety_first(frozen, patient):
    client = client_for(patient)
    _, intake = fill(client, asq={**ASQ_NO, "asq4": "yes"}, asq5="no")
    assert intake.status == IntakeStatus.SUBMITTED and intake.triage == "safety_assessment_first"


def test_a_draft_resumes_and_is_never_treated_as_submitted(frozen, open_clinic, patient):
    client = client_for(patient)
    _, intake = fill(client, stop_before="conditions")
    assert intake.status == IntakeStatus.DRAFT and intake.step == "conditions"
    # Coming back later lands on the next unanswered step, with earlier answers kept.
    assert client.get(reverse("intake:start"))["Location"] == step_url(intake, "conditions")
    assert re.search(
        r'name="phq9_1" value="1"[^>]*checked', client.get(step_url(intake, "phq9")).content.decode()
    )
    # Steps ahead are not reachable, and a draft does not let anyone book.
    assert client.get(step_url(intake, "consent"))["Location"] == step_url(intake, "conditions")
    held = hold(client, ny_first())
    assert "/intake/" in client.get(held["Location"])["Location"]


def test_an_intake_older_than_fourteen_days_is_repeated(frozen, open_clinic, patient):
    with_intake(patient, submitted_at=dt.datetime(2026, 11, 16, 12, 0, tzinfo=dt.UTC))
    client = client_for(patient)
    held = hold(client, ny_first())
    assert "/intake/" in client.get(held["Location"])["Location"]


@pytest.mark.parametrize(
    "step, data, message",
    [
        ("phq9", {**phq9(), "phq9_3": ""}, "Please choose an answer"),
        ("phq9", {**phq9(), "phq9_3": "4"}, "Please choose one of the answers"),
        ("phq9", {**phq9(), "phq9_9": "-1"}, "Please choose one of the answers"),
        ("gad7", {**GAD7, "gad7_7": "x"}, "Please choose one of the answers"),
        ("asq", {**ASQ_NO, "asq1": "maybe"}, "Please choose one of the answers"),
    ],
)
def test_bad_answers_are_refused_and_change_nothing(frozen, patient, step, data, message):
    client = client_for(patient)
    _, intake = fill(client, stop_before="conditions")
    before = intake.answers
    response = post_step(client, intake, step, data)
    assert response.status_code == 400 and message in response.content.decode()
    intake.refresh_from_db()
    assert intake.answers == before


def test_tampered_extra_fields_are_ignored(frozen, patient):
    client = client_for(patient)
    _, intake = fill(client, stop_before="asq")
    post_step(client, intake, "asq", {**ASQ_NO, "asq5": "yes", "triage": "routine", "status": "submitted"})
    intake.refresh_from_db()
    assert "asq5" not in intake.answers and intake.status == IntakeStatus.DRAFT


def test_another_patients_draft_is_not_found(frozen, patient, other_patient):
    _, intake = fill(client_for(patient), stop_before="gad7")
    other = client_for(other_patient)
    assert other.get(step_url(intake, "phq9")).status_code == 404
    assert post_step(other, intake, "gad7", GAD7).status_code == 404
    assert Client().get(step_url(intake, "phq9")).status_code == 302


def test_a_replayed_submission_changes_nothing(frozen, patient):
    client = client_for(patient)
    _, intake = fill(client)
    submitted_at = intake.submitted_at
    response = post_step(client, intake, "phq9", phq9(item9="3"))
    assert response.status_code == 302 and "/done/" in response["Location"]
    intake.refresh_from_db()
    assert intake.submitted_at == submitted_at and intake.phq9_item9 == 0
    assert IntakeResponse.objects.count() == 1


def test_under_18_cannot_start_an_intake(frozen, patient):
    client = client_for(patient)
    start = client.get(reverse("intake:start"))
    intake = IntakeResponse.objects.get()
    response = client.post(step_url(intake, "about"), {**ABOUT, "date_of_birth": "2010-01-01"})
    assert response.status_code == 403 and "18" in response.content.decode()
    intake.refresh_from_db()
    assert intake.step == "about"
    assert not hasattr(patient, "patient_profile") or not patient.patient_profile.legal_name
    assert start.status_code == 302


def test_script_typed_into_answers_renders_as_text_for_the_clinician(
    frozen, open_clinic, patient, django_capture_on_commit_callbacks
):
    client = client_for(patient)
    held = hold(client, ny_first())
    client.get(client.get(held["Location"])["Location"])
    payload = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    response, intake = fill(client, stop_before="medicines")
    post_step(client, intake, "medicines", {**section("medicines"), "medicines_list": payload})
    post_step(client, intake, "past_treatment", section("past_treatment"))
    post_step(client, intake, "consent", {"agree": "on", "typed_name": "Patricia Patient"})
    with django_capture_on_commit_callbacks(execute=True):
        confirm(client, held)
    booking = Booking.objects.get()
    page = (
        client_for(open_clinic).get(reverse("visits:appointment", args=[booking.public_id])).content.decode()
    )
    assert payload not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page


def test_who_can_read_an_intake(
    frozen,
    open_clinic,
    clinician_elsewhere,
    patient,
    other_patient,
    staff,
    django_capture_on_commit_callbacks,
):
    client = client_for(patient)
    held = hold(client, ny_first())
    client.get(client.get(held["Location"])["Location"])
    fill(client)
    with django_capture_on_commit_callbacks(execute=True):
        confirm(client, held)
    booking = Booking.objects.get()
    appointment_url = reverse("visits:appointment", args=[booking.public_id])
    chart_url = reverse("visits:patient_intake", args=[patient.public_id])
    # The booked clinician reads it, and each read is audited.
    assert client_for(open_clinic).get(appointment_url).status_code == 200
    assert client_for(open_clinic).get(chart_url).status_code == 200
    assert (
        AuditEvent.objects.filter(action=Action.INTAKE_VIEWED, actor=open_clinic, patient=patient).count()
        == 2
    )
    # Everyone else is refused.
    assert client_for(clinician_elsewhere).get(appointment_url).status_code == 404
    assert client_for(clinician_elsewhere).get(chart_url).status_code == 403
    for outsider in (staff, other_patient, patient):
        assert client_for(outsider).get(appointment_url).status_code == 403
        assert client_for(outsider).get(chart_url).status_code == 403
    assert Client().get(chart_url).status_code == 302
    assert not AuditEvent.objects.filter(action=Action.INTAKE_VIEWED).exclude(actor=open_clinic).exists()
    # Staff see the booking, neither its triage level nor the answers (README, "Who reads what").
    day = client_for(staff).get(reverse("scheduling:day"), {"date": "2026-12-01"}).content.decode()
    assert patient.email in day or patient.display_name in day
    assert "Routine" not in day and "sertraline" not in day
    # The patient reads their own answers, audited.
    mine = client.get(reverse("intake:mine")).content.decode()
    assert "Little interest or pleasure in doing things" in mine and "mild" in mine.lower()
    assert AuditEvent.objects.filter(action=Action.INTAKE_VIEWED, actor=patient, reason="own record").exists()
    assert "Little interest" not in client_for(other_patient).get(reverse("intake:mine")).content.decode()


def test_break_glass_needs_a_reason_is_audited_and_listed_for_staff(
    frozen, clinician_elsewhere, patient, staff
):
    fill(client_for(patient))
    doctor = client_for(clinician_elsewhere)
    url = reverse("visits:patient_intake", args=[patient.public_id])
    assert doctor.post(url, {"reason": "need"}).status_code == 400
    assert not BreakGlass.objects.exists()
    response = doctor.post(url, {"reason": "Patient called the clinic in distress; covering for Dr Doc"})
    assert response.status_code == 302
    assert doctor.get(url).status_code == 200
    assert AuditEvent.objects.filter(
        action=Action.INTAKE_VIEWED, actor=clinician_elsewhere, reason="break-glass"
    ).exists()
    assert AuditEvent.objects.filter(
        action=Action.BREAK_GLASS, actor=clinician_elsewhere, patient=patient
    ).exists()
    review = client_for(staff).get(reverse("visits:break_glass_review")).content.decode()
    assert "covering for Dr Doc" in review
    grant = BreakGlass.objects.get()
    client_for(staff).post(reverse("visits:break_glass_reviewed", args=[grant.public_id]))
    grant.refresh_from_db()
    assert grant.reviewed_by == staff
    frozen.shift(dt.timedelta(hours=2))
    assert client_for(clinician_elsewhere).get(url).status_code == 403  # the access lapses


def test_staff_put_a_clinician_on_call(staff, clinician, patient):
    url = reverse("accounts:toggle_on_call", args=[clinician.public_id])
    assert client_for(patient).post(url).status_code == 403
    assert client_for(clinician).post(url).status_code == 403
    client_for(staff).post(url)
    clinician.refresh_from_db()
    assert clinician.on_call
    assert AuditEvent.objects.filter(action=Action.ON_CALL_CHANGED, reason="on").exists()


FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
value = st.one_of(
    st.text(max_size=30), st.sampled_from(["0", "1", "3", "yes", "no", "declined", "", "1990-01-01"])
)


@FUZZ
@given(
    step=st.sampled_from(
        [
            "about",
            "phq9",
            "gad7",
            "asq",
            "asq5",
            "conditions",
            "medicines",
            "past_treatment",
            "consent",
            "nope",
        ]
    ),
    data=st.dictionaries(
        st.sampled_from(
            [
                "phq9_1",
                "phq9_9",
                "gad7_1",
                "asq1",
                "asq5",
                "legal_name",
                "date_of_birth",
                "phone",
                "typed_name",
                "agree",
                "bladder",
                "country",
            ]
        ),
        value,
        max_size=8,
    ),
)
def test_intake_steps_never_500(frozen, patient, step, data):
    client = client_for(patient)
    intake = IntakeResponse.objects.filter(patient=patient, status=IntakeStatus.DRAFT).first()
    if intake is None:
        client.get(reverse("intake:start"))
        intake = IntakeResponse.objects.get(patient=patient, status=IntakeStatus.DRAFT)
    assert client.post(f"/intake/{intake.public_id}/{step}/", data).status_code < 500


def test_after_an_acute_screen_the_crisis_page_comes_back_until_a_clinician_has_called(
    frozen, open_clinic, patient, django_capture_on_commit_callbacks
):
    client = client_for(patient)
    _, intake = fill(client, asq={**ASQ_NO, "asq1": "yes"}, asq5="yes")
    assert client.get(reverse("intake:start"))["Location"] == reverse(
        "intake:crisis", args=[intake.public_id]
    )
    client.post(
        reverse("intake:crisis", args=[intake.public_id]),
        {"phone": "212 555 0177", "phone_again": "2125550177"},
    )
    chart = (
        client_for(open_clinic)
        .get(reverse("visits:patient_intake", args=[patient.public_id]))
        .content.decode()
    )
    assert "212 555 0177" in chart  # the number the patient asked to be called on
    for item in UrgentItem.objects.all():
        client_for(open_clinic).post(
            reverse("intake:acknowledge", args=[item.public_id]), {"outcome": "Called back, safe."}
        )
    assert "/intake/" in client.get(reverse("intake:start"))["Location"]
    assert IntakeResponse.objects.filter(status=IntakeStatus.DRAFT).count() == 1
