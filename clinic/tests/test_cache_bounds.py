"""No anonymous request makes the server store an unbounded amount: the database cache refuses
oversized values and keeps under its total caps, its expired rows go with the worker's pruning,
and 10,000 distinct cold slot requests leave the SQLite file under 50 MB larger."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from django.core.cache import cache
from django.db import connection

from clinic.cache import BoundedDatabaseCache, delete_expired

ROOT = Path(__file__).resolve().parents[2]


def _rows() -> tuple[int, int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*), COALESCE(SUM(LENGTH(value)), 0) FROM mendwell_cache")
        return cursor.fetchone()


@pytest.fixture
def small_cache(db) -> BoundedDatabaseCache:
    return BoundedDatabaseCache(
        "mendwell_cache",
        {"OPTIONS": {"MAX_ENTRIES": 50, "MAX_ENTRY_BYTES": 4096, "MAX_TOTAL_BYTES": 40_000}},
    )


def test_a_value_over_the_entry_cap_is_not_stored_and_drops_the_old_one(small_cache):
    small_cache.set("k", "small")
    small_cache.set("k", "x" * 10_000)
    assert small_cache.get("k") is None
    assert small_cache.set_many({"a": "x" * 10_000, "b": 1}) == ["a"]
    assert small_cache.get_many(["a", "b"]) == {"b": 1}


def test_the_total_size_and_count_stay_under_their_caps(small_cache):
    for n in range(400):
        small_cache.set(f"k{n}", "x" * 2000, 600)
        count, total = _rows()
        assert count <= 50 and total <= 40_000 + 4096
    small_cache.set_many({f"m{n}": "y" * 2000 for n in range(30)}, 600)
    assert _rows()[1] <= 40_000 + 30 * 4096
    assert small_cache.get("k399") == "x" * 2000  # the newest stay


def test_add_and_incr_keep_their_meaning(small_cache):
    assert small_cache.add("n", 1, 60) is True
    assert small_cache.add("n", 5, 60) is False
    assert small_cache.incr("n") == 2
    small_cache.set("gone", 1, -1)  # already expired
    assert small_cache.add("gone", 3, 60) is True and small_cache.get("gone") == 3


def test_the_worker_deletes_expired_rows(db):
    cache.set("old", "x", 1)
    cache.set("kept", "y", 600)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE mendwell_cache SET expires = %s WHERE cache_key LIKE %s",
            [connection.ops.adapt_datetimefield_value(dt.datetime(2000, 1, 1, tzinfo=dt.UTC)), "%old"],
        )
    assert delete_expired() == 1
    assert cache.get("kept") == "y"
    from clinic.taskqueue import prune_tasks

    cache.set("old2", "x", 600)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE mendwell_cache SET expires = %s", ["2000-01-01 00:00:00"])
    prune_tasks.call()
    assert _rows()[0] == 0


BURST = """
import datetime as dt, os, django
django.setup()
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
call_command("migrate", "--noinput", verbosity=0)
call_command("createcachetable")
from tests.support.booking import give_hours
from tests.support.personas import license_user, make_user
from clinic.accounts.models import Role
staff = make_user("staff@example.org", Role.STAFF)
for n in range(3):
    doc = make_user(f"d{n}@example.org", Role.CLINICIAN)
    give_hours(doc)
    license_user(doc, "US-NY", staff)
client = Client()
client.get("/api/v1/slots", {"jurisdiction": "US-NY", "start": timezone.now().date().isoformat(), "days": 31})
print("BEFORE", os.path.getsize(os.environ["DB_FILE"]), flush=True)
today = timezone.now().date()
statuses = {}
for n in range(10_000):
    first = today + dt.timedelta(days=n % 40 - 5)
    query = {"jurisdiction": "US-NY", "start": first.isoformat(), "days": 1 + n % 31}
    if n % 3 == 0:
        query["clinician"] = f"00000000-0000-4000-8000-{n:012d}"
    address = f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"
    status = client.get("/api/v1/slots", query, REMOTE_ADDR=address).status_code
    statuses[status] = statuses.get(status, 0) + 1
print("AFTER", os.path.getsize(os.environ["DB_FILE"]), statuses, flush=True)
"""


def test_ten_thousand_distinct_cold_slot_requests_leave_the_database_under_50_mb_larger():
    """Each with another first day, length or clinician, from another address (so the rate limit
    never refuses one): in a process of its own, on a SQLite file, as `make run` keeps it."""
    with tempfile.TemporaryDirectory() as var_dir:
        db_file = Path(var_dir) / "burst.sqlite3"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "clinic.test_settings",
            "DATABASE_URL": f"sqlite:///{db_file}",
            "DB_FILE": str(db_file),
            "MENDWELL_VAR_DIR": var_dir,
            "ALLOWED_HOSTS": "testserver",
        }
        done = subprocess.run(
            [sys.executable, "-c", BURST], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900
        )
        assert done.returncode == 0, done.stderr[-3000:]
        before = int(done.stdout.split("BEFORE ")[1].split()[0])
        after_line = done.stdout.split("AFTER ")[1]
        after = int(after_line.split()[0])
        assert "200" in after_line
        with sqlite3.connect(db_file) as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        grown = max(after, db_file.stat().st_size) - before
        print(f"grown by {grown / 1e6:.1f} MB: {after_line.strip()}")
        assert grown < 50_000_000
