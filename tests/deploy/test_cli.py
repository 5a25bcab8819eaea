"""``pavedroad deploy``, ``pavedroad rollback`` and ``pavedroad deployments list|show`` as the
operator, deploying the tiny service as real local processes (the built-in process target)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from pavedroad.cli import app
from pavedroad.config import get_settings
from pavedroad.deploy.models import Deployment
from pavedroad.deploy.runner import run_jobs
from pavedroad.deploy.targets.proxy import stop_proxy
from pavedroad.runtime import Runtime, build_runtime
from tests.conftest import git
from tests.deploy.service_support import finished, memory_runtime
from tests.deploy.target_support import TINY_SERVICE
from tests.pipelines.engine_support import commit_files, make_repository
from tests.pipelines.trigger_support import register_component

runner = CliRunner()
REF = "component:default/tiny"
DEPLOY_FILE = f"""process:
  command: exec {sys.executable} service.py
  health: /healthz
  startup_seconds: 15
  stop_grace_seconds: 1
analysis:
  interval_seconds: 0.2
  window_seconds: 1
  warmup_seconds: 10  # no traffic in these tests: the window ends inside the warm-up
"""


@pytest.fixture
def cli_runtime(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Runtime]:
    monkeypatch.setenv("PAVEDROAD_DATABASE_URL", database_url)
    monkeypatch.setenv("PAVEDROAD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    runtime = build_runtime(get_settings())
    repository = make_repository(
        tmp_path,
        {
            ".pavedroad/deploy.yaml": DEPLOY_FILE,
            "service.py": TINY_SERVICE.read_text(),
            "VERSION": "1.0.0",
        },
        name="tiny",
    )
    work = tmp_path / "work" / "tiny"
    git("tag", "1.0.0", cwd=work)
    commit_files(work, {"VERSION": "1.1.0"}, "1.1.0")
    git("tag", "1.1.0", cwd=work)
    git("push", "--quiet", "--tags", "origin", "main", cwd=work)
    register_component(runtime, tmp_path / "catalog", "tiny", repository)
    yield runtime
    for environment in ("dev", "staging"):
        stop_proxy(REF, environment)
    with runtime.db.read_session() as session:
        pids = [d.target_state.get("pid") for d in session.scalars(select(Deployment))]
    for pid in pids:
        if isinstance(pid, int):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)  # the service's own process group
    runtime.close()
    get_settings.cache_clear()
    shutil.rmtree(tmp_path / "data", ignore_errors=True)


def test_deploy_wait_runs_the_version_and_list_shows_it(cli_runtime: Runtime) -> None:
    deployed = runner.invoke(
        app, ["deploy", "tiny", "--env", "dev", "--version", "1.0.0", "--wait"]
    )
    assert deployed.exit_code == 0, deployed.stderr
    assert "succeeded" in deployed.stderr and "healthy" in deployed.stderr
    deployment_id = deployed.stdout.splitlines()[0]
    listed = runner.invoke(app, ["deployments", "list", "tiny", "-o", "json"])
    assert [d["id"] for d in json.loads(listed.stdout)] == [deployment_id]
    shown = runner.invoke(app, ["deployments", "show", deployment_id, "-o", "json"])
    assert json.loads(shown.stdout)["targetState"]["pid"]


def test_rollback_wait_brings_back_the_earlier_version(cli_runtime: Runtime) -> None:
    for version in ("1.0.0", "1.1.0"):
        done = runner.invoke(app, ["deploy", "tiny", "-e", "dev", "--version", version, "--wait"])
        assert done.exit_code == 0, done.stderr
    back = runner.invoke(app, ["rollback", "tiny", "--env", "dev", "--wait"])
    assert back.exit_code == 0, back.stderr
    with cli_runtime.db.read_session() as session:
        row = session.get(Deployment, back.stdout.splitlines()[0])
    assert row is not None and row.kind == "rollback" and row.version == "1.0.0"


def test_a_version_that_does_not_exist_exits_1_naming_the_versions(cli_runtime: Runtime) -> None:
    result = runner.invoke(app, ["deploy", "tiny", "--env", "dev", "--version", "7.7.7"])
    assert result.exit_code == 1
    assert "no version '7.7.7'" in result.stderr and "1.1.0" in result.stderr


def test_without_wait_a_server_takes_the_deployment(cli_runtime: Runtime) -> None:
    result = runner.invoke(app, ["deploy", "tiny", "--env", "dev", "--version", "1.0.0"])
    assert result.exit_code == 0, result.stderr
    assert "a running server carries it out" in result.stderr
    deployment_id = result.stdout.splitlines()[0]
    server, target = memory_runtime(cli_runtime, cli_runtime.settings.model_copy())
    with cli_runtime.db.session() as session:  # the server's environments use its own target
        row = session.get(Deployment, deployment_id)
        assert row is not None and row.status == "queued"
        row.target = "memory"
    run_jobs(server)
    assert finished(server, deployment_id).status == "succeeded"
    assert target.calls == [("deploy", "1.0.0")]
