"""The report (staff and clinicians; audited; CSV) and the public "Our outcomes" page."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.urls import reverse

from clinic.audit.models import Action, AuditEvent
from clinic.outcomes import actions
from clinic.outcomes.models import RegistrySnapshot, Trigger
from clinic.outcomes.tests.factories import cohort
from tests.support.personas import client_for

pytestmark = pytest.mark.django_db


def snapshot(n: int = 40, trigger: Trigger = Trigger.NIGHTLY) -> RegistrySnapshot:
    spray = cohort(n // 2, route="intranasal_esketamine", band="18-39", scores=((4, 9), (12, 14)))
    courses = cohort(n) + spray
    return actions.do_compute_snapshot(trigger=trigger, courses=courses)


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_staff_and_clinicians_read_the_report_and_each_read_is_audited(staff, clinician):
    snap = snapshot()
    for reader in (staff, clinician):
        page = client_for(reader).get(reverse("outcomes:report"), HTTP_X_REQUEST_ID=f"r{reader.pk}")
        assert page.status_code == 200
        body = text(page)
        headings = ("All patients", "IV ketamine", "Esketamine nasal spray", "Aged 18–39", "Aged 60 and over")
        for heading in headings:
            assert heading in body
        assert "Median time to relapse" in body and "Serious adverse events" in body
        assert 'src="data:image/svg+xml;base64,' in page.content.decode()
        row = AuditEvent.objects.get(request_id=f"r{reader.pk}")
        assert row.action == Action.REGISTRY_VIEWED and row.subject_id == str(snap.public_id)
    # Only staff may ask for a new snapshot.
    assert "Compute a new snapshot" in text(client_for(staff).get(reverse("outcomes:report")))
    assert "Compute a new snapshot" not in text(client_for(clinician).get(reverse("outcomes:report")))


def test_the_report_is_not_for_patients_or_anonymous_people(patient):
    snapshot()
    assert client_for(patient).get(reverse("outcomes:report")).status_code == 403
    anonymous = client_for(None).get(reverse("outcomes:report"))
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]
    assert client_for(patient).post(reverse("outcomes:request_snapshot")).status_code == 403


def test_clinicians_cannot_ask_for_a_snapshot(clinician):
    assert client_for(clinician).post(reverse("outcomes:request_snapshot")).status_code == 403
    assert not RegistrySnapshot.objects.exists()


def test_the_staff_button_queues_a_snapshot(staff, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(staff).post(reverse("outcomes:request_snapshot"))
    assert response.status_code == 302
    assert RegistrySnapshot.objects.get().requested_by == staff
    assert client_for(staff).get(reverse("outcomes:request_snapshot")).status_code == 405


def test_csv_download_holds_every_figure_as_shown(staff):
    snap = snapshot()
    response = client_for(staff).get(reverse("outcomes:report"), {"format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    assert f"outcomes-{snap.as_of_month}.csv" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["group", "section", "measure", "figure", "value"]
    assert ["overall", "cohort", "", "patients", "60"] in rows
    assert any(r[0] == "route:intranasal_esketamine" and r[3] == "rate" for r in rows)
    assert client_for(staff).get(reverse("outcomes:report"), {"format": "xml"}).status_code == 404


def test_the_report_without_a_snapshot_says_so(staff):
    page = client_for(staff).get(reverse("outcomes:report"))
    assert page.status_code == 200 and "No snapshot has been computed yet." in text(page)
    assert client_for(staff).get(reverse("outcomes:report"), {"format": "csv"}).status_code == 404


def test_the_public_page_shows_the_latest_snapshot_beside_the_trials(client):
    snapshot(10)
    latest = snapshot(40, Trigger.DEMO)
    body = text(client.get(reverse("outcomes:public")))
    assert "observational numbers from one clinic" in body and "no control group" in body
    assert "People who stop answering our questionnaires are not counted" in body
    assert "Did not answer (not counted)" in body
    assert f"{latest.data['overall']['cohort']['patients']} people started a treatment plan" in body
    assert "Demo data." in body
    # The trials' figures, as the evidence page gives them.
    for figure in ("46.5%", "32.7%", "about 20%", "27%", "10%", "about 45%"):
        assert figure in body
    evidence = client.get(reverse("content:learn_page", args=["evidence"])).content.decode()
    assert 'href="/outcomes/"' in evidence


def test_the_public_page_says_when_there_are_too_few_patients(client):
    actions.do_compute_snapshot(trigger=Trigger.NIGHTLY, courses=cohort(7))
    body = text(client.get(reverse("outcomes:public")))
    assert "Too few patients" in body and "How people were doing" not in body


def test_the_public_page_before_any_snapshot(client):
    assert "We have not published any figures yet." in text(client.get(reverse("outcomes:public")))


def test_a_clinic_can_turn_the_public_page_off(client, settings):
    snapshot()
    settings.OUTCOMES_PUBLIC = False
    page = client.get(reverse("outcomes:public"))
    assert page.status_code == 200
    body = text(page)
    assert "does not publish figures" in body and "Response" not in body


def test_the_public_page_never_computes(client, django_assert_max_num_queries):
    snapshot()
    with django_assert_max_num_queries(3):
        assert client.get(reverse("outcomes:public")).status_code == 200
    assert RegistrySnapshot.objects.count() == 1
