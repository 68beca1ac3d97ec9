"""Requests per second through the scale-out topology: `make bench-topology`. Printed, never
asserted.

The topology of tests/topology/stack.py (nginx, gunicorn, daphne, RQ, PostgreSQL, Redis, the
demo clinic) is started three times, with 1, 2 and 4 gunicorn worker processes in all (one
process of one worker; two of one; two of two; four threads each), and loaded through nginx:
the home page and the slot page (`/book/?jurisdiction=US-NY`, slot lists cached for a minute
as in production). A static file, which nginx serves alone, is measured once for reference.

The load comes from wrk (Debian's `wrk` package) when it is installed, otherwise from a small
Python client (keep-alive connections in threads), which needs more CPU for itself. Either way
it shares the machine with the servers, so the figures are for comparing, not for capacity.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.topology.stack import Topology  # noqa: E402

SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
# Total gunicorn workers -> (processes, workers per process).
LAYOUTS = {1: (1, 1), 2: (2, 1), 4: (2, 2)}
THREADS = 4
PAGES = {
    "home page": "/",
    "slot page": "/book/?jurisdiction=US-NY&tz=America/New_York",
}
STATIC = "/static/css/site.css"


def with_wrk(url: str) -> tuple[float, str]:
    """Requests/s and the latency percentiles line, from wrk."""
    done = subprocess.run(
        ["wrk", "--latency", "--timeout", "30s", "-t2", f"-c{CONNECTIONS}", f"-d{SECONDS:.0f}s", url],
        capture_output=True,
        text=True,
        check=True,
    )
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", done.stdout).group(1))  # type: ignore[union-attr]
    centiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", done.stdout, re.MULTILINE))
    note = f"p50 {centiles.get('50', '?')}, p99 {centiles.get('99', '?')}"
    for problem in re.findall(r"(Non-2xx or 3xx responses: \d+|Socket errors: .+)", done.stdout):
        note += f", {problem.strip()}"
    return rate, note


def with_python(url: str) -> tuple[float, str]:
    """Requests/s from CONNECTIONS keep-alive connections in threads."""
    host_port, _, path = url.removeprefix("http://").partition("/")
    host, _, port = host_port.partition(":")
    stop = time.monotonic() + SECONDS
    counts = {"ok": 0, "bad": 0}
    lock = threading.Lock()

    def client() -> None:
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        ok = bad = 0
        while time.monotonic() < stop:
            try:
                conn.request("GET", "/" + path)
                response = conn.getresponse()
                response.read()
                if response.status < 400:
                    ok += 1
                else:
                    bad += 1
            except (OSError, http.client.HTTPException):
                bad += 1
                conn.close()
                conn = http.client.HTTPConnection(host, int(port), timeout=30)
        with lock:
            counts["ok"] += ok
            counts["bad"] += bad

    threads = [threading.Thread(target=client) for _ in range(CONNECTIONS)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    took = time.monotonic() - began
    return counts["ok"] / took, f"{counts['bad']} failed" if counts["bad"] else "Python client"


def measure(url: str) -> tuple[float, str]:
    # A short warm-up first: caches filled, database connections open.
    for _ in range(20):
        with_python_once(url)
    return with_wrk(url) if shutil.which("wrk") else with_python(url)


def with_python_once(url: str) -> None:
    import urllib.request

    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 (loopback only)
        response.read()


def main() -> None:
    tool = "wrk" if shutil.which("wrk") else "a Python client (install Debian's wrk for better figures)"
    print(
        f"Through nginx, {CONNECTIONS} connections for {SECONDS:.0f}s each, load from {tool}; "
        f"{os.cpu_count()} cores shared by client and servers. Gunicorn threads: {THREADS} per worker."
    )
    static_done = False
    for total, (processes, workers) in LAYOUTS.items():
        with Topology(
            gunicorn=processes, gunicorn_workers=workers, gunicorn_threads=THREADS, asgi=1, rq_workers=1
        ) as stack:
            print(f"\n{total} gunicorn worker(s): {processes} process(es) x {workers}")
            for name, path in PAGES.items():
                rate, note = measure(stack.base_url + path)
                print(f"  {name:<10} {rate:8.1f} req/s   ({note})")
            if not static_done:
                rate, note = measure(stack.base_url + STATIC)
                print(f"  {'static':<10} {rate:8.1f} req/s   ({note}; nginx alone, for reference)")
                static_done = True


if __name__ == "__main__":
    main()
