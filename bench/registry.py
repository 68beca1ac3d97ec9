"""The outcomes registry's compute time: printed, never asserted.

1. The pure computation: synthetic but plausible courses (mostly IV ketamine and esketamine, an
   induction of twice-weekly sessions then maintenance, a PHQ-9 every one to four weeks, a few
   partial forms and adverse events) for 1,000 and 10,000 patients.
2. The nightly snapshot as the worker runs it, database read included: the demo cohort
   (``clinic.outcomes.demo``) of 1,000 and then 10,000 patients written to a scratch SQLite
   database (or the PostgreSQL one BENCH_POSTGRES_URL names), then ``collect_courses`` and the
   computation timed apart.

Each prints its times and the ratio (about 10 means linear growth). Run: `python bench/registry.py`
(`make bench` runs it after bench/run.py).
"""

from __future__ import annotations

import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from clinic.care.outcomes import (  # noqa: E402
    AE_KINDS,
    AGE_BANDS,
    ROUTES,
    SEVERITIES,
    AdverseEventRecord,
    Course,
    Measure,
    SessionRecord,
    compute_registry,
)

AS_OF = date(2026, 6, 1)
RUNS = 3


def synthetic_course(rng: random.Random) -> Course:
    days_ago = rng.randint(0, 600)
    first = AS_OF - timedelta(days=days_ago)
    baseline = rng.randint(8, 27)
    measures = [Measure(first - timedelta(days=rng.randint(0, 6)), baseline)]
    score, day = baseline, 0
    while True:
        day += rng.choice((7, 7, 14, 28))
        if day > days_ago:
            break
        score = max(0, min(27, score + rng.randint(-5, 3)))
        measures.append(Measure(first + timedelta(days=day), None if rng.random() < 0.04 else score))
    sessions = []
    day = 0
    while day <= days_ago and len(sessions) < 40:
        events = tuple(
            AdverseEventRecord(rng.choice(AE_KINDS), rng.choice(SEVERITIES), rng.random() < 0.01)
            for _ in range(rng.choice((0, 0, 0, 0, 1, 1, 2)))
        )
        sessions.append(
            SessionRecord(first + timedelta(days=day), rng.random() < 0.04, rng.random() < 0.01, events)
        )
        day += 3 if len(sessions) < 8 else rng.choice((14, 28))
    return Course(
        rng.choices(ROUTES, weights=(45, 5, 10, 2, 38))[0],
        rng.choices(AGE_BANDS, weights=(40, 45, 15))[0],
        first,
        baseline,
        tuple(measures),
        tuple(sessions),
        1 if rng.random() < 0.03 else 0,
    )


def timed(n: int) -> float:
    rng = random.Random(n)
    courses = [synthetic_course(rng) for _ in range(n)]
    best = float("inf")
    for _ in range(RUNS):
        start = time.perf_counter()
        compute_registry(courses, as_of=AS_OF)
        best = min(best, time.perf_counter() - start)
    forms = sum(len(c.measures) for c in courses)
    sessions = sum(len(c.sessions) for c in courses)
    print(f"{n:>6} courses ({forms} forms, {sessions} sessions): {best:.3f} s (best of {RUNS})")
    return best


def with_database() -> None:
    """The worker's path: read the cohort from the database, then compute."""
    import os
    import tempfile

    from cryptography.fernet import Fernet

    scratch = tempfile.mkdtemp(prefix="mendwell-bench-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
    os.environ["MENDWELL_VAR_DIR"] = scratch
    os.environ["DATABASE_URL"] = os.environ.get("BENCH_POSTGRES_URL") or f"sqlite:///{scratch}/bench.sqlite3"
    os.environ["FIELD_ENCRYPTION_KEYS"] = Fernet.generate_key().decode()
    os.environ["TASKS_BACKEND"] = "immediate"
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from clinic.outcomes.demo import create_cohort
    from clinic.outcomes.extract import collect_courses

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    print(f"database: {os.environ['DATABASE_URL'].split('@')[-1]}")
    times = {}
    made = 0
    for n in (1_000, 10_000):
        start = time.perf_counter()
        create_cohort(n - made, seed=n)
        made = n
        print(f"{n:>6} patients written in {time.perf_counter() - start:.1f} s (bulk inserts)")
        best = (float("inf"), 0.0, 0.0)
        for _ in range(RUNS):
            today = timezone.now().date()
            t0 = time.perf_counter()
            courses = collect_courses(today)
            t1 = time.perf_counter()
            compute_registry(courses, as_of=today)
            t2 = time.perf_counter()
            if t2 - t0 < best[0]:
                best = (t2 - t0, t1 - t0, t2 - t1)
        forms = sum(len(c.measures) for c in courses)
        sessions = sum(len(c.sessions) for c in courses)
        print(
            f"{n:>6} courses ({forms} forms, {sessions} sessions): {best[0]:.3f} s "
            f"(read {best[1]:.3f} s + compute {best[2]:.3f} s; best of {RUNS})"
        )
        times[n] = best[0]
    ratio = times[10_000] / times[1_000]
    print(f"ratio 10,000 / 1,000 with the read: {ratio:.1f} (10 would be exactly linear)")


def main() -> None:
    print("The registry computation alone (pure):")
    small = timed(1_000)
    large = timed(10_000)
    print(f"ratio 10,000 / 1,000: {large / small:.1f} (10 would be exactly linear)")
    print("The nightly snapshot, database read included:")
    with_database()


if __name__ == "__main__":
    main()
