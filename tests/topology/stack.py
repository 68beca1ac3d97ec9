"""The scale-out topology of deploy/ on this machine, in a temporary directory: nginx in front
of two gunicorn (WSGI) processes and two daphne (ASGI) processes with channels-redis, two RQ
workers with the scheduler, PostgreSQL and Redis.

It runs what the systemd units in deploy/systemd/ run, with the same environment file format:
the nginx site is deploy/nginx/mendwell.conf.template filled in with this run's ports, and the
set-up is the oneshot unit's commands (start_reminders apart: the reminder check runs it). Each
gunicorn's listening socket is opened here and handed over as systemd's socket unit does
(LISTEN_FDS), so a restarted gunicorn finds the connections that arrived meanwhile waiting for
it; daphne binds its own port, as its unit does.

``Topology`` is a context manager; leaving it (after a failure or SIGTERM too) stops every
process it started, with whatever they forked, drops its database and empties its Redis
database. Set MENDWELL_KEEP_TOPOLOGY=1 to keep the directory with the logs.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"
PYTHON = str(BIN / "python")
DEPLOY = ROOT / "deploy"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
# A maintenance database to create and drop ours from; never the `test` database.
POSTGRES_URL = os.environ.get("TOPOLOGY_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
# A Redis database of its own: it is emptied before and after the run.
REDIS_URL = os.environ.get("TOPOLOGY_REDIS_URL", "redis://127.0.0.1:6379/5")
DEMO_PASSWORD = "mendwell-demo-2026"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listening_socket(port: int) -> socket.socket:
    """A bound, listening TCP socket on loopback, inheritable by a child process (the part a
    systemd .socket unit plays)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock


def session_members(session: int) -> list[int]:
    """Processes of session ``session`` other than its leader (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == session:
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session:  # after "pid (comm)": state ppid pgrp session
            found.append(int(entry.name))
    return found


def socket_activated(fd: int, args: list[str]) -> list[str]:
    """``args`` run as systemd runs a socket-activated service: the listening socket as fd 3,
    with LISTEN_FDS and LISTEN_PID naming it (gunicorn picks it up from there)."""
    moves = "" if fd == 3 else f" 3<&{fd} {fd}<&-"
    return ["/bin/bash", "-c", f'LISTEN_FDS=1 LISTEN_PID=$$ exec "$0" "$@"{moves}', *args]


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@dataclass
class Process:
    """One long-running process of the topology, started in its own process group so that it
    and its children (gunicorn's workers, an RQ work horse) are stopped together."""

    name: str
    args: list[str]
    env: dict[str, str]
    log: Path
    pass_fds: tuple[int, ...] = ()
    popen: subprocess.Popen | None = None
    starts: int = 0

    def start(self) -> None:
        self.starts += 1
        if "--name" in self.args:
            # An RQ worker killed with SIGKILL stays registered in Redis for minutes: a new one
            # under the same name would refuse to start. (Hence no fixed --name in deploy/.)
            self.args[self.args.index("--name") + 1] = f"{self.name}-{self.starts}-{secrets.token_hex(3)}"
        with self.log.open("ab") as log:
            log.write(f"\n===== start {self.starts} at {time.strftime('%H:%M:%S')}\n".encode())
            log.flush()
            self.popen = subprocess.Popen(
                self.args,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                pass_fds=self.pass_fds,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM to the main process, as `systemctl stop` does with KillMode=mixed (gunicorn's
        master then stops its workers gracefully), and SIGKILL to all after ``timeout``."""
        if self.popen is None:
            return
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.popen.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=timeout)
        self.kill()

    def kill(self) -> None:
        """SIGKILL the process and everything it forked (its session), then reap it."""
        if self.popen is None:
            return
        leader = self.popen.pid
        if self.popen.poll() is None:  # not reaped yet, so the id is still ours
            with contextlib.suppress(ProcessLookupError):
                os.killpg(leader, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=10)
        # Children that outlived the leader (an RQ work horse, a gunicorn worker) keep its
        # session id; while any of them exists the kernel does not reuse that id.
        for pid in session_members(leader):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def check_running(self) -> None:
        if self.popen is not None and self.popen.poll() is not None:
            raise RuntimeError(f"{self.name} exited with {self.popen.returncode}:\n{tail(self.log)}")


@dataclass
class Topology:
    """nginx → 2 gunicorn + 2 daphne, 2 RQ workers, PostgreSQL, Redis. See the module docstring."""

    gunicorn: int = 2
    gunicorn_workers: int = 2
    gunicorn_threads: int = 4
    asgi: int = 2
    rq_workers: int = 2
    rq_worker_class: str = "rq.SimpleWorker"
    seed_demo: bool = True

    dir: Path = field(init=False)
    var_dir: Path = field(init=False)
    env: dict[str, str] = field(init=False)
    port: int = field(init=False)
    door_ports: dict[int, int] = field(init=False, default_factory=dict)
    wsgi_ports: list[int] = field(init=False, default_factory=list)
    asgi_ports: list[int] = field(init=False, default_factory=list)
    processes: dict[str, Process] = field(init=False, default_factory=dict)
    database_url: str = field(init=False, default="")
    seed_output: str = field(init=False, default="")
    _sockets: list[socket.socket] = field(init=False, default_factory=list)
    _database: str = field(init=False, default="")
    _redis_claimed: bool = field(init=False, default=False)
    _previous_sigterm: object = field(init=False, default=None)

    # Life cycle --------------------------------------------------------------------------

    def __enter__(self) -> Topology:
        if threading.current_thread() is threading.main_thread():
            # A CI timeout sends SIGTERM: turn it into an exception so that everything below is
            # still stopped and dropped.
            self._previous_sigterm = signal.signal(signal.SIGTERM, _exit_on_sigterm)
        self.dir = Path(tempfile.mkdtemp(prefix="mendwell-topology-"))
        # nginx's workers run as another user when nginx is started by root: let them read the
        # collected static files.
        self.dir.chmod(0o755)
        try:
            self._up()
        except BaseException:
            self._down()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._down()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def door_url(self, asgi: int) -> str:
        """The front door whose websockets go to ASGI process ``asgi`` (1 or 2) first."""
        return f"http://127.0.0.1:{self.door_ports[asgi]}"

    def _up(self) -> None:
        self.var_dir = self.dir / "var"
        self.var_dir.mkdir()
        self.port = free_port()
        self.door_ports = {n: free_port() for n in range(1, self.asgi + 1)}
        self.wsgi_ports = [free_port() for _ in range(self.gunicorn)]
        self.asgi_ports = [free_port() for _ in range(self.asgi)]
        self._claim_redis()
        self._create_database()
        self.env = self._environment()
        self._oneshot()
        if self.seed_demo:
            self.seed_output = self.manage("seed_demo", development=True)
        self._start_processes()

    def _down(self) -> None:
        for proc in reversed(list(self.processes.values())):
            proc.stop(timeout=15)
        for sock in self._sockets:
            sock.close()
        self._sockets.clear()
        with contextlib.suppress(Exception):
            self._flush_redis()
        if self._database:
            import psycopg

            with contextlib.suppress(Exception), psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self._database}" WITH (FORCE)')
        if self._previous_sigterm is not None:
            signal.signal(signal.SIGTERM, self._previous_sigterm)
            self._previous_sigterm = None
        if os.environ.get("MENDWELL_KEEP_TOPOLOGY"):
            print(f"\ntopology files kept at {self.dir}", file=sys.stderr)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    # Pieces ------------------------------------------------------------------------------

    def _create_database(self) -> None:
        import psycopg

        name = f"mendwell_topology_{secrets.token_hex(4)}"
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self._database = name
        self.database_url = f"{POSTGRES_URL.rpartition('/')[0]}/{name}"

    def _claim_redis(self) -> None:
        """Refuse a Redis database that another live run's workers are using, then empty it."""
        import redis
        from rq import Worker

        connection = redis.Redis.from_url(REDIS_URL)
        live = [w.name for w in Worker.all(connection=connection) if w.pid and _pid_alive(w.pid)]
        if live:
            raise RuntimeError(
                f"Redis database {REDIS_URL} is in use by running RQ workers {live} (another topology "
                "run?). Stop it, or set TOPOLOGY_REDIS_URL to another database number."
            )
        connection.flushdb()
        self._redis_claimed = True

    def _flush_redis(self) -> None:
        import redis

        if self._redis_claimed:
            redis.Redis.from_url(REDIS_URL).flushdb()

    def _environment(self) -> dict[str, str]:
        """The EnvironmentFile of deploy/systemd (written to mendwell.env for reading), with this
        run's database, Redis database, var dir and address."""
        from cryptography.fernet import Fernet

        values = {
            "DJANGO_ENV": "production",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SITE_URL": self.base_url,
            "DATABASE_URL": self.database_url,
            "DB_CONN_MAX_AGE": "60",
            # redis-py 8 reads with a 5 s socket timeout by default, the same 5 s that
            # channels-redis blocks for a message: without a longer one an idle call's consumer
            # dies with "Timeout reading from" Redis and its websocket is closed.
            "REDIS_URL": f"{REDIS_URL}?socket_timeout=15",
            "TASKS_BACKEND": "rq",
            "MENDWELL_VAR_DIR": str(self.var_dir),
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            # Plain HTTP on loopback: no Secure cookies, no redirect to HTTPS, no HSTS.
            "SECURE_COOKIES": "false",
            "SECURE_SSL_REDIRECT": "false",
            "HSTS_SECONDS": "0",
            "BEHIND_PROXY": "true",
            "LOG_LEVEL": "WARNING",
        }
        (self.dir / "mendwell.env").write_text("".join(f"{k}={v}\n" for k, v in values.items()))
        env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "TZ") if k in os.environ}
        env.update(values, PYTHONUNBUFFERED="1")
        return env

    def manage(self, *args: str, development: bool = False, timeout: float = 300) -> str:
        """``manage.py ARGS`` with the topology's environment; its stdout. ``development`` for
        the commands that refuse production (seed_demo)."""
        env = dict(self.env, DJANGO_ENV="development") if development else self.env
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
                f"manage.py {' '.join(args[:2])} exited {done.returncode}\n{done.stdout}\n{done.stderr}"
            )
        return done.stdout

    def shell(self, code: str, *, development: bool = False) -> object:
        """Run ``code`` in ``manage.py shell``; it sets ``result``, which comes back as JSON."""
        out = self.manage(
            "shell", "-c", f"{code}\nimport json as _j\nprint('RESULT-JSON' + _j.dumps(result))",
            development=development,
        )  # fmt: skip
        return json.loads(out.split("RESULT-JSON", 1)[1])

    def _oneshot(self) -> None:
        """What deploy/systemd/mendwell-setup.service runs before the processes start."""
        self.manage("migrate", "--noinput", "-v0")
        self.manage("createcachetable")
        self.manage("collectstatic", "--noinput", "-v0")

    def start_reminders(self) -> None:
        """The set-up unit's last step: queue the reminder sweep (it re-queues itself)."""
        self.manage("start_reminders")

    def nginx_conf(self) -> tuple[str, str, str]:
        """The deployed site (the template with this run's values) plus two test-only front doors,
        one per ASGI process: the same server block, but its websockets go to that process first
        (and to the other one only when it is down)."""
        template = (DEPLOY / "nginx" / "mendwell.conf.template").read_text()
        values = {
            "MENDWELL_LISTEN": f"127.0.0.1:{self.port}",
            "MENDWELL_SERVER_NAME": "127.0.0.1 localhost",
            "MENDWELL_WSGI_1": f"127.0.0.1:{self.wsgi_ports[0]}",
            "MENDWELL_WSGI_2": f"127.0.0.1:{self.wsgi_ports[-1]}",
            "MENDWELL_ASGI_1": f"127.0.0.1:{self.asgi_ports[0]}",
            "MENDWELL_ASGI_2": f"127.0.0.1:{self.asgi_ports[-1]}",
            "MENDWELL_STATIC_ROOT": str(self.var_dir / "static"),
        }
        site = string.Template(template).safe_substitute(values)
        missing = re.findall(r"\$\{MENDWELL_[A-Z0-9_]+\}", site)
        assert not missing, f"the nginx template names variables the test does not set: {missing}"
        if self.gunicorn == 1:  # the bench's single-process run: one upstream server, not two
            second = f"    server {values['MENDWELL_WSGI_2']} max_fails=1 fail_timeout=2s;\n"
            site = site.replace(second, "", 1)
        server_block = site[site.index("\nserver {") :]
        doors = []
        for n, port in self.door_ports.items():
            first, other = self.asgi_ports[n - 1], self.asgi_ports[n % len(self.asgi_ports)]
            doors.append(
                f"upstream mendwell_asgi_{n}_first {{\n"
                f"    server 127.0.0.1:{first} max_fails=1 fail_timeout=2s;\n"
                f"    server 127.0.0.1:{other} backup;\n}}\n"
            )
            door = server_block.replace(f"listen {values['MENDWELL_LISTEN']};", f"listen 127.0.0.1:{port};")
            door = door.replace(
                "proxy_pass http://mendwell_asgi;", f"proxy_pass http://mendwell_asgi_{n}_first;"
            )
            assert door.count(f"listen 127.0.0.1:{port};") == 1 and f"mendwell_asgi_{n}_first;" in door
            doors.append(door)
        tmp = self.dir / "nginx"
        return (
            f"pid {tmp}/nginx.pid;\n"
            f"error_log {tmp}/error.log warn;\n"
            "worker_processes 2;\n"
            "events { worker_connections 4096; }\n"
            "http {\n"
            "    include /etc/nginx/mime.types;\n"
            "    default_type application/octet-stream;\n"
            "    sendfile on;\n"
            "    log_format topology '$msec $server_port \"$request\" $status '\n"
            "                        'upstream=$upstream_addr upstream_status=$upstream_status '\n"
            "                        'time=$request_time';\n"
            f"    access_log {tmp}/access.log topology;\n"
            + "".join(
                f"    {kind}_temp_path {tmp}/{kind};\n"
                for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
            )
            + f"    include {tmp}/mendwell.conf;\n"
            f"    include {tmp}/doors.conf;\n"
            "}\n",
            site,
            "\n".join(doors),
        )

    def _start_processes(self) -> None:
        logs = self.dir / "logs"
        logs.mkdir()
        for n, port in enumerate(self.wsgi_ports, 1):
            # deploy/systemd/mendwell-gunicorn@.socket: the socket outlives the process, so a
            # restart loses no connection (a POST refused half-way could not be retried).
            sock = listening_socket(port)
            self._sockets.append(sock)
            self.processes[f"gunicorn-{n}"] = Process(
                f"gunicorn-{n}",
                socket_activated(
                    sock.fileno(),
                    [
                        str(BIN / "gunicorn"),
                        "clinic.wsgi:application",
                        "--workers",
                        str(self.gunicorn_workers),
                        "--threads",
                        str(self.gunicorn_threads),
                        "--graceful-timeout",
                        "20",
                        "--log-level",
                        "warning",
                    ],
                ),  # fmt: skip
                self.env,
                logs / f"gunicorn-{n}.log",
                pass_fds=(sock.fileno(),),
            )
        for n, port in enumerate(self.asgi_ports, 1):
            # deploy/systemd/mendwell-asgi@.service: daphne binds its own port, so a stopped
            # process refuses the handshake and nginx hands it to the other one.
            self.processes[f"asgi-{n}"] = Process(
                f"asgi-{n}",
                [
                    PYTHON,
                    "-m",
                    "daphne",
                    "--bind",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--proxy-headers",
                    "--application-close-timeout",
                    "5",
                    "clinic.asgi:application",
                ],  # fmt: skip
                self.env,
                logs / f"asgi-{n}.log",
            )
        for n in range(1, self.rq_workers + 1):
            self.processes[f"rq-{n}"] = Process(
                f"rq-{n}",
                [
                    PYTHON,
                    "manage.py",
                    "rqworker",
                    # django-tasks' own job class: RQ's plain one cannot call a Task.
                    "--job-class",
                    "django_tasks_rq.Job",
                    # Jobs run in the worker itself, warm, instead of in a fresh fork each.
                    "--worker-class",
                    self.rq_worker_class,
                    "--with-scheduler",
                    "--name",
                    "(set at each start)",
                    "default",
                ],  # fmt: skip
                self.env,
                logs / f"rq-{n}.log",
            )
        tmp = self.dir / "nginx"
        tmp.mkdir()
        main, site, doors = self.nginx_conf()
        (tmp / "nginx.conf").write_text(main)
        (tmp / "mendwell.conf").write_text(site)
        (tmp / "doors.conf").write_text(doors)
        nginx_args = [NGINX, "-e", str(tmp / "error.log"), "-p", str(tmp), "-c", str(tmp / "nginx.conf")]
        checked = subprocess.run([*nginx_args, "-t"], capture_output=True, text=True, check=False)
        if checked.returncode != 0:
            raise RuntimeError(f"nginx refused the generated configuration:\n{checked.stderr}")
        self.processes["nginx"] = Process(
            "nginx", [*nginx_args, "-g", "daemon off;"], self.env, logs / "nginx.log"
        )

        for proc in self.processes.values():
            proc.start()
        for name in self.processes:
            self.wait_ready(name)

    # Readiness and restarts --------------------------------------------------------------

    def wait_ready(self, name: str, timeout: float = 60) -> None:
        proc = self.processes[name]
        deadline = time.monotonic() + timeout
        while True:
            proc.check_running()
            if self._ready(name):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} was not ready within {timeout:.0f}s:\n{tail(proc.log)}")
            time.sleep(0.1)

    def _ready(self, name: str) -> bool:
        kind, _, n = name.partition("-")
        if kind == "gunicorn":
            return _answers(f"http://127.0.0.1:{self.wsgi_ports[int(n) - 1]}/healthz")
        if kind == "asgi":
            return _answers(f"http://127.0.0.1:{self.asgi_ports[int(n) - 1]}/healthz")
        if kind == "rq":
            return self.rq_worker_registered(name)
        return _answers(f"{self.base_url}/healthz")

    def rq_worker_registered(self, name: str) -> bool:
        import redis
        from rq import Worker

        wanted = self.processes[name].args[self.processes[name].args.index("--name") + 1]
        workers = Worker.all(connection=redis.Redis.from_url(REDIS_URL))
        return any(w.name == wanted and w.pid == self.processes[name].pid for w in workers)

    def restart(self, name: str) -> tuple[float, float]:
        """``systemctl restart``: SIGTERM, wait for the exit, start again, wait until it answers.
        Returns the seconds the stop took and the seconds until the new process answered."""
        proc = self.processes[name]
        began = time.monotonic()
        proc.stop(timeout=30)
        stopped = time.monotonic()
        proc.start()
        self.wait_ready(name)
        return stopped - began, time.monotonic() - stopped

    def log(self, name: str) -> Path:
        return self.processes[name].log

    @property
    def mail_dir(self) -> Path:
        return self.var_dir / "mail"


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback only)
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@contextlib.contextmanager
def topology(**options: object) -> Iterator[Topology]:
    with Topology(**options) as running:  # type: ignore[arg-type]
        yield running
