"""Six signed sessions draw 30 mg each from a 100 mg lot at the same moment, each in its own
process: exactly three land, three are refused cleanly, the balance ends at 10 mg and never goes
below zero. On PostgreSQL the lot's row lock serializes them; on SQLite the IMMEDIATE
transaction does. Without either, the losers would hit the unique line number instead of a
clean refusal, and this test would fail."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.support.live import PYTHON, ROOT, _run, database

RACERS = 6

SETUP = """
from decimal import Decimal
from django.utils import timezone
from clinic.accounts.models import Role, User
from clinic.register.actions import do_add_site, do_receive
from clinic.register.models import Drug
staff = User.objects.create_user("race-staff@example.org", None, role=Role.STAFF)
User.objects.create_user("race-patient@example.org", None, role=Role.PATIENT)
User.objects.create_user("race-doc@example.org", None, role=Role.CLINICIAN)
site = do_add_site(actor=staff, name="Race site")
do_receive(actor=staff, site=site, drug=Drug.KETAMINE, strength="50 mg/mL", lot_number="RACE-1",
           quantity_mg=Decimal("100"), supplier="Acme", received_at=timezone.now())
"""

WITHDRAW = """
import time, uuid
from decimal import Decimal
from django.utils import timezone
from clinic.accounts.models import User
from clinic.register.actions import RegisterError, do_record_administration
from clinic.register.models import Site
site = Site.objects.get()
patient = User.objects.get(email="race-patient@example.org")
doc = User.objects.get(email="race-doc@example.org")
time.sleep(max(0.0, {start} - time.time()))
try:
    do_record_administration(site=site, lot="RACE-1", quantity_mg=Decimal("30"), session_ref=uuid.uuid4(),
                             patient=patient, by=doc, at=timezone.now())
    print("RESULT ok")
except RegisterError:
    print("RESULT refused")
"""

CHECK = """
from clinic.register.models import Entry
print("LINES", [str(e.balance_mg) for e in Entry.objects.order_by("sequence")])
"""


@pytest.mark.parametrize("vendor", ["sqlite", "postgresql"])
def test_simultaneous_withdrawals_never_overdraw_a_lot(vendor):
    url = os.environ.get("DATABASE_URL", "")
    if vendor == "postgresql" and not url.startswith("postgres"):
        pytest.skip("runs when DATABASE_URL points at PostgreSQL")
    var_dir = Path(tempfile.mkdtemp(prefix="mendwell-register-race-"))
    try:
        with database(url if vendor == "postgresql" else None, var_dir) as db_url:
            env = {
                k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "TASKS_BACKEND"}
            }
            env.update(
                DJANGO_ENV="development", DEBUG="false", DATABASE_URL=db_url, MENDWELL_VAR_DIR=str(var_dir)
            )
            env.pop("PYTEST_VERSION", None)
            for args in (["create_local_key"], ["migrate", "--noinput", "-v0"], ["shell", "-c", SETUP]):
                _run(args, env)
            # Every racer is started and has loaded Django before the common moment.
            start = time.time() + 20
            racers = [
                subprocess.Popen(  # noqa: S603 (our own interpreter and manage.py)
                    [PYTHON, "manage.py", "shell", "-c", WITHDRAW.format(start=start)],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                for _ in range(RACERS)
            ]
            outcomes = []
            for racer in racers:
                out, err = racer.communicate(timeout=180)
                outcomes.append(
                    out.strip().rsplit("RESULT ", 1)[-1] if "RESULT " in out else f"error: {err[-500:]}"
                )
            assert sorted(outcomes) == ["ok"] * 3 + ["refused"] * 3, outcomes
            lines = _run(["shell", "-c", CHECK], env)
            assert "LINES ['100.000', '70.000', '40.000', '10.000']" in lines, lines
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)
