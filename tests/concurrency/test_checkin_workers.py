"""Two real worker processes sweep check-ins at the same moment: each check-in is emailed once."""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.support.live import database

ROOT = Path(__file__).resolve().parents[2]
PYTHON = str(ROOT / ".venv" / "bin" / "python")

# Five patients whose course starts today in a zone where it is already past 09:00 for them (the
# first check-in's send moment is moved to now, whatever the hour), and two sweeps queued at once.
SETUP = """
import datetime as dt, uuid
from django.utils import timezone
from clinic.accounts.models import User, Role
from clinic.measures.actions import do_schedule_course
from clinic.measures.models import CheckIn
from clinic.measures.tasks import checkin_sweep
today = timezone.now().date()
for n in range(5):
    p = User.objects.create_user(f"p{n}@example.org", None, role=Role.PATIENT)
    s = do_schedule_course(patient=p, course_ref=uuid.uuid4(), induction_start=today, sessions=[today],
        last_session=None, zone="UTC")
    due = CheckIn.objects.filter(schedule=s, due_on=today)
    due.update(send_after=timezone.now() - dt.timedelta(minutes=1))
checkin_sweep.enqueue()
checkin_sweep.enqueue()
"""


def test_two_workers_send_each_check_in_once():
    """On SQLite, or on a fresh PostgreSQL database when DATABASE_URL names one."""
    var = Path(tempfile.mkdtemp(prefix="mendwell-checkin-workers-"))
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
        checkins = [text for text in sent if "Your check-in is ready" in text]
        recipients = sorted(
            line for text in checkins for line in text.splitlines() if line.startswith("To: ")
        )
        assert recipients == [f"To: p{n}@example.org" for n in range(5)]
    finally:
        shutil.rmtree(var, ignore_errors=True)
