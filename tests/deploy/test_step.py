"""The ``deploy`` pipeline step: deploys the run's commit and waits for the deployment's end;
fails when the gate blocked the commit, the deploy failed, or the person may not deploy there."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from pavedroad.config import Settings
from pavedroad.core.actors import Actor
from pavedroad.deploy.models import Deployment
from pavedroad.pipelines.service import start_run
from pavedroad.pipelines.steptypes import PLACEHOLDERS
from pavedroad.runtime import Runtime
from pavedroad.security.models import GateDecision
from tests.conftest import git
from tests.deploy.service_support import (
    DEPLOY_FILE,
    deploy_settings,
    memory_runtime,
    tagged_component,
)
from tests.pipelines.engine_support import run_now, steps_of

DEVELOPER = Actor(ref="user:default/dev")


def pipeline(environment: str) -> str:
    return (
        "stages:\n  - name: ship\n    steps:\n"
        f"      - uses: deploy\n        with: {{environment: {environment}}}\n"
    )


@pytest.fixture
def deploy_runtime(runtime: Runtime, settings: Settings):  # type: ignore[no-untyped-def]
    built, target = memory_runtime(runtime, deploy_settings(settings))
    yield built, target


def run_deploy(
    runtime: Runtime,
    tmp_path: Path,
    environment: str,
    actor: Actor = DEVELOPER,
    deploy_file: str | None = DEPLOY_FILE,
):  # type: ignore[no-untyped-def]
    ref, work = tagged_component(runtime, tmp_path)
    (work / ".pavedroad" / "pipeline.yaml").write_text(pipeline(environment))
    if deploy_file is None:
        git("rm", "--quiet", ".pavedroad/deploy.yaml", cwd=work)
    git("add", "--all", cwd=work)
    git("commit", "--quiet", "-m", "pipeline", cwd=work)
    git("push", "--quiet", "origin", "main", cwd=work)
    repository = (tmp_path / "remotes" / "shop.git").as_uri()
    run = start_run(
        runtime, repository=repository, trigger="manual", actor=actor, component_ref=ref
    )
    return ref, run


def the_step(runtime: Runtime, run_id: str):  # type: ignore[no-untyped-def]
    steps = steps_of(runtime, run_id)
    return next(step for key, step in steps.items() if key.endswith("deploy"))


def test_the_deploy_step_is_no_placeholder_any_more() -> None:
    assert "deploy" not in PLACEHOLDERS


def test_the_step_deploys_the_runs_commit_and_waits_for_its_end(deploy_runtime, tmp_path: Path):
    runtime, target = deploy_runtime
    _, run = run_deploy(runtime, tmp_path, "dev")
    assert run_now(runtime, run.id) == "succeeded"
    step = the_step(runtime, run.id)
    assert step.status == "succeeded" and "to dev: succeeded" in (step.summary or "")
    with runtime.db.read_session() as session:
        deployment = session.scalars(select(Deployment)).one()
    assert deployment.run_id == run.id and deployment.trigger == "pipeline"
    assert deployment.commit == run.commit and deployment.triggered_by == DEVELOPER.ref
    assert target.running == {deployment.id}


def test_the_step_fails_when_the_gate_blocked_the_runs_commit(deploy_runtime, tmp_path: Path):
    runtime, target = deploy_runtime
    ref, run = run_deploy(runtime, tmp_path, "dev")
    with runtime.db.session() as session:
        session.add(
            GateDecision(
                run_id=run.id,
                component_ref=ref,
                commit=run.commit,
                blocked=True,
                reasons=[{"reason": "a secret in the code"}],
                excepted=[],
                decided_at=datetime.now(UTC),
            )
        )
    assert run_now(runtime, run.id) == "failed"
    step = the_step(runtime, run.id)
    assert "security gate blocked" in (step.summary or "") and target.calls == []


def test_the_step_fails_when_the_deploy_fails(deploy_runtime, tmp_path: Path):
    runtime, target = deploy_runtime
    target.fail_with = "the target is unreachable"
    _, run = run_deploy(runtime, tmp_path, "dev")
    assert run_now(runtime, run.id) == "failed"
    summary = the_step(runtime, run.id).summary or ""
    assert "failed" in summary and "the target is unreachable" in summary


def test_a_developers_run_may_not_deploy_to_production(deploy_runtime, tmp_path: Path):
    runtime, target = deploy_runtime
    _, run = run_deploy(runtime, tmp_path, "production")
    assert run_now(runtime, run.id) == "failed"
    summary = the_step(runtime, run.id).summary or ""
    assert "user:default/dev may not deploy to production" in summary
    assert target.calls == []


def test_an_automatic_run_the_policy_refuses_is_skipped_and_says_so(deploy_runtime, tmp_path: Path):
    runtime, target = deploy_runtime
    _, run = run_deploy(runtime, tmp_path, "staging", actor=Actor.system("webhook/github"))
    assert run_now(runtime, run.id) == "succeeded"
    step = the_step(runtime, run.id)
    assert step.status == "skipped"
    assert "system:pipeline may not deploy to staging" in (step.summary or "")
    assert "promote it from the portal or the CLI" in (step.summary or "")
    assert target.calls == []


def test_a_repository_without_a_deploy_file_is_skipped(deploy_runtime, tmp_path: Path):
    runtime, target = deploy_runtime
    _, run = run_deploy(runtime, tmp_path, "dev", deploy_file=None)
    assert run_now(runtime, run.id) == "succeeded"
    step = the_step(runtime, run.id)
    assert step.status == "skipped" and "no .pavedroad/deploy.yaml" in (step.summary or "")
    assert target.calls == []
