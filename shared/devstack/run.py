"""``make run``: the whole platform on one machine, with nothing installed but the venv.

Starts PostgreSQL and NATS (embedded, unless ``DATABASE_URL`` / ``NATS_URL`` name existing
servers), creates and migrates one database per service, starts every service as a child
process, waits until each reports ready, restarts a service, PostgreSQL or NATS that dies
(with back-off, saying so; it gives up only on one that keeps failing or a service refusing
its settings), and on Ctrl-C / SIGTERM stops them in dependency order: services first (they
flush their outbox and close connections), then NATS, then PostgreSQL. Services are launched
by module name and never imported, so this program stays independent of their code and their
dependencies.

Environment:
    DATABASE_URL   existing PostgreSQL *server* (e.g. postgresql://user:pw@host:5432/postgres);
                   a database per service is created on it. Default: embedded, .data/postgres.
    NATS_URL       existing NATS server with JetStream. Default: embedded, .data/nats.
    DEV_PG_PORT, DEV_NATS_PORT, DEV_NATS_MONITOR_PORT, DEV_<SERVICE>_PORT   port overrides.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import IO
from urllib.parse import urlsplit, urlunsplit

import psutil

from shared.devstack.nats import NatsServer
from shared.devstack.ports import port_is_free
from shared.devstack.postgres import EmbeddedPostgres, database_url, ensure_database

__all__ = ["SERVICES", "DevStack", "RestartPolicy", "Service", "main", "service_env", "service_ports"]

EXIT_BAD_SETTINGS = 78  # what ``python -m <service>`` exits with on a refused setting


@dataclass(frozen=True)
class Service:
    name: str
    port: int

    @property
    def port_variable(self) -> str:
        return f"DEV_{self.name.upper()}_PORT"


# Start order: the gateway last, because it proxies to the others.
SERVICES: tuple[Service, ...] = (
    Service("registry", 8001),
    Service("projects", 8002),
    Service("evaluation", 8003),
    Service("gateway", 8000),
)
DEFAULT_PG_PORT = 15432  # not 5432/4222: a system PostgreSQL or NATS may already listen there
DEFAULT_NATS_PORT = 14222
DEFAULT_NATS_MONITOR_PORT = 18222
DATA_DIR = Path(".data")
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)  # SIGHUP: the terminal went away
LOOPBACK = "127.0.0.1"
READY_TIMEOUT = 90.0
MIGRATE_TIMEOUT = 300.0
# uvicorn is configured with timeout_graceful_shutdown=20 and runs the lifespan shutdown
# (closing NATS and the DB pool) after that; leave it a little room before SIGKILL.
SERVICE_STOP_TIMEOUT = 25.0


def service_ports(env: Mapping[str, str]) -> dict[str, int]:
    """Each service's port: the table's default unless ``DEV_<NAME>_PORT`` overrides it."""
    return {s.name: _int_env(env, s.port_variable, s.port) for s in SERVICES}


def service_env(
    name: str,
    db_server_url: str,
    nats_url: str,
    *,
    ports: Mapping[str, int] | None = None,
) -> dict[str, str]:
    """Settings for service ``name``, as ``<NAME>_*`` variables its pydantic settings read.

    Only the variables this program decides; the caller merges them over its own environment.
    """
    ports = dict(ports) if ports is not None else {s.name: s.port for s in SERVICES}
    if name not in ports:
        raise ValueError(f"unknown service {name!r}")
    prefix = name.upper()
    env = {
        f"{prefix}_DATABASE_URL": database_url(db_server_url, name, scheme="postgresql+asyncpg"),
        f"{prefix}_NATS_URL": nats_url,
        f"{prefix}_ENVIRONMENT": "local",
        f"{prefix}_AUTH_JWKS_URL": f"http://{LOOPBACK}:{ports['gateway']}/.well-known/jwks.json",
    }
    if name == "gateway":
        for other in SERVICES:
            if other.name != "gateway":
                env[f"GATEWAY_{other.name.upper()}_URL"] = f"http://{LOOPBACK}:{ports[other.name]}"
    return env


def _int_env(env: Mapping[str, str], variable: str, default: int) -> int:
    raw = env.get(variable, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _Failure(f"{variable}={raw!r} is not a port number") from None
    if not 0 < value < 65536:
        raise _Failure(f"{variable}={value} is not a port number")
    return value


def _mask_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


class _Failure(Exception):
    """Something that stops the stack: reported in one line, exit code 1."""


class _Stop(Exception):
    """A signal asked us to stop: clean shutdown, exit code 0."""


class _Console:
    """Serialises output of the children's pump threads and our own messages, line by line."""

    def __init__(self) -> None:
        # Re-entrant: the signal handler may print while the main thread is inside write().
        self._lock = threading.RLock()
        self.width = max(len(s.name) for s in SERVICES) + len(" demo-data")

    def say(self, text: str) -> None:
        self.write("devstack", text)

    def write(self, source: str, text: str) -> None:
        prefix = f"{source:<{self.width}} | "
        out = "".join(f"{prefix}{line}\n" for line in text.splitlines() or [""])
        # A closed terminal (SIGHUP) must not kill a pump thread: an undrained pipe would
        # block the service's logging and with it the service's own shutdown.
        with self._lock, contextlib.suppress(OSError, ValueError):
            sys.stdout.write(out)
            sys.stdout.flush()

    def pump(self, source: str, stream: IO[bytes]) -> threading.Thread:
        def run() -> None:
            with stream:
                for raw in iter(stream.readline, b""):
                    self.write(source, raw.decode("utf-8", "replace").rstrip("\r\n"))

        thread = threading.Thread(target=run, name=f"pump-{source}", daemon=True)
        thread.start()
        return thread


@dataclass
class _Child:
    label: str  # "registry" or "registry migrate"
    proc: subprocess.Popen[bytes]
    pump: threading.Thread


@dataclass(frozen=True)
class RestartPolicy:
    """Back-off for a service that died: ``first_delay``, doubling up to ``max_delay``. A run
    that lasted ``healthy_after`` seconds starts the count again; ``max_failures`` deaths in a
    row, each sooner than that, mean the service keeps failing and the platform stops."""

    first_delay: float = 1.0
    max_delay: float = 30.0
    healthy_after: float = 60.0
    max_failures: int = 5

    def delay(self, failures: int) -> float:
        return float(min(self.first_delay * 2 ** (failures - 1), self.max_delay))


@dataclass
class _Supervised:
    """A long-running service child: how to start it again, and how it has fared."""

    command: list[str]
    service: str
    started_at: float
    failures: int = 0
    restart_at: float | None = None


class DevStack:
    """One ``make run``: owns every process it starts and stops all of them, in order."""

    def __init__(self, env: Mapping[str, str], root: Path) -> None:
        self.env = dict(env)
        self.root = root
        self.data_dir = root / DATA_DIR
        self.console = _Console()
        self.postgres: EmbeddedPostgres | None = None
        self.nats: NatsServer | None = None
        self.children: dict[str, _Child] = {}
        self.db_server_url = ""
        self.nats_url = ""
        self.ports: dict[str, int] = {}
        self._lock_handle: IO[str] | None = None
        self._stopping = False
        self._force = False  # a second Ctrl-C while stopping: SIGKILL the services at once
        self._defer = 0
        self._pending_signal: str | None = None
        self.restart_policy = RestartPolicy()
        self._supervised: dict[str, _Supervised] = {}
        self._servers: dict[str, _Supervised] = {}

    # -- entry point -----------------------------------------------------------------------

    def run(self, *, prepare_only: bool = False) -> int:
        """Start everything and wait; ``prepare_only``: databases, migrations, demo data, stop."""
        previous = {sig: signal.signal(sig, self._on_signal) for sig in _STOP_SIGNALS}
        code = 1
        try:
            try:
                self._configure()
                self._start_infrastructure()
                self._prepare_databases()
                if prepare_only:
                    return 0
                self._start_services()
                self._wait_ready()
                self._watch()
            except _Stop as stop:
                code = 0
                self.console.say(f"{stop}: stopping")
            except _Failure as failure:
                self._stopping = True
                self.console.say(f"ERROR: {failure}")
            # Anything unforeseen propagates with its traceback; ``finally`` still stops all.
        except _Stop:
            pass  # a signal while a failure was being reported: we are stopping anyway
        finally:
            self._stopping = True
            self._shutdown()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return code

    # -- signals ---------------------------------------------------------------------------

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if self._stopping:
            if not self._force:
                self._force = True
                self.console.say(f"{name} received again: killing the services instead of waiting")
        elif self._defer:
            self._pending_signal = name
            self.console.say(f"{name} received; stopping as soon as the current step allows")
        else:
            self._stopping = True  # later signals must not interrupt the shutdown
            raise _Stop(name)

    @contextlib.contextmanager
    def _uninterrupted(self) -> Iterator[None]:
        """Delay a stop signal until a child is started *and* recorded, so none is orphaned."""
        self._defer += 1
        try:
            yield
        finally:
            self._defer -= 1
        if not self._defer and self._pending_signal is not None and not self._stopping:
            self._stopping = True
            raise _Stop(self._pending_signal)

    # -- steps -----------------------------------------------------------------------------

    def _configure(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._take_run_lock()
        self.ports = service_ports(self.env)
        external_pg = self.env.get("DATABASE_URL", "").strip()
        external_nats = self.env.get("NATS_URL", "").strip()
        # (port, what uses it, variable that changes it)
        needed = [(self.ports[s.name], s.name, s.port_variable) for s in SERVICES]
        if not external_pg:
            pg_port = _int_env(self.env, "DEV_PG_PORT", DEFAULT_PG_PORT)
            self.postgres = EmbeddedPostgres(self.data_dir / "postgres", pg_port, durable=True)
            needed.append((pg_port, "embedded PostgreSQL", "DEV_PG_PORT"))
        if not external_nats:
            nats_port = _int_env(self.env, "DEV_NATS_PORT", DEFAULT_NATS_PORT)
            monitor = _int_env(self.env, "DEV_NATS_MONITOR_PORT", DEFAULT_NATS_MONITOR_PORT)
            self.nats = NatsServer(self.data_dir / "nats", nats_port, monitor_port=monitor)
            needed.append((nats_port, "embedded NATS", "DEV_NATS_PORT"))
            needed.append((monitor, "NATS monitoring", "DEV_NATS_MONITOR_PORT"))
        self._check_ports(needed)
        self.db_server_url = external_pg or (self.postgres.url if self.postgres else "")
        self.nats_url = external_nats or (self.nats.url if self.nats else "")
        self._print_plan(external_pg, external_nats)

    def _take_run_lock(self) -> None:
        """One ``make run`` per checkout. flock is released by the kernel when the process
        dies however it dies, so the lock file never goes stale."""
        path = self.data_dir / "run.lock"
        handle = open(path, "a+")  # noqa: SIM115 - held open for the life of the run
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "?"
            handle.close()
            raise _Failure(
                f"another `make run` (pid {holder}) is already running in {self.root}; stop it"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._lock_handle = handle

    @property
    def _children_file(self) -> Path:
        return self.data_dir / "run.children.json"

    def _record_children(self) -> None:
        """Remember pids (with start times, against pid reuse) so that a run after a SIGKILLed
        one can stop the services it orphaned."""
        records = {}
        for child in self.children.values():
            with contextlib.suppress(psutil.Error):
                records[child.label] = [
                    child.proc.pid,
                    psutil.Process(child.proc.pid).create_time(),
                ]
        tmp = self._children_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(records))
        tmp.replace(self._children_file)

    def _stop_orphaned_children(self) -> None:
        try:
            records = json.loads(self._children_file.read_text())
        except (FileNotFoundError, ValueError):
            return
        found: list[psutil.Process] = []
        for label, (pid, created) in records.items():
            with contextlib.suppress(psutil.Error):
                proc = psutil.Process(pid)
                if abs(proc.create_time() - created) < 0.01:
                    self.console.say(f"stopping {label} left over from a previous run (pid {pid})")
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.killpg(pid, signal.SIGTERM)
                    found.append(proc)
        _, alive = psutil.wait_procs(found, timeout=SERVICE_STOP_TIMEOUT)
        for proc in alive:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
        self._children_file.unlink(missing_ok=True)

    def _check_ports(self, needed: list[tuple[int, str, str]]) -> None:
        # Holding the run lock, processes still running from our pid record or on our data dirs
        # are leftovers of a run that was SIGKILLed: stop them (services first, as in a normal
        # shutdown) rather than failing on their ports.
        self._stop_orphaned_children()
        if self.postgres is not None:
            pid = self.postgres.terminate_leftover()
            if pid is not None:
                self.console.say(f"stopped PostgreSQL left over from a previous run (pid {pid})")
        if self.nats is not None:
            for pid in self.nats.terminate_leftover():
                self.console.say(f"stopped NATS left over from a previous run (pid {pid})")
        seen: dict[int, str] = {}
        for port, what, variable in needed:
            if port in seen:
                raise _Failure(f"port {port} is configured for both {seen[port]} and {what}")
            seen[port] = what
            if not port_is_free(LOOPBACK, port):
                raise _Failure(
                    f"port {port} (for {what}) is already in use{_port_holder(port)}; "
                    f"stop whatever listens there or set {variable} to another port"
                )

    def _print_plan(self, external_pg: str, external_nats: str) -> None:
        say = self.console.say
        say("plan:")
        if self.postgres is not None:
            say(
                f"  PostgreSQL  embedded  {self.postgres.url}  data {self.postgres.data_dir}  "
                f"log {self.postgres.log_file}"
            )
        else:
            say(f"  PostgreSQL  external  {_mask_password(external_pg)}  (DATABASE_URL)")
        if self.nats is not None:
            say(
                f"  NATS        embedded  {self.nats.url}  monitor {self.nats.monitor_url}  "
                f"store {self.nats.store_dir}  log {self.nats.log_file}"
            )
        else:
            say(f"  NATS        external  {_mask_password(external_nats)}  (NATS_URL)")
        for s in SERVICES:
            say(f"  {s.name:<11} http://{LOOPBACK}:{self.ports[s.name]}  database {s.name}")

    def _start_infrastructure(self) -> None:
        with self._uninterrupted():
            if self.postgres is not None:
                self.console.say("starting PostgreSQL ...")
                started = time.monotonic()
                self.postgres.start()
                self.console.say(f"PostgreSQL ready ({time.monotonic() - started:.1f}s)")
            if self.nats is not None:
                self.console.say("starting NATS ...")
                started = time.monotonic()
                self.nats.start()
                self.console.say(f"NATS ready ({time.monotonic() - started:.1f}s)")
        if self.nats is None:
            self._check_external_nats()

    def _check_external_nats(self) -> None:
        """Fail now, not with four services retrying a broker that is not there."""
        first = self.nats_url.split(",")[0].strip()
        parts = urlsplit(first if "://" in first else f"nats://{first}")
        host, port = parts.hostname or LOOPBACK, parts.port or 4222
        try:
            socket.create_connection((host, port), timeout=5).close()
        except OSError as exc:
            raise _Failure(f"NATS_URL {_mask_password(first)} is not reachable: {exc}") from exc

    def _prepare_databases(self) -> None:
        with self._uninterrupted():
            try:
                created = asyncio.run(self._ensure_databases())
            except OSError as exc:
                raise _Failure(
                    f"cannot reach PostgreSQL at {_mask_password(self.db_server_url)}: {exc}"
                ) from exc
            except Exception as exc:
                raise _Failure(
                    f"cannot create databases on {_mask_password(self.db_server_url)}: "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
        if created:
            self.console.say(f"created databases: {', '.join(created)}")
        # Migrations run in parallel: each service has its own database.
        for s in SERVICES:
            self._spawn(f"{s.name} migrate", [sys.executable, "-m", s.name, "migrate"], s.name)
        deadline = time.monotonic() + MIGRATE_TIMEOUT
        pending = [f"{s.name} migrate" for s in SERVICES]
        while pending:
            for label in list(pending):
                code = self.children[label].proc.poll()
                if code is None:
                    continue
                pending.remove(label)
                self.children.pop(label).pump.join(timeout=2)
                if code == EXIT_BAD_SETTINGS:
                    raise _Failure(
                        f"{label.split()[0]} refused its settings (the line above names the variable)"
                    )
                if code != 0:
                    raise _Failure(f"`python -m {label}` failed with exit code {code}")
            if pending and time.monotonic() > deadline:
                raise _Failure(f"migrations not finished after {MIGRATE_TIMEOUT:g}s: {pending}")
            time.sleep(0.1)
        self.console.say("migrations done")
        if self.env.get("DEV_DEMO_DATA", "1") != "0":
            self._load_demo_data()

    def _load_demo_data(self) -> None:
        """Each service's demo data set, into databases that have none yet (DEV_DEMO_DATA=0: off)."""
        for s in SERVICES:
            label = f"{s.name} demo-data"
            self._spawn(label, [sys.executable, "-m", s.name, "demo-data", "--if-empty"], s.name)
            deadline = time.monotonic() + MIGRATE_TIMEOUT
            while (code := self.children[label].proc.poll()) is None:
                if time.monotonic() > deadline:
                    raise _Failure(f"demo data of {s.name} not loaded after {MIGRATE_TIMEOUT:g}s")
                time.sleep(0.1)
            self.children.pop(label).pump.join(timeout=2)
            if code != 0:
                raise _Failure(f"`python -m {label}` failed with exit code {code}")

    async def _ensure_databases(self) -> list[str]:
        return [s.name for s in SERVICES if await ensure_database(self.db_server_url, s.name)]

    def _start_services(self) -> None:
        for s in SERVICES:
            port = str(self.ports[s.name])
            command = [sys.executable, "-m", s.name, "serve", "--host", LOOPBACK, "--port", port]
            self._supervise(s.name, command, s.name)

    def _supervise(self, label: str, command: list[str], service: str) -> None:
        """Start a child that should run until the end, and restart it if it dies."""
        self._spawn(label, command, service)
        self._supervised[label] = _Supervised(command, service, time.monotonic())

    def _spawn(self, label: str, command: list[str], service: str) -> None:
        env = {
            **self.env,
            "PYTHONUNBUFFERED": "1",  # logs through our pipe should appear as they are written
            **service_env(service, self.db_server_url, self.nats_url, ports=self.ports),
        }
        with self._uninterrupted():
            proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                cwd=self.root,
                env=env,
                # Own session: Ctrl-C reaches only us, and we stop the services in order.
                start_new_session=True,
            )
            assert proc.stdout is not None
            self.children[label] = _Child(label, proc, self.console.pump(label, proc.stdout))
            self._record_children()

    def _wait_ready(self) -> None:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # no http_proxy
        started = time.monotonic()
        deadline = started + READY_TIMEOUT
        last: dict[str, str] = {s.name: "no answer yet" for s in SERVICES}
        pending = [s.name for s in SERVICES]
        while pending:
            self._check_alive()
            for name in list(pending):
                url = f"http://{LOOPBACK}:{self.ports[name]}/readyz"
                try:
                    with opener.open(url, timeout=2) as response:
                        status = response.status
                except urllib.error.HTTPError as exc:
                    status = exc.code
                except (urllib.error.URLError, OSError) as exc:
                    last[name] = str(getattr(exc, "reason", exc))
                    continue
                if status == 200:
                    pending.remove(name)
                    self.console.say(f"{name} ready ({time.monotonic() - started:.1f}s)")
                else:
                    last[name] = f"HTTP {status}"
            if pending and time.monotonic() > deadline:
                detail = "; ".join(f"{name}: {last[name]}" for name in pending)
                raise _Failure(
                    f"not ready after {READY_TIMEOUT:g}s: {', '.join(pending)} (/readyz: {detail})"
                )
            if pending:
                time.sleep(0.25)
        self._print_ready(time.monotonic() - started)

    def _print_ready(self, seconds: float) -> None:
        say = self.console.say
        gateway = f"http://{LOOPBACK}:{self.ports['gateway']}"
        say(f"all services ready ({seconds:.1f}s)")
        say(f"  gateway     {gateway}")
        say(f"  API docs    {gateway}/docs")
        for s in SERVICES:
            if s.name != "gateway":
                say(f"  {s.name:<11} http://{LOOPBACK}:{self.ports[s.name]}")
        if self.nats is not None:
            say(f"  NATS        {self.nats.url}  (monitor {self.nats.monitor_url})")
        say(f"  PostgreSQL  {_mask_password(self.db_server_url)}")
        say("press Ctrl-C to stop")

    def _watch(self) -> None:
        while True:
            self._check_alive()
            time.sleep(0.5)

    def _check_alive(self) -> None:
        for child in list(self.children.values()):
            code = child.proc.poll()
            if code is None:
                continue
            watched = self._supervised.get(child.label)
            if watched is None:
                raise _Failure(f"{child.label} exited unexpectedly with code {code}")
            self._after_exit(child, watched, code)
        if self.postgres is not None and not self.postgres.is_running():
            self._restart_server("PostgreSQL", self.postgres.start, self.postgres.log_file)
        if self.nats is not None and not self.nats.is_running():
            self._restart_server("NATS", self.nats.start, self.nats.log_file)

    def _restart_server(self, label: str, start: Callable[[], None], log_file: Path) -> None:
        """An embedded server died: start it again with the services' back-off (they ride out
        the gap: 503s and an outbox that waits), or give up if it keeps dying."""
        watched = self._servers.setdefault(label, _Supervised([], label, time.monotonic()))
        now = time.monotonic()
        policy = self.restart_policy
        if watched.restart_at is None:
            uptime = now - watched.started_at
            watched.failures = 1 if uptime >= policy.healthy_after else watched.failures + 1
            if watched.failures > policy.max_failures:
                raise _Failure(f"{label} keeps failing; see {log_file}")
            watched.restart_at = now + policy.delay(watched.failures)
            self.console.say(
                f"{label} exited unexpectedly (see {log_file}); restarting in "
                f"{policy.delay(watched.failures):g}s"
            )
        elif now >= watched.restart_at:
            with self._uninterrupted():
                try:
                    start()
                except Exception as exc:  # noqa: BLE001 - counted as one more failure
                    self.console.say(f"{label} did not start: {type(exc).__name__}: {exc}")
                    watched.started_at, watched.restart_at = now, None
                    return
            watched.started_at, watched.restart_at = time.monotonic(), None
            self.console.say(f"{label} restarted")

    def _after_exit(self, child: _Child, watched: _Supervised, code: int) -> None:
        """A supervised service is down: schedule its restart, restart it when due, or give up."""
        now = time.monotonic()
        policy = self.restart_policy
        if watched.restart_at is None:
            if code == EXIT_BAD_SETTINGS:
                raise _Failure(f"{child.label} refused its settings (the line above names the variable)")
            uptime = now - watched.started_at
            watched.failures = 1 if uptime >= policy.healthy_after else watched.failures + 1
            if watched.failures > policy.max_failures:
                raise _Failure(
                    f"{child.label} keeps failing: it exited {watched.failures} times in a row, each "
                    f"within {policy.healthy_after:g}s of starting (last exit code {code}); stopping"
                )
            delay = policy.delay(watched.failures)
            watched.restart_at = now + delay
            self.console.say(
                f"{child.label} exited with code {code} after {uptime:.1f}s; restarting in {delay:g}s "
                f"(restart {watched.failures} of at most {policy.max_failures} in a row)"
            )
        elif now >= watched.restart_at:
            child.pump.join(timeout=2)
            self._spawn(child.label, watched.command, watched.service)
            watched.started_at = now
            watched.restart_at = None
            self.console.say(f"{child.label} restarted (pid {self.children[child.label].proc.pid})")

    # -- shutdown --------------------------------------------------------------------------

    def _shutdown(self) -> None:
        """Services (and running migrations), then NATS, then PostgreSQL; every step runs even
        if an earlier one fails, so nothing is left behind."""
        steps = [("services", self._stop_children)]
        if self.nats is not None:
            steps.append(("NATS", self.nats.stop))
        if self.postgres is not None:
            steps.append(("PostgreSQL", self.postgres.stop))
        for what, step in steps:
            try:
                step()
            except Exception as exc:  # noqa: BLE001 - the remaining steps must still run
                self.console.say(f"ERROR while stopping {what}: {type(exc).__name__}: {exc}")
        if self._lock_handle is not None:
            if not self.children:
                self._children_file.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                self._lock_handle.truncate(0)
            self._lock_handle.close()
            self._lock_handle = None
        self.console.say("stopped")

    def _stop_children(self) -> None:
        running = [c for c in self.children.values() if c.proc.poll() is None]
        if running:
            self.console.say(f"stopping {', '.join(c.label for c in running)} ...")
        # Signal the process group: uvicorn workers or reloaders the service may spawn go too.
        for child in running:
            _signal_group(child.proc, signal.SIGTERM)
        deadline = time.monotonic() + SERVICE_STOP_TIMEOUT
        while not self._force and time.monotonic() < deadline:
            if all(child.proc.poll() is not None for child in running):
                break
            time.sleep(0.05)
        for child in running:
            if child.proc.poll() is None:
                if not self._force:
                    timeout = SERVICE_STOP_TIMEOUT
                    self.console.say(f"{child.label} did not stop in {timeout:g}s: killing it")
                _signal_group(child.proc, signal.SIGKILL)
                child.proc.wait()
        for child in self.children.values():
            _signal_group(child.proc, signal.SIGKILL)  # stragglers the leader left behind
            child.pump.join(timeout=2)
        self.children.clear()


def _signal_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    # start_new_session made the child a session and group leader, so its pgid is its pid.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def _port_holder(port: int) -> str:
    """' by pid N (cmd)' for the listener on ``port`` when the OS lets us see it."""
    try:
        for conn in psutil.net_connections(kind="tcp"):
            if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port:
                if conn.pid is None:
                    return ""
                with contextlib.suppress(psutil.Error):
                    cmd = " ".join(psutil.Process(conn.pid).cmdline()[:3])
                    return f" by pid {conn.pid} ({cmd})"
                return f" by pid {conn.pid}"
    except (psutil.Error, OSError):
        return ""
    return ""


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    return DevStack(os.environ, Path.cwd()).run(prepare_only="--demo-data-only" in args)


if __name__ == "__main__":
    sys.exit(main())
