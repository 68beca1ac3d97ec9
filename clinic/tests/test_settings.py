"""Production start-up refuses missing secrets; `check --deploy` is clean; the security headers."""

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
import time_machine
from cryptography.fernet import Fernet
from django.urls import reverse

from clinic.audit.models import Action, AuditEvent
from tests.support.personas import client_for

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": "x" * 20 + "a-real-looking-production-secret-" + "y" * 20,
    "ALLOWED_HOSTS": "clinic.example.org",
    "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    "DATABASE_URL": "sqlite:///:memory:",
}


def run_manage(env_overrides: dict, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_ENV", "DATABASE_URL", "SECRET_KEY"}}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS", "FIELD_ENCRYPTION_KEYS"])
def test_production_refuses_to_start_without_each_secret(missing):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}
    result = run_manage(env, "check")
    assert result.returncode != 0
    assert f"{missing} is required when DJANGO_ENV=production" in result.stderr


def test_production_refuses_a_bad_encryption_key():
    result = run_manage({**PRODUCTION_ENV, "FIELD_ENCRYPTION_KEYS": "not-a-key"}, "check")
    assert result.returncode != 0
    assert "not a Fernet key" in result.stderr


def test_check_deploy_reports_no_issues():
    result = run_manage(PRODUCTION_ENV, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.django_db
def test_content_security_policy_allows_no_inline_script(client):
    policy = client.get("/")["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'self'"
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy


@pytest.mark.django_db
def test_pages_with_personal_data_are_never_cached(patient, staff):
    response = client_for(patient).get(reverse("portal:patient_home"))
    assert "no-store" in response["Cache-Control"]
    response = client_for(staff).get(reverse("content:inbox"))
    assert "no-store" in response["Cache-Control"]
    # Even a public page is no-store once someone is signed in (it shows their name).
    assert "no-store" in client_for(patient).get("/")["Cache-Control"]


@pytest.mark.django_db
def test_public_pages_may_be_cached_for_anonymous_visitors(client):
    assert "public" in client.get("/learn/")["Cache-Control"]
    assert "no-store" in client.get(reverse("account_login"))["Cache-Control"]
    assert "no-store" in client.get(reverse("content:contact"))["Cache-Control"]


@pytest.mark.django_db
def test_idle_session_ends_after_thirty_minutes(patient):
    start = dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False) as traveller:
        client = client_for(patient)
        assert client.get(reverse("portal:patient_home")).status_code == 200
        traveller.move_to(start + dt.timedelta(minutes=29))
        assert client.get(reverse("portal:patient_home")).status_code == 200
        traveller.move_to(start + dt.timedelta(minutes=59, seconds=30))
        response = client.get(reverse("portal:patient_home"))
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]
    assert AuditEvent.objects.filter(action=Action.SESSION_EXPIRED, actor=patient).count() == 1


@pytest.mark.django_db
def test_active_session_still_ends_after_twelve_hours(patient):
    start = dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False) as traveller:
        client = client_for(patient)
        for minutes in range(0, 12 * 60, 25):  # active every 25 minutes
            traveller.move_to(start + dt.timedelta(minutes=minutes))
            assert client.get(reverse("portal:patient_home")).status_code == 200
        traveller.move_to(start + dt.timedelta(hours=12, minutes=5))
        assert client.get(reverse("portal:patient_home")).status_code == 302


def test_request_id_header_is_set(client, db):
    response = client.get("/", HTTP_X_REQUEST_ID="abc123")
    assert response["X-Request-ID"] == "abc123"
    response = client.get("/", HTTP_X_REQUEST_ID="<script>")
    assert response["X-Request-ID"] != "<script>"
