"""Clinicians' and staff's own pages: their navigation, the clinician's dashboard rows (who the
patient is, blocked for location), its fingerprint poll, the patients list, the staff home's
counts and the day view's names."""

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse

from clinic.accounts.models import Licence, PatientProfile, Role
from clinic.audit.models import Action, AuditEvent
from clinic.content.models import ContactMessage
from clinic.intake.models import UrgentItem
from clinic.scheduling.models import Booking
from tests.support.booking import adult, book_as, slot_starts
from tests.support.personas import client_for, make_user

pytestmark = pytest.mark.django_db

WHERE = {"jurisdiction": "US-NY", "address": "1 Main St, Albany NY", "phone": "212 555 0100"}


@pytest.fixture
def booking(frozen, open_clinic, patient, django_capture_on_commit_callbacks):
    first = slot_starts(Client().get("/book/", {"jurisdiction": "US-NY", "tz": "America/New_York"}))[0]
    book_as(adult(patient, born=dt.date(1990, 5, 1)), first, django_capture_on_commit_callbacks)
    PatientProfile.objects.filter(user=patient).update(
        legal_name="Patricia Anne Patient", preferred_name="Pat", home_address="9 Elm Road, Troy NY"
    )
    booking = Booking.objects.get()
    frozen.move_to(booking.start - dt.timedelta(minutes=5))
    return booking


def nav_of(page: str, name: str) -> str:
    found = re.search(rf'<nav class="workspace-nav" aria-label="{name}">(.*?)</nav>', page, re.S)
    return found.group(1) if found else ""


def test_clinicians_get_their_own_navigation_and_a_small_crisis_link(booking, open_clinic):
    page = client_for(open_clinic).get("/clinician/").content.decode()
    nav = nav_of(page, "Clinician")
    labels = re.findall(r'<a href="[^"]+"[^>]*>([A-Za-z]+)', nav)
    assert labels == ["Today", "Patients", "Urgent", "Availability", "Protocols", "Outcomes", "Security"]
    assert re.search(r'href="/clinician/" aria-current="page">Today', nav)
    assert 'class="crisis-bar"' not in page and ">Learn</a>" not in page and "Ask our doctors" not in page
    assert 'class="workspace-crisis" href="/crisis/"' in page
    chart = client_for(open_clinic).get(reverse("portal:patients")).content.decode()
    assert re.search(r'href="/clinician/patients/" aria-current="page">Patients', nav_of(chart, "Clinician"))


def test_the_urgent_count_is_for_whoever_is_on_call(booking, open_clinic, clinician_elsewhere, patient):
    UrgentItem.objects.create(patient=patient, kind="acute_screen", created_at=booking.created_at)
    # Nobody is on call: every clinician is, and sees the count.
    nav = nav_of(client_for(open_clinic).get("/clinician/").content.decode(), "Clinician")
    assert re.search(r'Urgent <span class="badge badge--alert">1</span><span class="sr-only"> waiting', nav)
    type(open_clinic).objects.filter(pk=clinician_elsewhere.pk).update(on_call=True)
    nav = nav_of(client_for(open_clinic).get("/clinician/").content.decode(), "Clinician")
    assert "Urgent</a>" in nav and "badge" not in nav.split("Urgent")[1].split("</a>")[0]
    nav = nav_of(client_for(clinician_elsewhere).get("/clinician/").content.decode(), "Clinician")
    assert 'badge--alert">1<' in nav


def test_staff_get_their_own_navigation(staff):
    ContactMessage.objects.create(
        name="A visitor", email="v@example.org", message="Hello", received_at=dt.datetime.now(dt.UTC)
    )
    page = client_for(staff).get("/staff/day/").content.decode()
    nav = nav_of(page, "Staff")
    hrefs = re.findall(r'<a href="([^"]+)"[^>]*>([A-Za-z]+)', nav)
    assert hrefs == [
        ("/staff/day/", "Today"), ("/staff/inbox/", "Inbox"), ("/staff/licences/", "Licences"),
        ("/staff/protocols/", "Protocols"), ("/staff/people/", "People"), ("/staff/register/", "Register"),
        ("/staff/rems-forms/", "REMS"), ("/staff/funnel/", "Reports"), ("/reports/outcomes/", "Outcomes"),
        ("/staff/audit/", "Audit"),
    ]  # fmt: skip
    assert 'href="/staff/day/" aria-current="page"' in nav
    assert 'Inbox <span class="badge">1</span><span class="sr-only"> new' in nav
    assert 'class="crisis-bar"' not in page


def test_patients_and_visitors_keep_the_public_header_and_the_crisis_banner(patient):
    for client in (Client(), client_for(patient)):
        page = client.get("/").content.decode()
        assert 'class="crisis-bar"' in page and 'aria-label="Main"' in page and "workspace-nav" not in page
    assert 'class="crisis-bar"' in client_for(patient).get("/me/").content.decode()


def test_the_dashboard_row_shows_who_and_whether_they_are_blocked(booking, patient, open_clinic):
    doctor = client_for(open_clinic)
    page = doctor.get("/clinician/").content.decode()
    assert "born 1 May 1990 (age 36)" in page and "9 Elm Road, Troy NY" in page
    assert "Blocked" not in page
    # Their date of birth and address are read with the page: its one row names them.
    (row,) = AuditEvent.objects.filter(action=Action.DASHBOARD_VIEWED, actor=open_clinic)
    assert str(patient.public_id) in row.patients
    client_for(patient).post(
        reverse("visits:attest", args=[booking.public_id]), {**WHERE, "jurisdiction": "US-TX"}
    )
    page = doctor.get("/clinician/").content.decode()
    assert "Blocked: in Texas, not licensed" in page


def test_the_dashboard_reloads_only_when_its_fingerprint_changes(booking, patient, open_clinic):
    doctor = client_for(open_clinic)
    page = doctor.get("/clinician/").content.decode()
    shown = re.search(r'data-pulse="([0-9a-f]+)"', page).group(1)
    pulse = doctor.get(reverse("portal:clinician_pulse"))
    assert pulse.json() == {"pulse": shown}  # nothing personal in it
    client_for(patient).post(reverse("visits:attest", args=[booking.public_id]), WHERE)
    assert doctor.get(reverse("portal:clinician_pulse")).json()["pulse"] != shown
    assert client_for(patient).get(reverse("portal:clinician_pulse")).status_code == 403
    assert Client().get(reverse("portal:clinician_pulse")).status_code == 302


def test_the_patients_list_is_the_clinicians_own(booking, open_clinic, clinician_elsewhere, staff, patient):
    page = client_for(open_clinic).get(reverse("portal:patients")).content.decode()
    assert "Pat" in page and reverse("visits:chart", args=[patient.public_id]) in page
    other = client_for(clinician_elsewhere).get(reverse("portal:patients")).content.decode()
    assert reverse("visits:chart", args=[patient.public_id]) not in other and "No patients yet" in other
    assert client_for(staff).get(reverse("portal:patients")).status_code == 403
    assert client_for(patient).get(reverse("portal:patients")).status_code == 403


def test_the_staff_home_counts_todays_bookings_waiting_items_and_licence_problems(
    booking, staff, open_clinic
):
    today = booking.start.date()
    Licence.objects.create(
        clinician=open_clinic, jurisdiction="US-NJ", number="NJ-1", expires_on=today + dt.timedelta(days=400)
    )
    Licence.objects.filter(clinician=open_clinic, jurisdiction="US-NY").update(
        expires_on=today + dt.timedelta(days=20)
    )
    ContactMessage.objects.create(
        name="A", email="a@example.org", message="Hi", received_at=booking.created_at
    )
    page = client_for(staff).get("/staff/").content.decode()
    assert re.search(r'count__n">1</strong> booking today', page)
    assert re.search(r'count__n">1</strong> waiting for you', page)
    assert re.search(r'count__n">2</strong> license problems', page)  # one to verify, one expiring
    assert "1 to verify, 1 expiring within 60 days, 0 expired" in page


def test_the_day_view_names_the_patients(booking, staff, patient):
    day = booking.start.astimezone(staff.zone).date().isoformat()
    page = client_for(staff).get(f"/staff/day/?date={day}").content.decode()
    # The name the patient is known by, never the legal name (README, "Who reads what").
    assert patient.display_name in page and patient.email in page
    assert "Patricia Anne Patient" not in page
    nameless = make_user("nameless@example.org", Role.PATIENT)
    Booking.objects.filter(pk=booking.pk).update(patient=nameless)
    page = client_for(staff).get(f"/staff/day/?date={day}").content.decode()
    assert "(no name given)" in page and "nameless@example.org" in page
