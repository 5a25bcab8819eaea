"""Breach to rollback complete with the ``process`` target.

    .venv/bin/python benchmarks/bench_rollback.py --runs 3 --database sqlite postgres

For each database: a fresh database; a component whose repository (a real bare git
repository) holds a tiny HTTP service with the golden Python service's request metrics, tagged
1.0.0 (answers 200) and 1.1.0 (answers 500). Its ``.pavedroad/deploy.yaml`` runs it with the
process target and asks for a sample every second after a 2 s warm-up (the seed's thresholds
otherwise). A client calls the service through the target's proxy 50 times a second. 1.0.0 is
deployed and passes its window; then, ``--runs`` times, 1.1.0 is deployed, its error rate
breaches and it is rolled back automatically to 1.0.0. Figures, from the samples and the
deployment rows the platform recorded: the breach (the second bad sample, when the analysis
decides) to the rollback complete (1.0.0 serving again, the deploy marked rolled back), and the
whole of the bad version's life (live to rolled back). Target: under 30 s (seed SLO: 5 min).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import statistics
import subprocess
import sys
import threading
from pathlib import Path

import httpx
from sqlalchemy import select

from harness import WORK, database_url, free_port, print_table
from pavedroad.catalog import service as catalog
from pavedroad.config import Settings
from pavedroad.core import migrations
from pavedroad.core.actors import Actor
from pavedroad.core.clock import as_utc
from pavedroad.deploy import service
from pavedroad.deploy.models import AnalysisSample, Deployment
from pavedroad.deploy.runner import wait_for
from pavedroad.runtime import Runtime, build_runtime

ACTOR = Actor("user:default/esi.mensah")
GIT = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com"]
SERVICE = '''\
"""A tiny service: GET /items answers STATUS (a file), /healthz 200, /metrics the counters."""
import os
import pathlib
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

STATUS = int(pathlib.Path(__file__).with_name("STATUS").read_text())
REGISTRY = CollectorRegistry()
REQUESTS = Counter("http_requests_total", "Requests.", ["method", "route", "status"],
                   registry=REGISTRY)
DURATION = Histogram("http_request_duration_seconds", "Durations.", ["method", "route"],
                     registry=REGISTRY)


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        started = time.perf_counter()
        if self.path == "/metrics":
            status, body = 200, generate_latest(REGISTRY)
        elif self.path == "/healthz":
            status, body = 200, b"ok"
        else:
            status, body = STATUS, b"items"
            REQUESTS.labels("GET", "/items", str(status)).inc()
            DURATION.labels("GET", "/items").observe(time.perf_counter() - started)
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
'''
DEPLOY_FILE = """\
process:
  command: {python} service.py
  health: /healthz
  startup_seconds: 20
  proxy_port: {proxy_port}
analysis:
  interval_seconds: 1
  warmup_seconds: 2
  window_seconds: 5
"""


def git(*args: str, cwd: Path) -> str:
    return subprocess.run([*GIT, *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def make_component(runtime: Runtime, folder: Path, name: str, proxy_port: int) -> str:
    bare, work = folder / "service.git", folder / "work"
    git("init", "--quiet", "--bare", "-b", "main", str(bare), cwd=folder)
    git("init", "--quiet", "-b", "main", str(work), cwd=folder)
    (work / ".pavedroad").mkdir()
    (work / ".pavedroad" / "deploy.yaml").write_text(
        DEPLOY_FILE.format(python=sys.executable, proxy_port=proxy_port)
    )
    (work / "service.py").write_text(SERVICE)
    for version, status in (("1.0.0", "200"), ("1.1.0", "500")):
        (work / "STATUS").write_text(status)
        git("add", "--all", cwd=work)
        git("commit", "--quiet", "-m", version, cwd=work)
        git("tag", version, cwd=work)
    git("push", "--quiet", "--tags", str(bare), "main", cwd=work)
    entity = folder / "catalog-info.yaml"
    entity.write_text(
        f"apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\n"
        f"  annotations:\n    backstage.io/source-location: url:{bare.as_uri()}\n"
        "spec: {type: service, lifecycle: production, owner: team-a}\n"
    )
    with runtime.db.session() as session:
        catalog.register_locations(session, runtime.catalog, [("file", str(entity))], actor=ACTOR)
    return f"component:default/{name}"


def deploy(runtime: Runtime, ref: str, version: str) -> Deployment:
    started = service.deploy(
        runtime, component_ref=ref, environment="production", version=version, actor=ACTOR
    )
    return wait_for(runtime, started.id, timeout=120)


def load(url_of: list[str], stop: threading.Event) -> None:
    """Calls the service through the proxy about 50 times a second."""
    with httpx.Client(timeout=2) as client:
        while not stop.wait(0.02):
            if url_of:
                with contextlib.suppress(httpx.HTTPError):  # before the first version is up
                    client.get(url_of[0] + "/items")


def one_rollback(runtime: Runtime, ref: str) -> tuple[float, float]:
    bad = deploy(runtime, ref, "1.1.0")
    assert bad.status == "rolled_back", (bad.status, bad.error, bad.evidence.get("reason"))
    with runtime.db.read_session() as session:
        samples = list(
            session.scalars(
                select(AnalysisSample)
                .where(AnalysisSample.deployment_id == bad.id)
                .order_by(AnalysisSample.at)
            )
        )
        rollback = session.scalars(
            select(Deployment).where(Deployment.rollback_of == bad.id)
        ).first()
    breach = as_utc(samples[-1].at)  # the second bad sample: the analysis decides there
    finished = (rollback.finished_at if rollback else None) or bad.finished_at
    assert finished is not None
    done = as_utc(finished)
    live = as_utc(bad.deployed_at or bad.created_at)
    return (done - breach).total_seconds(), (done - live).total_seconds()


def bench(kind: str, runs: int) -> dict[str, object]:
    folder = WORK / f"rollback-{kind}"
    subprocess.run(["rm", "-rf", str(folder)], check=True)
    folder.mkdir(parents=True)
    url = database_url(kind, "bench_rollback")
    migrations.upgrade(url)
    runtime = build_runtime(Settings(database_url=url, data_dir=folder / "data"))
    proxy_port = free_port()
    # One component per database: the process target keeps one proxy per component and
    # environment for the life of the platform's process, and this one runs both.
    ref = make_component(runtime, folder, f"rollme-{kind}", proxy_port)
    stop, url_of = threading.Event(), [f"http://127.0.0.1:{proxy_port}"]
    traffic = threading.Thread(target=load, args=(url_of, stop), daemon=True)
    traffic.start()
    try:
        good = deploy(runtime, ref, "1.0.0")
        assert good.status == "succeeded", (good.status, good.error)
        figures = [one_rollback(runtime, ref) for _ in range(runs)]
    finally:
        stop.set()
        traffic.join()
        stop_services(runtime)
        runtime.close()
    breach = [f[0] for f in figures]
    life = [f[1] for f in figures]
    return {
        "database": kind,
        "rollbacks": runs,
        "breach → rollback complete": f"{statistics.median(breach):.1f} s (max {max(breach):.1f})",
        "bad version live": f"{statistics.median(life):.1f} s (max {max(life):.1f})",
    }


def stop_services(runtime: Runtime) -> None:
    """The service processes the process target started (they outlive the platform)."""
    with runtime.db.read_session() as session:
        pids = {
            state.get("pid")
            for state in session.scalars(select(Deployment.target_state))
            if isinstance(state, dict)
        }
    for pid in pids:
        if isinstance(pid, int):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database", nargs="+", default=["sqlite"])
    arguments = parser.parse_args()
    rows = [bench(kind, arguments.runs) for kind in arguments.database]
    print_table("Breach to rollback complete, process target", rows)


if __name__ == "__main__":
    main()
