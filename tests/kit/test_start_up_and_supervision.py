"""A bad setting is one line naming the variable; ``make run`` restarts a service that dies."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from shared.devstack.run import DevStack, RestartPolicy, _Failure, service_ports

GOOD = {
    "DATABASE_URL": "postgresql+asyncpg://127.0.0.1:1/x",
    "NATS_URL": "nats://127.0.0.1:1",
}
GATEWAY_UPSTREAMS = {
    "GATEWAY_REGISTRY_URL": "http://127.0.0.1:1",
    "GATEWAY_PROJECTS_URL": "http://127.0.0.1:1",
    "GATEWAY_EVALUATION_URL": "http://127.0.0.1:1",
}


def _start(service: str, **settings: str) -> subprocess.CompletedProcess[str]:
    prefix = service.upper() + "_"
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefix)}
    env |= {prefix + k: v for k, v in GOOD.items()}
    if service == "gateway":
        env |= GATEWAY_UPSTREAMS
    env |= {prefix + k: v for k, v in settings.items()}
    return subprocess.run(
        [sys.executable, "-m", service, "serve", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("service", "settings", "variable", "rule"),
    [
        ("registry", {"DATABASE_URL": "postgres://db"}, "REGISTRY_DATABASE_URL", "postgresql+asyncpg://"),
        ("projects", {"NATS_URL": "localhost"}, "PROJECTS_NATS_URL", "nats://host"),
        ("evaluation", {"ENVIRONMENT": "production"}, "EVALUATION_AUTH_JWKS_URL", "required outside"),
        (
            "gateway",
            {"BOOTSTRAP_ADMIN_USERNAME": "admin", "BOOTSTRAP_ADMIN_PASSWORD": "Admin-2026-pass!"},
            "GATEWAY_BOOTSTRAP_ADMIN_PASSWORD",
            "must not contain the user name",
        ),
        (
            "gateway",
            {"ENVIRONMENT": "staging", "AUTH_JWKS_URL": "https://gw/jwks"},
            "GATEWAY_SIGNING_KEY_PEM",
            "",
        ),
    ],
)
def test_a_refused_setting_stops_the_service_in_one_line_naming_the_variable(
    service: str, settings: dict[str, str], variable: str, rule: str
) -> None:
    result = _start(service, **settings)
    assert result.returncode == 78, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("refusing to start: ") and variable in lines[0] and rule in lines[0]
    assert settings.get("BOOTSTRAP_ADMIN_PASSWORD", "\0") not in lines[0]  # never the secret


def _stack(tmp_path: Path, **policy: float) -> tuple[DevStack, list[str]]:
    (tmp_path / ".data").mkdir()
    stack = DevStack({}, tmp_path)
    stack.ports = service_ports({})
    stack.restart_policy = RestartPolicy(
        first_delay=0.05, max_delay=0.2, healthy_after=policy.get("healthy_after", 5.0), max_failures=3
    )
    said: list[str] = []
    stack.console.say = said.append  # type: ignore[method-assign]
    return stack, said


def _watch(stack: DevStack, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        stack._check_alive()
        time.sleep(0.02)


def test_a_service_that_dies_is_restarted_with_back_off_and_the_platform_keeps_going(tmp_path: Path) -> None:
    flag = tmp_path / "crashed-once"
    program = (
        "import pathlib, sys, time\n"
        f"flag = pathlib.Path({str(flag)!r})\n"
        "if not flag.exists():\n"
        "    flag.touch(); sys.exit(1)\n"
        "time.sleep(60)\n"
    )
    stack, said = _stack(tmp_path)
    try:
        stack._supervise("registry", [sys.executable, "-c", program], "registry")
        _watch(stack, 3.0)
        assert stack.children["registry"].proc.poll() is None  # running again
        assert any("registry exited with code 1" in line and "restarting in 0.05s" in line for line in said)
        assert sum("registry restarted" in line for line in said) == 1
    finally:
        stack._stop_children()


def test_a_service_that_keeps_failing_stops_the_platform_saying_so(tmp_path: Path) -> None:
    stack, said = _stack(tmp_path)
    try:
        stack._supervise("projects", [sys.executable, "-c", "import sys; sys.exit(2)"], "projects")
        with pytest.raises(_Failure, match="projects keeps failing: it exited 4 times"):
            _watch(stack, 20.0)
        delays = [line.split("restarting in ")[1].split("s ")[0] for line in said if "restarting in" in line]
        assert delays == ["0.05", "0.1", "0.2"]  # doubling, up to the cap
    finally:
        stack._stop_children()


def test_a_service_refusing_its_settings_is_not_restarted(tmp_path: Path) -> None:
    stack, said = _stack(tmp_path)
    try:
        stack._supervise("gateway", [sys.executable, "-c", "import sys; sys.exit(78)"], "gateway")
        with pytest.raises(_Failure, match="gateway refused its settings"):
            _watch(stack, 5.0)
        assert not any("restart" in line for line in said)
    finally:
        stack._stop_children()


def test_a_failed_start_up_is_one_line_not_a_traceback() -> None:
    """The database is not there when the gateway creates its first administrator."""
    result = _start(
        "gateway", BOOTSTRAP_ADMIN_USERNAME="root-admin", BOOTSTRAP_ADMIN_PASSWORD="Xk29-vLq-Pw!7"
    )
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    assert "start-up failed: ConnectionRefusedError" in output


def test_embedded_nats_that_dies_is_started_again(tmp_path: Path) -> None:
    from shared.devstack.nats import NatsServer
    from shared.devstack.ports import free_port

    stack, said = _stack(tmp_path)
    stack.nats = NatsServer(tmp_path / "nats", free_port())
    stack.nats.start()
    try:
        stack.nats.kill()
        _watch(stack, 3.0)
        assert stack.nats.is_running()
        assert any("NATS exited unexpectedly" in line for line in said)
        assert "NATS restarted" in said
    finally:
        stack.nats.stop()
