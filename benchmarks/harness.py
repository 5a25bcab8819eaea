"""What the benchmarks share: synthetic organisations, a fresh database, a real server process.

The server is started exactly as an operator starts it (``pavedroad serve``) on 127.0.0.1, so
figures include HTTP, JSON and the database; its peak memory is read from /proc.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parents[1]
GENERATOR = ROOT.parent / "shared" / "bench" / "gen_catalog.py"
WORK = Path(os.environ.get("PAVEDROAD_BENCH_DIR", "/tmp/pavedroad-bench"))
POSTGRES_ADMIN = os.environ.get(
    "PAVEDROAD_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)
PAVEDROAD = Path(sys.executable).with_name("pavedroad")


def organisation(entities: int) -> Path:
    """A deterministic organisation of ``entities`` valid entities (generated once, then reused)."""
    folder = WORK / f"org-{entities}"
    if not (folder / "manifest.json").is_file():
        if not GENERATOR.is_file():
            raise SystemExit(
                f"{GENERATOR} is missing: the benchmarks need ../shared/bench beside the project"
            )
        shutil.rmtree(folder, ignore_errors=True)
        subprocess.run(
            [sys.executable, str(GENERATOR), str(entities), str(folder)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return folder


def database_url(kind: str, name: str) -> str:
    """A URL for an empty database of ``kind`` (sqlite or postgres) named ``name``."""
    if kind == "sqlite":
        path = WORK / f"{name}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return (
        POSTGRES_ADMIN.replace("postgresql://", "postgresql+psycopg://").rsplit("/", 1)[0]
        + f"/{name}"
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base: str
    token: str = ""  # a service token the benchmark's requests carry (the API needs sign-in)

    @property
    def headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token}"} if self.token else {}

    def processes(self) -> list[int]:
        """The server's process and every process it started (uvicorn's workers)."""
        found, queue = [], [self.process.pid]
        while queue:
            pid = queue.pop()
            found.append(pid)
            for task in Path(f"/proc/{pid}/task").glob("*"):
                children = (
                    (task / "children").read_text().split() if (task / "children").exists() else []
                )
                queue.extend(int(child) for child in children)
        return found

    def peak_rss_mib(self) -> float:
        """Sum over the server's processes of each one's peak resident memory."""
        return sum(_status_kib(pid, "VmHWM:") for pid in self.processes()) / 1024

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()


def _status_kib(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1])
    except FileNotFoundError:
        pass
    return 0


def start_server(
    url: str, data_dir: Path, workers: int = 0, extra_env: dict[str, str] | None = None
) -> Server:
    port = free_port()
    environment = {
        **os.environ,
        "PAVEDROAD_DATABASE_URL": url,
        "PAVEDROAD_DATA_DIR": str(data_dir),
        "PAVEDROAD_CATALOG__REFRESH_INTERVAL_SECONDS": "0",
        "PAVEDROAD_LOG_LEVEL": "WARNING",
        "PAVEDROAD_WORKERS": str(workers),
        **(extra_env or {}),
    }
    token = service_token(environment)
    log = open(WORK / f"server-{port}.log", "wb")  # noqa: SIM115 - lives as long as the server
    process = subprocess.Popen(
        [str(PAVEDROAD), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    server = Server(process, f"http://127.0.0.1:{port}", token)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited; see {log.name}")
        try:
            if request(server, "GET", "/readyz")[0] == 200:
                return server
        except OSError:
            pass
        time.sleep(0.2)
    server.stop()
    raise SystemExit(f"the server did not become ready within 60 s; see {log.name}")


def service_token(environment: dict[str, str]) -> str:
    """A day-long service token for the benchmark, made as an operator makes one."""
    subprocess.run(
        [str(PAVEDROAD), "db", "upgrade"], env=environment, check=True, capture_output=True
    )
    command = ["tokens", "create", "--name", "bench", "--service", "bench", "--scope", "*"]
    made = subprocess.run(
        [str(PAVEDROAD), *command, "--expires-in-days", "1"],
        env=environment,
        check=True,
        capture_output=True,
        text=True,
    )
    return made.stdout.strip()


def request(
    server: Server, method: str, path: str, body: Any = None, timeout: float = 3600
) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    prepared = urllib.request.Request(
        server.base + path,
        data=data,
        method=method,
        headers={"content-type": "application/json", **server.headers},
    )
    try:
        with urllib.request.urlopen(prepared, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def print_table(title: str, rows: list[dict[str, Any]]) -> None:
    print(f"\n{title}")
    if not rows:
        return
    headers = list(rows[0])
    widths = [max(len(str(h)), *(len(str(r[h])) for r in rows)) for h in headers]
    print("| " + " | ".join(str(h).ljust(w) for h, w in zip(headers, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print(
            "| "
            + " | ".join(str(row[h]).ljust(w) for h, w in zip(headers, widths, strict=True))
            + " |"
        )
