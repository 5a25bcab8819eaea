"""``pavedroad demo-rollback``: an automatic rollback, end to end, on the embedded default.

In a scratch folder under the data directory it makes a local git repository holding a tiny
HTTP service (:mod:`pavedroad.demo.rollback_service`; 1.0.0 healthy, the tag 1.1.0 answering
500s) with its ``.pavedroad/deploy.yaml`` (the process target, a short analysis) and a
``catalog-info.yaml`` registering it; deploys 1.0.0 to dev and waits; sends it requests through
the proxy; deploys 1.1.0 and waits; and prints what the analysis saw and that 1.0.0 serves
again. The processes it started are stopped at the end (by PID). Exit 0 only on a rollback."""

from __future__ import annotations

import shutil
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import typer

from pavedroad.catalog import service as catalog_service
from pavedroad.cli_support import runtime_for_cli
from pavedroad.config import get_settings
from pavedroad.core.actors import Actor
from pavedroad.core.git import git
from pavedroad.deploy import runner, service
from pavedroad.deploy.models import Deployment, EnvironmentState
from pavedroad.deploy.targets.local_processes import is_alive, stop_group
from pavedroad.deploy.targets.proxy import stop_proxy
from pavedroad.runtime import Runtime

NAME = "rollback-demo"
REF = f"component:default/{NAME}"
ENVIRONMENT = "dev"
SERVICE = Path(__file__).parent / "rollback_service.py"
ACTOR = Actor(ref="user:default/esi.mensah")  # the demo's developer (team-checkout)
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "pavedroad demo",
    "GIT_AUTHOR_EMAIL": "demo@pavedroad.invalid",
    "GIT_COMMITTER_NAME": "pavedroad demo",
    "GIT_COMMITTER_EMAIL": "demo@pavedroad.invalid",
}
DEPLOY_FILE = """\
process:
  command: exec {python} service.py
  health: /healthz
  startup_seconds: 15
  stop_grace_seconds: 2
analysis:
  interval_seconds: 0.5
  window_seconds: 4
  warmup_seconds: 30     # no traffic yet while 1.0.0 is watched: not a failure
  bad_samples_to_fail: 2
  max_error_rate: 0.05
"""
CATALOG_FILE = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: {name}
  description: The tiny service `pavedroad demo-rollback` deploys and rolls back.
  annotations:
    backstage.io/source-location: url:{repository}
spec:
  type: service
  lifecycle: experimental
  owner: team-checkout
"""


def _git(work: Path, *args: str) -> str:
    result = git(list(args), cwd=work, extra_env=GIT_IDENTITY)
    if result.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


def make_repository(scratch: Path) -> Path:
    """A git repository holding the service: 1.0.0 healthy, 1.1.0 answering 500s."""
    work = scratch / NAME
    work.mkdir(parents=True)
    shutil.copy(SERVICE, work / "service.py")
    (work / ".pavedroad").mkdir()
    (work / ".pavedroad" / "deploy.yaml").write_text(DEPLOY_FILE.format(python=sys.executable))
    (work / "VERSION").write_text("1.0.0\n")
    _git(work, "init", "--quiet", "-b", "main")
    _git(work, "add", "--all")
    _git(work, "commit", "--quiet", "-m", "1.0.0: the tiny service")
    _git(work, "tag", "1.0.0")
    (work / "VERSION").write_text("1.1.0\n")
    (work / "FAIL_RATE").write_text("1.0\n")  # every request to / answers 500
    _git(work, "add", "--all")
    _git(work, "commit", "--quiet", "-m", "1.1.0: broken on purpose")
    _git(work, "tag", "1.1.0")
    return work


def register(runtime: Runtime, folder: Path, repository: Path) -> None:
    """Register (or refresh) the component's catalog-info.yaml, which names ``repository``."""
    path = folder / "catalog-info.yaml"
    path.write_text(CATALOG_FILE.format(name=NAME, repository=repository.as_uri()))
    actor = Actor.system("demo")
    with runtime.db.session() as session:
        location = catalog_service.find_location(session, "file", str(path))
        if location is None:
            catalog_service.register_locations(
                session, runtime.catalog, [("file", str(path))], actor=actor
            )
        else:
            catalog_service.refresh_locations(session, runtime.catalog, [location.id], actor=actor)


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except OSError as error:
        return 0, str(error)


class Load:
    """Calls ``url`` about 25 times a second on a thread; counts the answers' status codes."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.codes: Counter[int] = Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="demo-load", daemon=True)

    def start(self) -> Load:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            self.codes[get(self.url)[0]] += 1
            self._stop.wait(0.04)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)


def deploy_and_wait(runtime: Runtime, version: str) -> Deployment:
    deployment = service.deploy(
        runtime,
        component_ref=REF,
        environment=ENVIRONMENT,
        version=version,
        actor=ACTOR,
        trigger="demo",
        start=False,
    )
    runner.submit(runtime, deployment.id)
    return runner.wait_for(runtime, deployment.id, timeout=120)


def _proxy_url(deployment: Deployment) -> str | None:
    port = deployment.target_state.get("proxy_port")
    return f"http://127.0.0.1:{port}" if isinstance(port, int) else None


def _describe_samples(analysis: dict[str, Any]) -> list[str]:
    lines = []
    for sample in analysis.get("samples") or []:
        value = sample.get("value")
        shown = f"{value:.1%}" if isinstance(value, float) else str(value)
        verdict = {True: "ok", False: "bad", None: "no data"}.get(sample.get("ok"), "?")
        lines.append(f"    {sample.get('at', '')}  {shown}  {verdict}")
    return lines


def run_demo(echo: Any = typer.echo) -> bool:
    """The demo; True when 1.1.0 was rolled back and 1.0.0 serves again through the proxy."""
    settings = get_settings()
    runtime = runtime_for_cli(settings)
    scratch = settings.data_dir / "demo-rollback" / uuid.uuid4().hex[:8]
    started: set[int] = set()
    load: Load | None = None
    try:
        repository = make_repository(scratch)
        register(runtime, settings.data_dir / "demo-rollback", repository)
        echo(f"repository {repository} (1.0.0 healthy, 1.1.0 answers 500s)")
        good = deploy_and_wait(runtime, "1.0.0")
        started.update(_pids(good))
        echo(f"deployed 1.0.0 to {ENVIRONMENT}: {good.status}")
        url = _proxy_url(good)
        if good.status != "succeeded" or url is None:
            echo(f"1.0.0 did not deploy: {good.error}")
            return False
        echo(f"proxy {url}: {get(url + '/')[1].strip()}")
        load = Load(url + "/").start()
        time.sleep(1.0)
        bad = deploy_and_wait(runtime, "1.1.0")
        started.update(_pids(bad))
        load.stop()
        with runtime.db.read_session() as session:
            state = session.get(EnvironmentState, (REF, ENVIRONMENT))
            live = session.get(Deployment, state.current_id) if state and state.current_id else None
        if live is not None:
            started.update(_pids(live))
        echo(f"deployed 1.1.0 to {ENVIRONMENT}: {bad.status}")
        echo(f"load through the proxy: {dict(sorted(load.codes.items()))} (status: requests)")
        analysis = dict(bad.evidence.get("analysis") or {})
        if bad.status != "rolled_back" or live is None:
            echo(f"no rollback: {bad.error or analysis.get('reason')}")
            return False
        threshold = analysis.get("threshold")
        shown = f"{threshold:.1%}" if analysis.get("check") == "error_rate" else str(threshold)
        echo(f"ROLLED BACK: {bad.error}")
        echo(f"  check: {analysis.get('check')}, threshold {shown}")
        echo("  samples (at, value, verdict):")
        for line in _describe_samples(analysis):
            echo(line)
        code, body = get(url + "/")
        echo(f"now live: {live.version} ({live.kind}); GET {url}/ -> {code} {body.strip()}")
        return live.version == "1.0.0" and code == 200 and "version 1.0.0" in body
    finally:
        if load is not None:
            load.stop()
        for pid in sorted(started):
            if is_alive(pid):
                stop_group(pid, grace_seconds=2.0)
        stop_proxy(REF, ENVIRONMENT)
        runtime.close()


def _pids(deployment: Deployment) -> set[int]:
    pid = deployment.target_state.get("pid")
    return {pid} if isinstance(pid, int) else set()


def demo_rollback_command() -> None:
    """Deploy a tiny service, then a broken version of it, and watch it roll back."""
    raise typer.Exit(0 if run_demo() else 1)
