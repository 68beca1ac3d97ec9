"""Mendwell's figures: printed, never asserted. `make bench`.

1. Slot computation alone (pure module): 100 clinicians x 30 days, about a third booked.
2. The full slots request over HTTP for the same clinic (gunicorn, SQLite): the first request
   (every clinician's free starts computed), cold requests (a new first day each time, so no
   answer is kept for it), and the request after a booking (that clinician computed again).
3. Pages of the demo clinic against a bare "hello" view on the same server, gunicorn with 2
   workers, measured with wrk (16 connections) in interleaved rounds: requests/s as a ratio of
   hello's, p99 as a multiple of hello's; and the home page on `make run`'s server as a ratio of
   the same page on gunicorn. Each line says the load average when it was taken.
4. Contention: 200 patients book one slot at the same moment, on SQLite and (when
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

from bench import site  # noqa: E402
from clinic.scheduling import slots  # noqa: E402
from tests.support.live import book, contend, free_port, get_json, live_server  # noqa: E402

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
    with live_server(
        None, clinicians=CLINICIANS, patients=1, booked_days=DAYS + 1, workers=1, threads=1
    ) as server:
        base = f"{server.base_url}/api/v1/slots?jurisdiction=US-NY"
        first = fetch_each([f"{base}&start={now.date().isoformat()}&days={DAYS}"])
        count = len(get_json(f"{base}&start={now.date().isoformat()}&days={DAYS}"))  # type: ignore[arg-type]
        report(f"{DAYS} days, first request (computes every clinician)", first)
        for days, label in ((DAYS, f"{DAYS} days, {count} slots"), (7, "7 days (a patient's first screen)")):
            # Cold: a different first day each time, so no answer is kept for it.
            first_days = [(now.date() + dt.timedelta(days=n % 28 + 1)).isoformat() for n in range(RUNS)]
            report(f"{label}, cold", fetch_each([f"{base}&start={d}&days={days}" for d in first_days]))
        tomorrow = (now + dt.timedelta(days=1)).date().isoformat()
        slot = get_json(f"{base}&start={tomorrow}&days=1")[0]  # type: ignore[index]
        status = book(
            server.base_url,
            server.sessions[0],
            {
                "jurisdiction": "US-NY",
                "start": slot["start"],
                "time_zone": "America/New_York",
                "idempotency_key": "00000000-0000-4000-8000-000000000001",
            },  # fmt: skip
        )
        after = fetch_each([f"{base}&start={now.date().isoformat()}&days={DAYS}"])
        report(f"{DAYS} days, just after a booking ({status}: one clinician computed again)", after)
        print(f"  ({site.load()})")

    pages()

    print(
        f"\nContention: {RACERS} patients book the same slot at the same moment "
        "(SQLite: the server of make run; PostgreSQL: gunicorn 4 workers x 8 threads):"
    )
    pg = os.environ.get("BENCH_POSTGRES_URL") or os.environ.get("DATABASE_URL", "")
    targets = [("SQLite", None)] + ([("PostgreSQL", pg)] if pg.startswith("postgres") else [])
    for name, database_url in targets:
        with live_server(
            database_url, clinicians=1, patients=RACERS, embedded=database_url is None
        ) as server:
            tomorrow = (now + dt.timedelta(days=1)).date().isoformat()
            first = get_json(f"{server.base_url}/api/v1/slots?jurisdiction=US-NY&start={tomorrow}&days=1")[0][
                "start"
            ]  # type: ignore[index]
            t0 = time.perf_counter()
            statuses = contend(server, first, RACERS)
            elapsed = (time.perf_counter() - t0) * 1000
            errors = sum(n for code, n in statuses.items() if code >= 500)
            other = {code: n for code, n in statuses.items() if code not in (201, 409) and code < 500}
            print(
                f"  {name:<11} booked {statuses.get(201, 0)}, conflicts {statuses.get(409, 0)}, "
                f"errors {errors}, other {other}  ({elapsed:.0f} ms for all {RACERS})"
            )
    if not pg.startswith("postgres"):
        print("  PostgreSQL  skipped (set BENCH_POSTGRES_URL=postgres://user@host:5432/db)")


RACERS = 200
SECONDS = float(os.environ.get("BENCH_SECONDS", "5"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
PAGES = {
    "hello": "/bench/hello",
    "home": "/",
    "learn": "/learn/ketamine-for-depression/",
    "crisis": "/crisis/",
    "consultation": "/learn/consultation/",
    "slot page": "/book/?jurisdiction=US-NY&tz=America/New_York",
    "signed in (/me/)": "/me/",
}


def pages() -> None:
    print(
        f"\nPages of the demo clinic, gunicorn 2 workers, wrk 16 connections, {ROUNDS} interleaved rounds "
        f"of {SECONDS:.0f} s (median of rounds):"
    )
    with site.demo() as (env, session):
        with site.gunicorn(env, free_port()) as gunicorn, site.make_run_server(env, free_port()) as run:
            rates: dict[str, list[float]] = {name: [] for name in [*PAGES, "make run home"]}
            p99s: dict[str, list[float]] = {name: [] for name in rates}
            ratios: dict[str, list[float]] = {name: [] for name in rates}
            tails: dict[str, list[float]] = {name: [] for name in rates}
            loads: dict[str, str] = {}
            problems: dict[str, str] = {}
            for _ in range(ROUNDS):
                for name, path in [*PAGES.items(), ("make run home", "/")]:
                    url = (run if name == "make run home" else gunicorn) + path
                    cookie = f"sessionid={session}" if path == "/me/" else ""
                    rate, p99, problem = site.wrk(url, SECONDS, cookie=cookie)
                    rates[name].append(rate)
                    p99s[name].append(p99)
                    loads[name] = site.load()
                    if problem:
                        problems[name] = problem
                for name in rates:
                    against = "home" if name == "make run home" else "hello"
                    ratios[name].append(rates[name][-1] / rates[against][-1])
                    tails[name].append(p99s[name][-1] / p99s["hello"][-1])
            med = statistics.median
            for name in PAGES:
                print(
                    f"  {name:<18} {med(rates[name]):8.1f} req/s  ratio {med(ratios[name]):5.2f}  "
                    f"p99 {med(p99s[name]):7.1f} ms ({med(tails[name]):4.1f}x hello's)  {loads[name]}"
                    + (f"  [{problems[name]}]" if name in problems else "")
                )
            name = "make run home"
            print(
                f"  make run's server, home page: {med(rates[name]):.1f} req/s, "
                f"ratio {med(ratios[name]):.2f} of the same page on gunicorn 2 workers; "
                f"p99 {med(p99s[name]):.1f} ms  {loads[name]}"
                + (f"  [{problems[name]}]" if name in problems else "")
            )


if __name__ == "__main__":
    if sys.argv[1:] == ["pages"]:  # only the pages: python bench/run.py pages
        pages()
    else:
        main()
