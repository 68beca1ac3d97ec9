"""Two real worker processes sweep reminders at the same moment: each reminder is emailed once."""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.support.live import database

ROOT = Path(__file__).resolve().parents[2]
PYTHON = str(ROOT / ".venv" / "bin" / "python")

SETUP = """
import datetime as dt, uuid
from django.utils import timezone
from clinic.accounts.models import User, Role
from clinic.scheduling.models import AppointmentType, Booking
from clinic.scheduling.tasks import reminder_sweep
doc = User.objects.create_user("doc@example.org", None, role=Role.CLINICIAN, display_name="Dr Doc")
kind = AppointmentType.objects.get(kind="consultation")
for n in range(5):
    p = User.objects.create_user(f"p{n}@example.org", None, role=Role.PATIENT)
    start = timezone.now() + dt.timedelta(hours=20, minutes=30 * n)
    Booking.objects.create(patient=p, clinician=doc, appointment_type=kind, start=start,
        end=start + dt.timedelta(minutes=20), blocked_start=start,
        blocked_end=start + dt.timedelta(minutes=30),
        jurisdiction="US-NY", patient_time_zone="America/New_York",
        created_at=timezone.now() - dt.timedelta(days=3), idempotency_key=uuid.uuid4().hex,
        manage_token_hash=uuid.uuid4().hex, ics_uid=uuid.uuid4().hex)
reminder_sweep.enqueue()
reminder_sweep.enqueue()
"""


def test_two_workers_send_each_reminder_once():
    """On SQLite, or on a fresh PostgreSQL database when DATABASE_URL names one."""
    var = Path(tempfile.mkdtemp(prefix="mendwell-workers-"))
    with database(os.environ.get("DATABASE_URL"), var) as url:
        _two_workers(var, url)


def _two_workers(var: Path, url: str) -> None:
    env = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "PYTEST_VERSION", "TASKS_BACKEND"}
    }
    env.update(DJANGO_ENV="development", DEBUG="false", MENDWELL_VAR_DIR=str(var), DATABASE_URL=url)
    try:
        for args in (["create_local_key"], ["migrate", "-v0"], ["createcachetable"], ["shell", "-c", SETUP]):
            subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True)
        workers = [
            subprocess.Popen(
                [PYTHON, "manage.py", "db_worker", "--batch", "--interval", "0", "--no-startup-delay"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(2)
        ]
        for worker in workers:
            assert worker.wait(timeout=120) == 0
        sent = [p.read_text() for p in (var / "mail").glob("*.log")]
        reminders = [text for text in sent if "Reminder: your video appointment" in text]
        recipients = sorted(
            line for text in reminders for line in text.splitlines() if line.startswith("To: ")
        )
        assert recipients == [f"To: p{n}@example.org" for n in range(5)]
    finally:
        shutil.rmtree(var, ignore_errors=True)
