"""The platform restarted in the middle of a deploy or an analysis window: the deployment's
lease runs out and recovery gives it a recorded end, keeping a version running."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pavedroad.config import Settings
from pavedroad.deploy import service
from pavedroad.deploy.models import Deployment, EnvironmentState
from pavedroad.deploy.runner import recover_deployments, resume_environments
from pavedroad.runtime import Runtime
from tests.deploy.service_support import (
    DEVELOPER,
    deploy_settings,
    environment,
    finished,
    memory_runtime,
    tagged_component,
)


@pytest.fixture
def deploy_runtime(runtime: Runtime, settings: Settings):  # type: ignore[no-untyped-def]
    built, target = memory_runtime(runtime, deploy_settings(settings))
    yield built, target


def abandoned(runtime: Runtime, ref: str, version: str, status: str) -> Deployment:
    """A deployment whose process died while it was ``status`` (its lease ran out)."""
    queued = service.deploy(
        runtime, component_ref=ref, environment="dev", version=version, actor=DEVELOPER, start=False
    )
    with runtime.db.session() as session:
        row = session.get(Deployment, queued.id)
        assert row is not None
        row.status = status
        row.claimed_by = "gone-host:4242:abcdef"
        row.lease_expires_at = datetime.now(UTC) - timedelta(seconds=5)
        if status == "analysing":
            row.target_state = {"id": row.id, "version": version}
            state = session.get(EnvironmentState, (ref, "dev"))
            assert state is not None
            state.current_id = row.id
        return row


class TestRecovery:
    def test_a_deploy_cut_short_is_failed_and_the_previous_version_stays_current(
        self, deploy_runtime, tmp_path: Path
    ):
        runtime, target = deploy_runtime
        ref, _ = tagged_component(runtime, tmp_path)
        first = finished(runtime, service.deploy(
            runtime, component_ref=ref, environment="dev", version="1.0.0", actor=DEVELOPER
        ).id)  # fmt: skip
        cut = abandoned(runtime, ref, "1.1.0", "deploying")
        recovered = recover_deployments(runtime)
        assert recovered.failed == [cut.id] and recovered.redeployed == []
        with runtime.db.read_session() as session:
            row = session.get(Deployment, cut.id)
        assert row is not None and row.status == "failed" and row.finished_at is not None
        assert "gone-host:4242:abcdef stopped answering" in (row.error or "")
        assert "keeps the version that ran before" in (row.error or "")
        state = environment(runtime, ref)
        assert state.current_id == first.id and state.busy_with is None
        assert target.running == {first.id}
        assert recover_deployments(runtime).failed == []  # once

    def test_when_nothing_runs_any_more_the_last_good_version_is_deployed_again(
        self, deploy_runtime, tmp_path: Path
    ):
        runtime, target = deploy_runtime
        ref, _ = tagged_component(runtime, tmp_path)
        first = finished(runtime, service.deploy(
            runtime, component_ref=ref, environment="dev", version="1.0.0", actor=DEVELOPER
        ).id)  # fmt: skip
        abandoned(runtime, ref, "1.1.0", "deploying")
        target.running.clear()  # the old version died with the platform
        recovered = recover_deployments(runtime)
        assert len(recovered.redeployed) == 1
        again = finished(runtime, recovered.redeployed[0])
        assert again.status == "succeeded" and again.kind == "redeploy"
        assert again.commit == first.commit and again.trigger == "automatic"
        assert environment(runtime, ref).current_id == again.id
        assert target.running == {again.id}

    def test_an_analysis_cut_short_keeps_the_version_unanalysed_and_not_last_good(
        self, deploy_runtime, tmp_path: Path
    ):
        runtime, _ = deploy_runtime
        ref, _ = tagged_component(runtime, tmp_path)
        first = finished(runtime, service.deploy(
            runtime, component_ref=ref, environment="dev", version="1.0.0", actor=DEVELOPER
        ).id)  # fmt: skip
        cut = abandoned(runtime, ref, "1.1.0", "analysing")
        recovered = recover_deployments(runtime)
        assert recovered.unanalysed == [cut.id]
        with runtime.db.read_session() as session:
            row = session.get(Deployment, cut.id)
        assert row is not None and row.status == "succeeded"
        assert row.evidence["analysis"]["verdict"] == "unanalysed"
        assert "during the health analysis" in row.evidence["analysis"]["reason"]
        state = environment(runtime, ref)
        assert state.current_id == cut.id and state.last_good_id == first.id
        assert state.busy_with is None

    def test_a_deploy_whose_runner_is_alive_is_left_alone(self, deploy_runtime, tmp_path: Path):
        runtime, target = deploy_runtime
        ref, _ = tagged_component(runtime, tmp_path)
        target.hold.set()
        running = service.deploy(
            runtime, component_ref=ref, environment="dev", version="1.0.0", actor=DEVELOPER
        )
        try:
            assert recover_deployments(runtime).failed == []
        finally:
            target.release.set()
        assert finished(runtime, running.id).status == "succeeded"


class TestStartUp:
    def test_the_live_versions_are_asked_after_and_one_that_stopped_is_brought_back(
        self, deploy_runtime, tmp_path: Path
    ):
        runtime, target = deploy_runtime
        ref, _ = tagged_component(runtime, tmp_path)
        first = finished(runtime, service.deploy(
            runtime, component_ref=ref, environment="dev", version="1.0.0", actor=DEVELOPER
        ).id)  # fmt: skip
        assert resume_environments(runtime) == {}  # it runs: nothing to do

        target.running.clear()  # the machine restarted: nothing runs any more
        stopped = resume_environments(runtime)

        assert list(stopped) == [first.id]
        again = stopped[first.id]
        assert again is not None
        assert finished(runtime, again).status == "succeeded"  # the last good version, again
        assert environment(runtime, ref).current_id == again
        assert target.running == {again}
