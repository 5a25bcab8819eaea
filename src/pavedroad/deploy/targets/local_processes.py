"""A service's processes on this machine for the ``process`` target: its build, its start in
a process group of its own with PORT and HOST, its health check, and stopping the group (SIGTERM,
then SIGKILL). The processes this platform process started are kept here so their exit is
reaped; a dead child would otherwise be a zombie that still "runs" for ``os.kill(pid, 0)``."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pavedroad.deploy.hooks import TargetError
from pavedroad.deploy.targets.proxy import BACKEND_HEADER, HOST, free_port

POLL_SECONDS = 0.1
LOG_TAIL_LINES = 20
BUILD_TIMEOUT_SECONDS = 900.0
STOP_GRACE_SECONDS = 10.0

_children: dict[int, subprocess.Popen[bytes]] = {}
_children_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class ProcessConfig:
    """``process:`` of ``.pavedroad/deploy.yaml``; ``proxy_port`` also from the environment's
    settings (top level), 0: a free port chosen on the first deploy and kept."""

    command: str
    build: str | None = None
    health: str = "/healthz"
    startup_seconds: float = 30.0
    proxy_port: int = 0
    stop_grace_seconds: float = STOP_GRACE_SECONDS
    env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, config: Mapping[str, Any]) -> ProcessConfig:
        section = config.get("process")
        if not isinstance(section, Mapping) or not section.get("command"):
            raise TargetError(
                "the process target needs `process.command` in .pavedroad/deploy.yaml "
                "(the command that starts the service; it gets PORT and HOST)"
            )
        health = str(section.get("health") or "/healthz")
        try:
            return cls(
                command=str(section["command"]),
                build=str(section["build"]) if section.get("build") else None,
                health=health if health.startswith("/") else f"/{health}",
                startup_seconds=float(section.get("startup_seconds", 30)),
                proxy_port=int(section.get("proxy_port") or config.get("proxy_port") or 0),
                stop_grace_seconds=float(section.get("stop_grace_seconds", STOP_GRACE_SECONDS)),
                env={str(k): str(v) for k, v in (section.get("env") or {}).items()},
            )
        except (TypeError, ValueError, AttributeError) as error:
            raise TargetError(f"invalid `process:` settings: {error}") from error


def is_alive(pid: int) -> bool:
    with _children_lock:
        child = _children.get(pid)
    if child is not None and child.poll() is not None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _group_alive(pgid: int) -> bool:
    with _children_lock:
        child = _children.get(pgid)
    if child is not None:
        child.poll()  # reaps the leader: only live members keep the group
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_recorded_process(pid: int, workspace: str) -> bool:
    """Whether ``pid`` is still the process the state recorded (a pid can be reused once the
    process is gone, and a stranger's group must never be killed): ours, or working in the
    recorded workspace."""
    with _children_lock:
        if pid in _children:
            return True
    try:
        cwd = Path(f"/proc/{pid}/cwd").readlink()
    except FileNotFoundError:
        return False  # gone
    except OSError:
        return True  # no /proc to ask: trust the record
    return not workspace or cwd.is_relative_to(Path(workspace).resolve())  # `cd x && ...`


def stop_group(pgid: int, grace_seconds: float = STOP_GRACE_SECONDS) -> None:
    """SIGTERM to the process group, up to ``grace_seconds`` to end, then SIGKILL."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGTERM)
    until = time.monotonic() + grace_seconds
    while _group_alive(pgid) and time.monotonic() < until:
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
    with _children_lock:
        child = _children.pop(pgid, None)
    if child is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(5)


def _get(port: int, path: str, timeout: float) -> http.client.HTTPResponse | None:
    """``GET path`` on ``HOST:port`` straight (never through an HTTP proxy of the environment)."""
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()


def healthy(port: int, path: str, timeout: float = 2.0) -> bool:
    """Whether ``GET path`` on the port answers 2xx."""
    response = _get(port, path, timeout)
    return response is not None and 200 <= response.status < 300


def proxied_backend(port: int, path: str) -> int | None:
    """The backend a pavedroad proxy on ``port`` sent ``GET path`` to (None: no such proxy)."""
    response = _get(port, path, 2.0)
    value = response.getheader(BACKEND_HEADER) if response is not None else None
    return int(value) if value and value.isdigit() else None


def _tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _environment(config: ProcessConfig, port: int) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        **config.env,
        "PORT": str(port),
        "HOST": HOST,
    }


def _shell(command: str) -> list[str]:
    return ["bash", "-e", "-o", "pipefail", "-c", command]


def build(workspace: Path, config: ProcessConfig, log: Callable[[str], None]) -> None:
    assert config.build is not None
    log(f"$ {config.build}")
    try:
        done = subprocess.run(
            _shell(config.build),
            cwd=workspace,
            env=_environment(config, 0),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=BUILD_TIMEOUT_SECONDS,
            start_new_session=True,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise TargetError(f"the build `{config.build}` ran longer than {error.timeout} s") from None
    except OSError as error:
        raise TargetError(f"could not run the build `{config.build}`: {error}") from None
    output = done.stdout.decode("utf-8", errors="replace").splitlines()
    for line in output:
        log(line)
    if done.returncode != 0:
        last = "\n".join(output[-LOG_TAIL_LINES:])
        raise TargetError(
            f"the build `{config.build}` failed with exit code {done.returncode}:\n{last}"
        )


@dataclass(slots=True)
class Started:
    pid: int
    port: int
    log: Path


def start_healthy(
    workspace: Path, config: ProcessConfig, log_path: Path, log: Callable[[str], None]
) -> Started:
    """Start the command on a free port and wait for its health check; on failure nothing of
    it is left running and the TargetError carries the last lines it logged."""
    port = free_port()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log(f"starting `{config.command}` with PORT={port} in {workspace}")
    with open(log_path, "ab") as output:
        try:
            child = subprocess.Popen(
                _shell(config.command),
                cwd=workspace,
                env=_environment(config, port),
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stopped as one
            )
        except OSError as error:
            raise TargetError(f"could not start `{config.command}`: {error}") from None
    with _children_lock:
        _children[child.pid] = child
    deadline = time.monotonic() + config.startup_seconds
    while True:
        if healthy(port, config.health):
            log(f"healthy: GET {config.health} on port {port} answered 2xx")
            return Started(pid=child.pid, port=port, log=log_path)
        exited = child.poll()
        if exited is not None or time.monotonic() >= deadline:
            stop_group(child.pid, grace_seconds=2.0)
            why = (
                f"exited with code {exited} before it was healthy"
                if exited is not None
                else f"did not answer GET {config.health} with 2xx within "
                f"{config.startup_seconds:g} s"
            )
            tail = _tail(log_path)
            log(f"the new version {why}; the old version keeps running")
            raise TargetError(
                f"the new version {why}; the old version keeps running. "
                f"Last lines of {log_path}:\n{tail}"
            )
        time.sleep(POLL_SECONDS)
