"""Browser tests: Debian's Chromium, driven by Playwright, against Mendwell served the way
`make run` serves it (a db_worker process and a daphne process, SQLite in a temporary var dir).

pytest-django's live_server is not used on purpose: the audit table refuses DELETE, so the
database flushes it relies on cannot work, and the real processes are what people run.
"""

from __future__ import annotations

import email
import email.policy
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYTHON = str(ROOT / ".venv" / "bin" / "python")
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
SHOTS_DIR = Path(os.environ.get("MENDWELL_SHOTS_DIR", Path(tempfile.gettempdir()) / "mendwell-shots"))
HERE = Path(__file__).resolve().parent
STARTUP_TIMEOUT = 30.0

# Variables that would make the served app differ from `make run`'s embedded default.
NOT_INHERITED = ("DATABASE_URL", "REDIS_URL", "TASKS_BACKEND", "EMAIL_BACKEND", "FIELD_ENCRYPTION_KEYS")


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}


def _skip_reason() -> str:
    return (
        f"BROWSER TESTS SKIPPED: {CHROMIUM} is missing. Install Debian's chromium package "
        "(apt-get install chromium) to run them; with CI set, a missing Chromium fails instead."
    )


# Marking and skipping -----------------------------------------------------------------------


def _is_browser_item(item: pytest.Item) -> bool:
    return HERE in Path(str(item.path)).resolve().parents


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    chromium_missing = not CHROMIUM.exists()
    skipped = 0
    for item in items:
        if not _is_browser_item(item):
            continue
        item.add_marker(pytest.mark.browser)
        if chromium_missing and not _in_ci():
            item.add_marker(pytest.mark.skip(reason=_skip_reason()))
            skipped += 1
    config.stash[_skipped_key] = skipped


_skipped_key = pytest.StashKey[int]()


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:  # type: ignore[no-untyped-def]
    if config.stash.get(_skipped_key, 0):
        terminalreporter.write_sep("!", _skip_reason(), red=True, bold=True)


def _require_chromium() -> None:
    """Under CI a missing browser is an error, never a quiet skip."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing and CI is set: the browser tests must run in CI.", pytrace=False)


@pytest.fixture(scope="session", autouse=True)
def _chromium_required() -> None:
    # Session-scoped and autouse, so it runs before the server is started or the browser launched.
    _require_chromium()


# The server ---------------------------------------------------------------------------------


@dataclass
class Server:
    base_url: str
    var_dir: Path
    env: dict[str, str]
    seed_output: str = ""
    totp_secrets: dict[str, str] = field(default_factory=dict)

    @property
    def mail_dir(self) -> Path:
        return self.var_dir / "mail"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _manage(env: dict[str, str], *args: str, timeout: float = 120) -> str:
    done = subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"manage.py {' '.join(args)} exited {done.returncode}\n"
            f"--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
        )
    return done.stdout


def _parse_totp_secrets(seed_output: str) -> dict[str, str]:
    secrets: dict[str, str] = {}
    current = None
    for line in seed_output.splitlines():
        person = re.match(r"\s+(\S+@\S+)\s", line)
        if person:
            current = person.group(1)
        secret = re.match(r"\s+TOTP secret: (\S+)", line)
        if secret and current:
            secrets[current] = secret.group(1)
    return secrets


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    var_dir = Path(tempfile.mkdtemp(prefix="mendwell-browser-"))
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = dict(os.environ)
    for name in NOT_INHERITED:
        env.pop(name, None)
    env.update(
        DJANGO_ENV="development",
        DEBUG="false",
        MENDWELL_VAR_DIR=str(var_dir),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SITE_URL=base_url,
        CONTACT_RATE="100/h",
        PYTHONUNBUFFERED="1",
    )
    # With DEBUG false only WhiteNoise serves static files, from STATIC_ROOT (<var dir>/static).
    _manage(env, "create_local_key")
    _manage(env, "collectstatic", "--noinput")
    _manage(env, "migrate", "--noinput")
    _manage(env, "createcachetable")
    seed_output = _manage(env, "seed_demo")

    logs = {name: (var_dir / f"{name}.log").open("wb") for name in ("worker", "daphne")}
    procs = {
        "worker": subprocess.Popen(
            [PYTHON, "manage.py", "db_worker", "--interval", "0.5"],
            cwd=ROOT,
            env=env,
            stdout=logs["worker"],
            stderr=subprocess.STDOUT,
        ),
        "daphne": subprocess.Popen(
            [PYTHON, "-m", "daphne", "--bind", "127.0.0.1", "--port", str(port), "clinic.asgi:application"],
            cwd=ROOT,
            env=env,
            stdout=logs["daphne"],
            stderr=subprocess.STDOUT,
        ),
    }
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        last_error = ""
        while True:
            for name, proc in procs.items():
                if proc.poll() is not None:
                    raise RuntimeError(
                        f"{name} exited with {proc.returncode} during start-up:\n"
                        f"{_tail(var_dir / f'{name}.log')}"
                    )
            try:
                with urllib.request.urlopen(f"{base_url}/healthz", timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        break
            except urllib.error.HTTPError as exc:  # 503 while the worker is not keeping up
                last_error = f"HTTP {exc.code}: {exc.read()[:300]!r}"
            except (urllib.error.URLError, OSError) as exc:
                last_error = repr(exc)
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{base_url}/healthz did not answer 200 within {STARTUP_TIMEOUT:.0f}s ({last_error})\n"
                    f"--- daphne\n{_tail(var_dir / 'daphne.log')}\n"
                    f"--- worker\n{_tail(var_dir / 'worker.log')}"
                )
            time.sleep(0.2)
        yield Server(
            base_url=base_url,
            var_dir=var_dir,
            env=env,
            seed_output=seed_output,
            totp_secrets=_parse_totp_secrets(seed_output),
        )
    finally:
        for proc in procs.values():
            _stop(proc)
        for log in logs.values():
            log.close()
        if os.environ.get("MENDWELL_KEEP_VAR"):
            print(f"\nBrowser-test var dir kept at {var_dir}", file=sys.stderr)
        else:
            shutil.rmtree(var_dir, ignore_errors=True)


# The browser --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    _require_chromium()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser, server: Server):  # type: ignore[no-untyped-def]
    """A fresh context (no cookies) per test, at desktop size, aimed at the test server."""
    context = browser.new_context(viewport=DESKTOP, base_url=server.base_url)
    context.set_default_timeout(10_000)
    context.set_default_navigation_timeout(15_000)
    new_page = context.new_page()
    try:
        yield new_page
    finally:
        context.close()


# Helpers ------------------------------------------------------------------------------------


def read_emails(server: Server) -> list[EmailMessage]:
    """Every complete message Django's file email backend has written to <var_dir>/mail/."""
    separator = b"\n" + b"-" * 79 + b"\n"
    found: list[EmailMessage] = []
    if not server.mail_dir.is_dir():
        return found
    for path in sorted(server.mail_dir.glob("*.log")):
        chunks = path.read_bytes().split(separator)
        # The last chunk is empty, or a message still being written.
        for chunk in chunks[:-1]:
            message = email.message_from_bytes(chunk.lstrip(b"\n"), policy=email.policy.default)
            found.append(message)  # type: ignore[arg-type]
    return found


def email_text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain", "html"))
    return body.get_content() if body is not None else ""  # type: ignore[union-attr]


def wait_for_email(server: Server, to: str, timeout: float = 15.0) -> EmailMessage:
    deadline = time.monotonic() + timeout
    while True:
        for message in read_emails(server):
            if to.lower() in str(message.get("To", "")).lower():
                return message
        if time.monotonic() > deadline:
            raise AssertionError(
                f"No email to {to} within {timeout:.0f}s. Worker log:\n{_tail(server.var_dir / 'worker.log')}"
            )
        time.sleep(0.25)


def totp_code(server: Server, email_address: str) -> str:
    """The current TOTP code of a seeded account, from `manage.py totp EMAIL`.

    allauth allows no clock tolerance by default, so the code must still be the current one
    when it is typed and sent: one read within a single step with at least 10 seconds of it
    left (reading it starts a process, which takes seconds on a loaded machine), else again
    in the next step.
    """
    while True:
        if time.time() % 30 > 20:
            time.sleep(30 - time.time() % 30 + 0.3)
        asked = time.time()
        output = _manage(server.env, "totp", email_address, timeout=60).strip()
        answered = time.time()
        if asked // 30 == answered // 30 and answered % 30 <= 20:
            break
    match = re.fullmatch(r"\d{6}", output)
    assert match, f"manage.py totp printed {output!r}, not six digits"
    _totp_given[email_address] = output
    return output


_totp_given: dict[str, str] = {}


def unused_totp_code(server: Server, email_address: str) -> str:
    """Like totp_code, but never the code totp_code last gave for this account in this session:
    allauth refuses a code used once already, so a second sign-in within one 30-second step
    waits for the next code."""
    before = _totp_given.get(email_address)
    code = totp_code(server, email_address)
    while code == before:
        time.sleep(30 - time.time() % 30 + 0.3)
        code = totp_code(server, email_address)
    return code


def manage(server: Server, *args: str, timeout: float = 120) -> str:
    """Run `manage.py ARGS` with the test server's environment (database, keys); its stdout."""
    return _manage(server.env, *args, timeout=timeout)


def phone_screenshot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    """A full-page screenshot at phone size into SHOTS_DIR; the viewport is restored after."""
    SHOTS_DIR.mkdir(parents=True, exist_ok=True)
    before = page.viewport_size
    page.set_viewport_size(PHONE)
    path = SHOTS_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if before:
        page.set_viewport_size(before)
    return path
