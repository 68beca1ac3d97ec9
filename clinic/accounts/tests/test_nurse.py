"""The nurse role: invited by staff, licensed, two-factor like clinicians, and offered to no
patient as a doctor."""

import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core import mail
from django.test import Client
from django.urls import reverse

from clinic.accounts.models import Licence, Role, User, is_nurse
from clinic.audit.models import Action, AuditEvent
from tests.support.booking import NOW
from tests.support.personas import client_for

pytestmark = pytest.mark.django_db


def test_is_nurse_only_for_a_signed_in_nurse(nurse, clinician, staff, patient):
    assert is_nurse(nurse) and nurse.is_nurse
    for other in (clinician, staff, patient, AnonymousUser(), None):
        assert not is_nurse(other)


def test_staff_invite_a_nurse_who_sets_a_password_then_must_add_mfa(
    staff, django_capture_on_commit_callbacks
):
    form = client_for(staff).get(reverse("accounts:people")).content.decode()
    assert '<option value="nurse">Nurse</option>' in form
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(staff).post(
            reverse("accounts:people"),
            {
                "email": "Nia@example.org",
                "display_name": "Nia Rivera, RN",
                "role": "nurse",
                "time_zone": "America/New_York",
            },
        )
    assert response.status_code == 302
    invited = User.objects.get(email="nia@example.org")
    assert invited.role == Role.NURSE and invited.invited_by == staff
    assert AuditEvent.objects.filter(
        action=Action.USER_INVITED, actor=staff, subject_id=str(invited.public_id), reason="nurse"
    ).exists()
    # The people page lists them with their role.
    people = client_for(staff).get(reverse("accounts:people")).content.decode()
    assert "Nia Rivera, RN" in people and "<td>Nurse</td>" in people

    path = re.search(r"/accounts/password/reset/key/\S+", mail.outbox[0].body).group(0)
    invitee = Client()
    form_url = invitee.get(path, follow=True).redirect_chain[-1][0]
    invitee.post(form_url, {"password1": "nurse-pass-2026!", "password2": "nurse-pass-2026!"})
    invitee.post(reverse("account_login"), {"login": "nia@example.org", "password": "nurse-pass-2026!"})
    # Signing in lands on the nurse's home, which asks for two-factor first.
    landing = invitee.get(reverse("accounts:home"))
    assert landing["Location"] == reverse("portal:nurse_home")
    assert invitee.get(landing["Location"])["Location"] == reverse("accounts:mfa_required")


def test_a_nurse_home_lists_no_patient_and_has_the_nurse_navigation(nurse_client):
    page = nurse_client.get(reverse("portal:nurse_home")).content.decode()
    assert "Your sessions today" in page
    assert 'aria-label="Nurse"' in page
    assert reverse("portal:patients") not in page and reverse("scheduling:availability") not in page


def test_staff_record_a_nurse_licence_and_it_never_offers_the_nurse_for_booking(staff, frozen):
    nurse = User.objects.create_user("rn@example.org", None, role=Role.NURSE, display_name="Rae Nurse")
    client = client_for(staff)
    page = client.get(reverse("scheduling:licences")).content.decode()
    assert "Rae Nurse" in page  # a choice in the add-licence form
    response = client.post(
        reverse("scheduling:licences"),
        {"clinician": nurse.pk, "jurisdiction": "US-NY", "number": "RN-55", "expires_on": "2030-01-01"},
    )
    assert response.status_code == 302
    licence = Licence.objects.get(clinician=nurse)
    client.post(reverse("scheduling:verify_licence", args=[licence.public_id]))
    licence.refresh_from_db()
    assert licence.verified_at is not None
    assert not Licence.objects.usable("US-NY", from_=NOW).filter(clinician=nurse).exists()
