"""The demo clinic in a temporary directory, served by gunicorn or by `make run`'s server, and
loaded by wrk: what bench/run.py measures pages with."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = str(ROOT / ".venv" / "bin" / "python")

SESSION = """
import json
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from clinic.sessions import SessionStore
from clinic.accounts.models import User
p = User.objects.get(email="alex.rivera@demo.mendwell.example")
s = SessionStore()
s[SESSION_KEY] = str(p.pk)
s[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
s[HASH_SESSION_KEY] = p.get_session_auth_hash()
s.create()
print("SESSION-JSON" + json.dumps(s.session_key))
"""


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    if done.returncode:
        raise RuntimeError(f"manage.py {args[0]} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


@contextlib.contextmanager
def demo() -> Iterator[tuple[dict[str, str], str]]:
    """The environment of a freshly seeded demo clinic, and a signed-in patient's session key."""
    var_dir = Path(tempfile.mkdtemp(prefix="mendwell-bench-"))
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "TASKS_BACKEND", "DEBUG"}
    }
    env.update(
        DJANGO_ENV="development",
        DJANGO_SETTINGS_MODULE="bench.settings",
        MENDWELL_VAR_DIR=str(var_dir),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        LOG_LEVEL="WARNING",
    )
    try:
        for args in (["create_local_key"], ["migrate", "--noinput", "-v0"], ["createcachetable"],
                     ["collectstatic", "--noinput", "-v0"], ["seed_demo"]):  # fmt: skip
            manage(env, *args)
        session = json.loads(manage(env, "shell", "-c", SESSION).split("SESSION-JSON", 1)[1])
        yield env, session
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)


def _wait(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5):  # noqa: S310 (loopback only)
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


@contextlib.contextmanager
def gunicorn(env: dict[str, str], port: int, workers: int = 2) -> Iterator[str]:
    """gunicorn's default (sync) workers, as the issue's yardstick was measured."""
    process = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "clinic.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--log-level", "warning"],  # fmt: skip
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _wait(f"http://127.0.0.1:{port}/healthz", process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextlib.contextmanager
def make_run_server(env: dict[str, str], port: int) -> Iterator[str]:
    """bin/serve, as `make run` starts it (the worker too)."""
    process = subprocess.Popen(
        [str(ROOT / "bin" / "serve")], cwd=ROOT, env={**env, "PORT": str(port), "HOST": "127.0.0.1"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        _wait(f"http://127.0.0.1:{port}/healthz", process)
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def wrk(url: str, seconds: float, connections: int = 16, cookie: str = "") -> tuple[float, float, str]:
    """Requests/s, p99 in ms, and any errors, from wrk."""
    args = ["wrk", "--latency", "--timeout", "30s", "-t2", f"-c{connections}", f"-d{seconds:.0f}s", url]
    if cookie:
        args[1:1] = ["-H", f"Cookie: {cookie}"]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    latency = float(p99.group(1)) * scale[p99.group(2)] if p99 else float("nan")
    problems = ", ".join(
        p.strip() for p in re.findall(r"(Non-2xx or 3xx responses: \d+|Socket errors: .+)", out)
    )
    return rate, latency, problems


def load() -> str:
    return "load average " + " ".join(f"{v:.2f}" for v in os.getloadavg())
