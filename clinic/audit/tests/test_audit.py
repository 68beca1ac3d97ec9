import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse

from clinic.accounts.models import Role
from clinic.audit.actions import audit_record
from clinic.audit.models import Action, AuditEvent
from tests.support.personas import PASSWORD, client_for, make_user


def login(client: Client, email: str, password: str):
    return client.post(reverse("account_login"), {"login": email, "password": password})


@pytest.mark.django_db
def test_sign_in_failed_sign_in_and_sign_out_are_recorded(patient):
    client = Client()
    login(client, patient.email, "wrong-password-1")
    failed = AuditEvent.objects.get(action=Action.SIGN_IN_FAILED)
    assert failed.actor is None
    assert failed.actor_label == patient.email
    assert failed.ip == "127.0.0.1"
    assert failed.request_id

    response = login(client, patient.email, PASSWORD)
    assert response.status_code == 302
    signed_in = AuditEvent.objects.get(action=Action.SIGNED_IN)
    assert signed_in.actor == patient
    assert signed_in.subject_id == str(patient.public_id)

    client.post(reverse("account_logout"))
    assert AuditEvent.objects.filter(action=Action.SIGNED_OUT, actor=patient).count() == 1
    # The password typed never reaches the log, in any column.
    for event in AuditEvent.objects.all():
        assert "wrong-password-1" not in repr(event.__dict__)


@pytest.mark.django_db
def test_mfa_changes_are_recorded(patient, django_capture_on_commit_callbacks):
    import time

    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    client = Client()
    login(client, patient.email, PASSWORD)
    # Adding a second factor asks for the password again (allauth's reauthentication).
    assert client.get(reverse("mfa_activate_totp")).status_code == 302
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    client.get(reverse("mfa_activate_totp"))
    secret = client.session["mfa.totp.secret"]
    code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    with django_capture_on_commit_callbacks(execute=True):  # allauth signals after commit
        response = client.post(reverse("mfa_activate_totp"), {"code": code})
    assert response.status_code == 302, response.content[:500]
    assert AuditEvent.objects.filter(action=Action.MFA_ADDED, actor=patient, reason="totp").exists()


@pytest.mark.django_db
def test_audit_rows_cannot_be_updated_or_deleted_by_the_database():
    event = audit_record(action=Action.AUDIT_VIEWED, actor_label="someone")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(reason="rewritten")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("UPDATE audit_auditevent SET action = 'x'")
    with pytest.raises(DatabaseError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM audit_auditevent")
    event.refresh_from_db()
    assert event.reason == ""
    assert AuditEvent.objects.count() == 1


@pytest.mark.django_db
def test_audit_table_cannot_be_truncated_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("TRUNCATE exists only on PostgreSQL; SQLite's DELETE is covered above")
    audit_record(action=Action.AUDIT_VIEWED, actor_label="someone")
    with pytest.raises(DatabaseError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE audit_auditevent")
    assert AuditEvent.objects.count() == 1


@pytest.mark.django_db
def test_audit_viewer_is_for_staff_only(staff, patient, clinician, anon_client):
    url = reverse("portal:audit_log")
    assert anon_client.get(url).status_code == 302
    assert client_for(patient).get(url).status_code == 403
    assert client_for(clinician).get(url).status_code == 403
    staff_without_mfa = make_user("new-staff@example.org", Role.STAFF)
    response = client_for(staff_without_mfa).get(url)
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:mfa_required")
    assert client_for(staff).get(url).status_code == 200


@pytest.mark.django_db
def test_audit_viewer_filters_and_records_that_it_was_read(staff, patient):
    audit_record(action=Action.SIGN_IN_FAILED, actor_label="intruder@example.org")
    audit_record(action=Action.SIGNED_IN, actor=patient)
    client = client_for(staff)
    response = client.get(reverse("portal:audit_log"), {"action": Action.SIGN_IN_FAILED})
    body = response.content.decode()
    assert "intruder@example.org" in body
    assert patient.email not in body
    response = client.get(reverse("portal:audit_log"), {"actor": "pat@"})
    assert patient.email in response.content.decode()
    assert AuditEvent.objects.filter(action=Action.AUDIT_VIEWED, actor=staff).count() == 2


@pytest.mark.django_db
def test_audit_viewer_bad_filters_are_a_400_with_a_message_not_a_500(staff):
    response = client_for(staff).get(
        reverse("portal:audit_log"), {"patient": "not-a-uuid", "since": "yesterday", "page": "x"}
    )
    assert response.status_code == 400
    assert "Enter a valid UUID" in response.content.decode()


def test_behind_a_proxy_the_client_is_the_entry_the_proxy_added(settings, rf):
    from clinic.audit.actions import client_ip

    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    request = rf.get("/", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9", REMOTE_ADDR="10.0.0.2")
    assert client_ip(request) == "203.0.113.9"  # the first entry is whatever the client sent
    settings.SECURE_PROXY_SSL_HEADER = None
    assert client_ip(request) == "10.0.0.2"  # no proxy is trusted: the header means nothing
