"""Deploys, refusals, rollbacks and promotions through the deploy service, on SQLite and
PostgreSQL, with a real git repository and a tiny in-memory target plugin."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from pavedroad.audit.models import AuditEvent
from pavedroad.config import Settings
from pavedroad.deploy import service
from pavedroad.deploy.models import Deployment
from pavedroad.runtime import Runtime
from pavedroad.security.models import GateDecision
from tests.deploy.service_support import (
    DEVELOPER,
    commit_of,
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


def events(runtime: Runtime, name: str) -> list[AuditEvent]:
    with runtime.db.read_session() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.event == name)))


def deploy(runtime: Runtime, ref: str, version: str, environment: str = "dev") -> Deployment:
    return service.deploy(
        runtime, component_ref=ref, environment=environment, version=version, actor=DEVELOPER
    )


class TestDeploy:
    def test_a_tag_is_deployed_recorded_and_becomes_current(self, deploy_runtime, tmp_path: Path):
        runtime, target = deploy_runtime
        ref, work = tagged_component(runtime, tmp_path)
        started = deploy(runtime, ref, "1.0.0")
        done = finished(runtime, started.id)
        assert done.status == "succeeded", done.error
        assert done.commit == commit_of(work, "1.0.0")
        assert done.triggered_by == DEVELOPER.ref and done.trigger == "manual"
        assert done.evidence["gate"]["decision"] == "none"
        assert "never judged" in done.evidence["gate"]["note"]
        assert "analysis" in done.evidence
        state = environment(runtime, ref)
        assert state.current_id == done.id == state.last_good_id
        assert state.busy_with is None
        assert target.running == {done.id}
        assert [e.details["deployment"] for e in events(runtime, "deployment.started")] == [done.id]
        assert len(events(runtime, "deployment.succeeded")) == 1

    def test_a_branch_and_a_commit_are_versions_too(self, deploy_runtime, tmp_path: Path):
        runtime, _ = deploy_runtime
        ref, work = tagged_component(runtime, tmp_path)
        by_branch = finished(runtime, deploy(runtime, ref, "main").id)
        assert by_branch.commit == commit_of(work, "1.1.0")
        short = commit_of(work, "1.0.0")[:10]
        by_commit = finished(runtime, deploy(runtime, ref, short).id)
        assert by_commit.commit == commit_of(work, "1.0.0")
        assert by_commit.previous_id == by_branch.id

    def test_a_version_that_does_not_exist_is_refused_with_the_versions_there_are(
        self, deploy_runtime, tmp_path: Path
    ):
        runtime, target = deploy_runtime
        ref, _ = tagged_component(runtime, tmp_path)
        with pytest.raises(service.DeployRefused) as refused:
            deploy(runtime, ref, "9.9.9")
        assert "no version '9.9.9'" in refused.value.message
        assert "1.0.0" in refused.value.message and "1.1.0" in refused.value.message
        with runtime.db.read_session() as session:
            row = session.get(Deployment, refused.value.details["deployment_id"])
        assert row is not None and row.status == "refused" and row.finished_at is not None
        assert len(events(runtime, "deployment.refused")) == 1
        assert target.calls == []

    def test_a_target_that_raises_fails_the_deploy_and_the_previous_version_stays(
        self, deploy_runtime, tmp_path: Path
    ):
        runtime, target = deploy_runtime
        ref, _ = tagged_component(runtime, tmp_path)
        first = finished(runtime, deploy(runtime, ref, "1.0.0").id)
        target.fail_with = "cannot reach the cluster at 10.0.0.1:6443: connection refused"
        failed = finished(runtime, deploy(runtime, ref, "1.1.0").id)
        assert failed.status == "failed"
        assert "connection refused" in (failed.error or "")
        state = environment(runtime, ref)
        assert state.current_id == first.id and state.busy_with is None
        assert target.running == {first.id}
        assert len(events(runtime, "deployment.failed")) == 1

    def test_a_failing_build_fails_the_deploy_before_the_target_is_asked(
        self, deploy_runtime, tmp_path: Path
    ):
        runtime, target = deploy_runtime
        ref, _ = tagged_component(
            runtime, tmp_path, deploy_file="process:\n  command: ./run\n  build: echo no; exit 3\n"
        )
        failed = finished(runtime, deploy(runtime, ref, "1.0.0").id)
        assert failed.status == "failed"
        assert failed.error == "the build `echo no; exit 3` exited with 3"
        assert any(line.endswith(" no") for line in failed.evidence["log"])
        assert target.calls == [] and environment(runtime, ref).busy_with is None

    def test_a_deploy_during_a_freeze_is_refused_and_says_until_when(
        self, runtime: Runtime, settings: Settings, tmp_path: Path
    ):
        now = datetime.now(UTC)
        end = now + timedelta(hours=2)
        frozen = deploy_settings(settings)
        values = frozen.deploy.model_dump()
        values["environments"][0]["freezes"] = [
            {"start": now - timedelta(hours=1), "end": end, "reason": "end-of-year freeze"}
        ]
        frozen = frozen.model_copy(update={"deploy": frozen.deploy.model_validate(values)})
        built, target = memory_runtime(runtime, frozen)
        ref, _ = tagged_component(built, tmp_path)
        with pytest.raises(service.DeployRefused) as refused:
            deploy(built, ref, "1.0.0")
        assert f"dev is frozen until {end.isoformat()}" in refused.value.message
        assert "end-of-year freeze" in refused.value.message
        assert target.calls == []
        assert events(built, "deployment.refused")[0].details["reason"] == refused.value.message

    def test_two_deploys_at_once_one_is_refused_naming_the_other(
        self, deploy_runtime, tmp_path: Path
    ):
        runtime, target = deploy_runtime
        ref, _ = tagged_component(runtime, tmp_path)
        target.hold.set()
        first = deploy(runtime, ref, "1.0.0")
        try:
            with pytest.raises(service.DeployRefused) as refused:
                deploy(runtime, ref, "1.1.0")
        finally:
            target.release.set()
        assert f"dev is deploying {first.id}" in refused.value.message
        assert finished(runtime, first.id).status == "succeeded"
        assert target.calls == [("deploy", "1.0.0")]

    def test_two_deploys_started_in_the_same_instant_one_wins(self, deploy_runtime, tmp_path: Path):
        runtime, target = deploy_runtime
        ref, _ = tagged_component(runtime, tmp_path)
        target.hold.set()
        barrier = threading.Barrier(2)
        outcomes: list[object] = []

        def race(version: str) -> None:
            barrier.wait()
            try:
                outcomes.append(deploy(runtime, ref, version))
            except service.DeployRefused as error:
                outcomes.append(error)

        threads = [threading.Thread(target=race, args=(v,)) for v in ("1.0.0", "1.1.0")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        target.release.set()
        won = [o for o in outcomes if isinstance(o, Deployment)]
        lost = [o for o in outcomes if isinstance(o, service.DeployRefused)]
        assert len(won) == 1 and len(lost) == 1
        assert f"dev is deploying {won[0].id}" in lost[0].message
        assert finished(runtime, won[0].id).status == "succeeded"

    def test_other_environments_are_not_held_by_a_deploy(self, deploy_runtime, tmp_path: Path):
        runtime, target = deploy_runtime
        ref, _ = tagged_component(runtime, tmp_path)
        target.hold.set()
        first = deploy(runtime, ref, "1.0.0", "dev")
        second = deploy(runtime, ref, "1.0.0", "staging")
        target.release.set()
        assert finished(runtime, first.id).status == "succeeded"
        assert finished(runtime, second.id).status == "succeeded"

    def test_a_commit_the_security_gate_blocked_is_refused_with_its_reasons(
        self, deploy_runtime, tmp_path: Path
    ):
        runtime, target = deploy_runtime
        ref, work = tagged_component(runtime, tmp_path)
        with runtime.db.session() as session:
            session.add(
                GateDecision(
                    run_id=None,
                    component_ref=ref,
                    commit=commit_of(work, "1.1.0"),
                    blocked=True,
                    reasons=[{"reason": "a secret in the code"}],
                    excepted=[],
                    decided_at=datetime.now(UTC),
                )
            )
        with pytest.raises(service.DeployRefused) as refused:
            deploy(runtime, ref, "1.1.0")
        assert "security gate blocked" in refused.value.message
        assert "a secret in the code" in refused.value.message
        assert target.calls == []

    def test_a_commit_the_gate_passed_says_so(self, deploy_runtime, tmp_path: Path):
        runtime, _ = deploy_runtime
        ref, work = tagged_component(runtime, tmp_path)
        with runtime.db.session() as session:
            session.add(
                GateDecision(
                    run_id="run-1",
                    component_ref=ref,
                    commit=commit_of(work, "1.0.0"),
                    blocked=False,
                    reasons=[],
                    excepted=[],
                    decided_at=datetime.now(UTC),
                )
            )
        done = finished(runtime, deploy(runtime, ref, "1.0.0").id)
        assert done.evidence["gate"] == {"decision": "passed", "run_id": "run-1"}

    def test_an_invalid_deploy_file_is_refused_with_its_line(self, deploy_runtime, tmp_path: Path):
        runtime, _ = deploy_runtime
        ref, _ = tagged_component(
            runtime, tmp_path, deploy_file="process:\n  command: ./run\n  helth: /healthz\n"
        )
        with pytest.raises(service.DeployRefused) as refused:
            deploy(runtime, ref, "1.0.0")
        assert ".pavedroad/deploy.yaml at " in refused.value.message
        assert ":3: process.helth: unknown key 'helth'" in refused.value.message
        assert refused.value.details["problems"][0]["line"] == 3

    def test_an_unknown_environment_is_not_found(self, deploy_runtime, tmp_path: Path):
        runtime, _ = deploy_runtime
        ref, _ = tagged_component(runtime, tmp_path)
        with pytest.raises(service.NotFoundError, match="environments: dev, staging, production"):
            deploy(runtime, ref, "1.0.0", "qa")


class TestRollbackAndPromote:
    def test_rollback_goes_back_to_the_last_good_version(self, deploy_runtime, tmp_path: Path):
        runtime, target = deploy_runtime
        ref, _ = tagged_component(runtime, tmp_path)
        first = finished(runtime, deploy(runtime, ref, "1.0.0").id)
        second = finished(runtime, deploy(runtime, ref, "1.1.0").id)
        back = service.rollback(runtime, component_ref=ref, environment="dev", actor=DEVELOPER)
        done = finished(runtime, back.id)
        assert done.status == "succeeded" and done.kind == "rollback"
        assert done.version == "1.0.0" and done.rollback_of == second.id
        assert target.calls[-1] == ("rollback", "1.0.0")
        assert target.running == {first.id}
        assert environment(runtime, ref).current_id == done.id

    def test_rollback_to_a_named_version(self, deploy_runtime, tmp_path: Path):
        runtime, _ = deploy_runtime
        ref, _ = tagged_component(runtime, tmp_path)
        finished(runtime, deploy(runtime, ref, "1.0.0").id)
        finished(runtime, deploy(runtime, ref, "1.1.0").id)
        finished(runtime, deploy(runtime, ref, "main").id)
        back = service.rollback(
            runtime, component_ref=ref, environment="dev", actor=DEVELOPER, to="1.0.0"
        )
        assert finished(runtime, back.id).version == "1.0.0"

    def test_rollback_with_nothing_before_is_not_found(self, deploy_runtime, tmp_path: Path):
        runtime, _ = deploy_runtime
        ref, _ = tagged_component(runtime, tmp_path)
        finished(runtime, deploy(runtime, ref, "1.0.0").id)
        with pytest.raises(service.NotFoundError, match="no rollback to make"):
            service.rollback(runtime, component_ref=ref, environment="dev", actor=DEVELOPER)

    def test_redeploy_of_an_earlier_deployment(self, deploy_runtime, tmp_path: Path):
        runtime, _ = deploy_runtime
        ref, work = tagged_component(runtime, tmp_path)
        first = finished(runtime, deploy(runtime, ref, "1.0.0").id)
        finished(runtime, deploy(runtime, ref, "1.1.0").id)
        again = service.redeploy(
            runtime, component_ref=ref, environment="dev", deployment_id=first.id, actor=DEVELOPER
        )
        done = finished(runtime, again.id)
        assert done.kind == "redeploy" and done.commit == commit_of(work, "1.0.0")

    def test_promotion_deploys_what_runs_in_the_earlier_environment(
        self, deploy_runtime, tmp_path: Path
    ):
        runtime, _ = deploy_runtime
        ref, _ = tagged_component(runtime, tmp_path)
        dev = finished(runtime, deploy(runtime, ref, "1.1.0").id)
        promoted = service.promote(
            runtime,
            component_ref=ref,
            from_environment="dev",
            to_environment="staging",
            actor=DEVELOPER,
        )
        done = finished(runtime, promoted.id)
        assert done.environment == "staging" and done.trigger == "promotion"
        assert done.version == "1.1.0" and done.commit == dev.commit
        assert done.evidence["promoted_from"] == dev.id

    def test_promotion_from_an_empty_environment_is_not_found(self, deploy_runtime, tmp_path: Path):
        runtime, _ = deploy_runtime
        ref, _ = tagged_component(runtime, tmp_path)
        with pytest.raises(service.NotFoundError, match="Nothing runs in dev"):
            service.promote(
                runtime,
                component_ref=ref,
                from_environment="dev",
                to_environment="staging",
                actor=DEVELOPER,
            )


class TestReading:
    def test_environments_and_history(self, deploy_runtime, tmp_path: Path):
        runtime, _ = deploy_runtime
        ref, _ = tagged_component(runtime, tmp_path)
        first = finished(runtime, deploy(runtime, ref, "1.0.0").id)
        second = finished(runtime, deploy(runtime, ref, "1.1.0").id)
        with runtime.db.read_session() as session:
            environments = service.environments_of(session, runtime.settings, ref)
            rows = service.history(session, ref, "dev")
        assert [e["name"] for e in environments] == ["dev", "staging", "production"]
        assert environments[0]["current"]["id"] == second.id
        assert environments[1]["current"] is None
        assert [r.id for r in rows] == [second.id, first.id]
