import datetime as dt
import re
import time

import pytest
import time_machine
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.core import mail
from django.test import Client
from django.urls import reverse

from clinic.accounts.models import Role, User
from clinic.audit.models import Action, AuditEvent
from tests.support.personas import PASSWORD, client_for, make_user

AREAS = [
    "portal:patient_home",
    "portal:clinician_home",
    "portal:nurse_home",
    "portal:staff_home",
    "accounts:people",
]


def current_code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


@pytest.mark.django_db
def test_patient_signs_up_and_verifies_email_with_a_code(django_capture_on_commit_callbacks):
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("account_signup"),
            {"email": "New.Person@Example.org", "password1": "a-long-enough-pass-42", "role": "staff"},
        )
    assert response.status_code == 302
    user = User.objects.get(email="new.person@example.org")
    assert user.role == Role.PATIENT  # a tampered role field is ignored
    assert len(mail.outbox) == 1
    code = re.search(r"\b([A-Z0-9]{4}-[A-Z0-9]{4})\b", mail.outbox[0].body).group(1)
    # Not verified yet: the patient area stays closed.
    assert client.get(reverse("portal:patient_home")).status_code == 302
    response = client.post(reverse("account_email_verification_sent"), {"code": code})
    assert response.status_code == 302
    assert client.get(reverse("portal:patient_home")).status_code == 200


@pytest.mark.django_db
def test_signup_with_bad_input_saves_nothing():
    client = Client()
    response = client.post(reverse("account_signup"), {"email": "not-an-email", "password1": "short"})
    assert response.status_code == 200
    assert "Enter a valid email address" in response.content.decode()
    assert User.objects.count() == 0


@pytest.mark.django_db
def test_each_area_is_closed_to_the_wrong_persona(patient, clinician, nurse, staff):
    allowed = {
        "portal:patient_home": patient,
        "portal:clinician_home": clinician,
        "portal:nurse_home": nurse,
        "portal:staff_home": staff,
        "accounts:people": staff,
    }
    for name in AREAS:
        url = reverse(name)
        assert Client().get(url).status_code == 302, name
        for person in (patient, clinician, nurse, staff):
            expected = 200 if allowed[name] == person else 403
            assert client_for(person).get(url).status_code == expected, (name, person.role)


@pytest.mark.django_db
def test_clinicians_nurses_and_staff_must_set_up_mfa_before_their_area_opens():
    for role, area in (
        (Role.CLINICIAN, "portal:clinician_home"),
        (Role.NURSE, "portal:nurse_home"),
        (Role.STAFF, "portal:staff_home"),
    ):
        person = make_user(f"{role}@example.org", role)
        response = client_for(person).get(reverse(area))
        assert response.status_code == 302
        assert response["Location"] == reverse("accounts:mfa_required")


@pytest.mark.django_db
def test_every_sign_in_of_a_clinician_asks_for_the_second_factor(clinician):
    client = Client()
    response = client.post(reverse("account_login"), {"login": clinician.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    assert client.get(reverse("portal:clinician_home")).status_code == 302  # not signed in yet
    response = client.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert client.get(reverse("portal:clinician_home")).status_code == 302
    response = client.post(reverse("mfa_authenticate"), {"code": current_code(clinician.totp_secret)})
    assert response.status_code == 302
    assert client.get(reverse("portal:clinician_home")).status_code == 200
    assert AuditEvent.objects.filter(action=Action.SIGNED_IN, actor=clinician).count() == 1


@pytest.mark.django_db
def test_failed_sign_ins_cool_off_then_recover(patient):
    start = dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False) as traveller:
        client = Client()
        for _ in range(5):
            client.post(reverse("account_login"), {"login": patient.email, "password": "wrong-one-1"})
        # Even the right password is refused during the cool-off...
        response = client.post(reverse("account_login"), {"login": patient.email, "password": PASSWORD})
        assert "Too many failed login attempts" in response.content.decode()
        assert client.get(reverse("portal:patient_home")).status_code == 302
        # ...which ends on its own: nobody can lock a doctor out for good.
        traveller.move_to(start + dt.timedelta(minutes=16))
        response = client.post(reverse("account_login"), {"login": patient.email, "password": PASSWORD})
        assert response.status_code == 302
        assert client.get(reverse("portal:patient_home")).status_code == 200


@pytest.mark.django_db
def test_password_reset_by_email_link(patient, django_capture_on_commit_callbacks):
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account_reset_password"), {"email": patient.email})
    assert len(mail.outbox) == 1
    link = re.search(r"http://\S+/accounts/password/reset/key/\S+", mail.outbox[0].body).group(0)
    path = link.split("testserver", 1)[-1] if "testserver" in link else "/" + link.split("/", 3)[3]
    response = client.get(path, follow=True)
    form_url = response.redirect_chain[-1][0] if response.redirect_chain else path
    response = client.post(form_url, {"password1": "brand-new-pass-77", "password2": "brand-new-pass-77"})
    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.check_password("brand-new-pass-77")
    assert AuditEvent.objects.filter(action=Action.PASSWORD_RESET, actor=patient).exists()


@pytest.mark.django_db
def test_staff_invite_a_clinician_who_sets_a_password_then_must_add_mfa(
    staff, django_capture_on_commit_callbacks
):
    client = client_for(staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("accounts:people"),
            {
                "email": "New.Doc@example.org",
                "display_name": "Dr New",
                "role": "clinician",
                "time_zone": "America/Chicago",
            },
        )
    assert response.status_code == 302
    invited = User.objects.get(email="new.doc@example.org")
    assert invited.role == Role.CLINICIAN
    assert invited.invited_by == staff
    assert not invited.has_usable_password()
    assert AuditEvent.objects.filter(
        action=Action.USER_INVITED, actor=staff, subject_id=str(invited.public_id)
    ).exists()
    assert len(mail.outbox) == 1
    path = re.search(r"/accounts/password/reset/key/\S+", mail.outbox[0].body).group(0)

    invitee = Client()
    response = invitee.get(path, follow=True)
    form_url = response.redirect_chain[-1][0]
    response = invitee.post(form_url, {"password1": "doctor-pass-2026!", "password2": "doctor-pass-2026!"})
    assert response.status_code == 302
    invitee.post(reverse("account_login"), {"login": "new.doc@example.org", "password": "doctor-pass-2026!"})
    response = invitee.get(reverse("portal:clinician_home"))
    assert response["Location"] == reverse("accounts:mfa_required")


@pytest.mark.django_db
def test_invite_rejects_duplicates_and_bad_roles(staff, patient, django_capture_on_commit_callbacks):
    client = client_for(staff)
    for data in (
        {"email": patient.email, "display_name": "X", "role": "clinician", "time_zone": "America/Chicago"},
        {"email": "a@example.org", "display_name": "X", "role": "patient", "time_zone": "America/Chicago"},
        {"email": "b@example.org", "display_name": "X", "role": "staff", "time_zone": "Mars/Olympus"},
    ):
        response = client.post(reverse("accounts:people"), data)
        assert response.status_code == 400
    assert User.objects.count() == 2
    assert len(mail.outbox) == 0


@pytest.mark.django_db
def test_only_staff_can_invite(patient, clinician, nurse):
    data = {"email": "x@example.org", "display_name": "X", "role": "staff", "time_zone": "America/Chicago"}
    for person in (patient, clinician, nurse):
        assert client_for(person).post(reverse("accounts:people"), data).status_code == 403
    assert not User.objects.filter(email="x@example.org").exists()


@pytest.mark.django_db
def test_patient_can_change_time_zone_and_bad_zones_are_refused(patient):
    client = client_for(patient)
    assert client.post(reverse("portal:patient_home"), {"time_zone": "Nowhere/Atlantis"}).status_code == 400
    patient.refresh_from_db()
    assert patient.time_zone == "America/New_York"
    assert client.post(reverse("portal:patient_home"), {"time_zone": "Australia/Sydney"}).status_code == 302
    patient.refresh_from_db()
    assert patient.time_zone == "Australia/Sydney"


@pytest.mark.django_db
def test_admin_sign_in_goes_through_allauth(client):
    response = client.get("/admin/login/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.django_db
def test_staff_home_counts_licences_expiring_within_60_days(staff, clinician):
    from clinic.accounts.models import Licence

    soon = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=30)
    Licence.objects.filter(clinician=clinician).update(expires_on=soon)
    page = client_for(staff).get(reverse("portal:staff_home")).content.decode()
    assert "1 expires within 60 days" in page
