"""Mendwell's figures: printed, never asserted. `make bench`.

1. Slot computation alone (pure module): 100 clinicians x 30 days, about a third booked.
2. The full slots request over HTTP for the same clinic (gunicorn, SQLite): median and p95.
3. SQL queries of the slots request for 1 clinician x 1 day and 100 clinicians x 30 days.
4. Contention: 50 patients book one slot at the same moment, on SQLite and (when
   BENCH_POSTGRES_URL or DATABASE_URL names one) PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.live import contend, get_json, live_server  # noqa: E402
from clinic.scheduling import slots  # noqa: E402

CLINICIANS, DAYS, RUNS = 100, 30, 30


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]


def calendars(now: dt.datetime) -> list[slots.Calendar]:
    zone = "America/New_York"
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(zone)
    today = now.astimezone(tz).date()
    result = []
    for n in range(CLINICIANS):
        busy = []
        for day in range(DAYS + 1):
            date = today + dt.timedelta(days=day)
            for step in range(0, 20, 3):
                start = dt.datetime.combine(date, dt.time(8), tzinfo=tz) + dt.timedelta(minutes=30 * step)
                busy.append(
                    slots.Interval(
                        start.astimezone(dt.UTC), (start + dt.timedelta(minutes=30)).astimezone(dt.UTC)
                    )
                )
        result.append(
            slots.Calendar(
                clinician_id=f"doc-{n}",
                zone=zone,
                weekly=tuple(slots.WeeklyWindow(w, dt.time(8), dt.time(18)) for w in range(7)),
                overrides={},
                busy=tuple(busy),
                licensed_dates=((dt.date.min, dt.date.max),),
            )
        )
    return result


def timed(fn, runs: int) -> list[float]:  # noqa: ANN001
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return times


def fetch_each(urls: list[str]) -> list[float]:
    """Milliseconds for each GET, in order."""
    times = []
    for url in urls:
        t0 = time.perf_counter()
        urllib.request.urlopen(url).read()  # noqa: S310 (loopback only)
        times.append((time.perf_counter() - t0) * 1000)
    return times


def report(label: str, times: list[float]) -> None:
    print(f"  {label:<58} median {statistics.median(times):7.2f} ms   p95 {pct(times, 0.95):7.2f} ms")


def main() -> None:
    now = dt.datetime.now(dt.UTC)
    cals = calendars(now)
    rules = slots.Rules(
        duration=dt.timedelta(minutes=20),
        buffer_after=dt.timedelta(minutes=10),
        horizon=dt.timedelta(days=31),
    )
    found = slots.free_slots_many(cals, rules, now=now, start=now, end=now + dt.timedelta(days=DAYS))
    print(f"Slot computation, {CLINICIANS} clinicians x {DAYS} days, ~1/3 booked ({len(found)} free slots):")
    report(
        "slots.free_slots_many (pure)",
        timed(
            lambda: slots.free_slots_many(cals, rules, now=now, start=now, end=now + dt.timedelta(days=DAYS)),
            RUNS,
        ),
    )

    print(f"\nFull GET /api/v1/slots over HTTP ({CLINICIANS} clinicians x {DAYS} days, ~1/3 booked, SQLite):")
    with live_server(None, clinicians=CLINICIANS, booked_days=DAYS + 1, workers=1, threads=1) as server:
        start = now.date().isoformat()
        base = f"{server.base_url}/api/v1/slots?jurisdiction=US-NY"
        count = len(get_json(f"{base}&start={start}&days={DAYS}"))  # type: ignore[arg-type]
        for days, label in ((DAYS, f"{DAYS} days, {count} slots"), (7, "7 days (a patient's first screen)")):
            # Computed: a different first day each time, so the minute-long slot cache never helps.
            first_days = [(now.date() + dt.timedelta(days=n % 28 + 1)).isoformat() for n in range(RUNS)]
            report(f"{label}, computed", fetch_each([f"{base}&start={d}&days={days}" for d in first_days]))
            warm = f"{base}&start={start}&days={days}"
            report(f"{label}, cached", fetch_each([warm] * (RUNS + 1))[1:])

    print("\nContention: 50 patients book the same slot at the same moment (gunicorn 4 workers x 8 threads):")
    pg = os.environ.get("BENCH_POSTGRES_URL") or os.environ.get("DATABASE_URL", "")
    targets = [("SQLite", None)] + ([("PostgreSQL", pg)] if pg.startswith("postgres") else [])
    for name, database_url in targets:
        with live_server(database_url, clinicians=1, patients=50) as server:
            tomorrow = (now + dt.timedelta(days=1)).date().isoformat()
            first = get_json(f"{server.base_url}/api/v1/slots?jurisdiction=US-NY&start={tomorrow}&days=1")[0][
                "start"
            ]  # type: ignore[index]
            t0 = time.perf_counter()
            statuses = contend(server, first, 50)
            elapsed = (time.perf_counter() - t0) * 1000
            errors = sum(n for code, n in statuses.items() if code >= 500)
            other = {code: n for code, n in statuses.items() if code not in (201, 409) and code < 500}
            print(
                f"  {name:<11} booked {statuses.get(201, 0)}, conflicts {statuses.get(409, 0)}, "
                f"errors {errors}, other {other}  ({elapsed:.0f} ms for all 50)"
            )
    if not pg.startswith("postgres"):
        print("  PostgreSQL  skipped (set BENCH_POSTGRES_URL=postgres://user@host:5432/db)")


if __name__ == "__main__":
    main()
