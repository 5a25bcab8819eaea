"""Debian's prometheus started on 127.0.0.1 with a temporary configuration scraping one
target every second, waited for until it has samples, and stopped by its PID."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

PROMETHEUS = Path("/usr/bin/prometheus")
FIRST_SAMPLES_SECONDS = 15.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def prometheus_scraping(target: str, folder: Path, job: str = "service") -> Iterator[str]:
    """Prometheus's base URL, scraping ``target`` (``127.0.0.1:PORT``) as ``job``."""
    config = folder / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        f"scrape_configs:\n  - job_name: {job}\n    static_configs:\n"
        f"      - targets: ['{target}']\n"
    )
    port = free_port()
    log = (folder / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [
            str(PROMETHEUS),
            f"--config.file={config}",
            f"--storage.tsdb.path={folder / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + FIRST_SAMPLES_SECONDS
        while True:
            try:
                body = httpx.get(
                    f"{url}/api/v1/query", params={"query": f'up{{job="{job}"}} == 1'}
                ).json()
                if body["data"]["result"]:
                    break
            except (httpx.HTTPError, ValueError, KeyError):
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(
                    f"prometheus had no samples of {target} after {FIRST_SAMPLES_SECONDS:.0f} s: "
                    + (folder / "prometheus.log").read_text()[-2000:]
                )
            time.sleep(0.2)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
