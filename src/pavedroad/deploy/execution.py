"""Carrying out one deployment: check out the commit, build it, hand it to the environment's
target, watch its health (:func:`pavedroad.deploy.analysis.analyse`), and on a breach in
``enforce`` mode roll back to the last good version on the same target — recording each phase
while this process holds the deployment's lease (:mod:`pavedroad.deploy.runner` keeps it)."""

from __future__ import annotations

import logging
import re
import subprocess
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pavedroad.audit import service as audit
from pavedroad.core.actors import Actor
from pavedroad.deploy.component_config import analysis_config, target_config
from pavedroad.deploy.hooks import DeploymentTarget, TargetContext, TargetError, TargetResult
from pavedroad.deploy.models import Deployment, EnvironmentState
from pavedroad.deploy.notifications import notify_deployment
from pavedroad.pipelines import workspace

if TYPE_CHECKING:
    from pavedroad.runtime import Runtime

log = logging.getLogger(__name__)
AUTOMATIC = Actor.system("deploy")
BUILD_TIMEOUT_SECONDS = 900
MAX_LOG_LINES = 400


class LeaseLost(RuntimeError):  # noqa: N818 - reads as what it is
    """Another process ended or took this deployment (its lease ran out)."""


@dataclass(frozen=True, slots=True)
class AnalysisResult:
    """What the runner needs of an analysis, whether or not the analysis capability exists."""

    verdict: str
    reason: str
    evidence: dict[str, Any]


def targets_of(runtime: Runtime) -> dict[str, DeploymentTarget]:
    """The deployment targets plugins contribute, by name (the first of a name wins)."""
    found: dict[str, DeploymentTarget] = {}
    for group in reversed(
        runtime.plugins.hook.pavedroad_deployment_targets(settings=runtime.settings)
    ):
        for target in group:
            found.setdefault(target.name, target)
    return found


class Run:
    """One deployment carried out by this process."""

    def __init__(self, runtime: Runtime, deployment_id: str, worker: str) -> None:
        self.runtime = runtime
        self.id = deployment_id
        self.worker = worker
        self.lines: list[str] = []

    def log(self, line: str) -> None:
        stamp = datetime.now(UTC).strftime("%H:%M:%S")
        self.lines.append(f"{stamp} {line.rstrip()}")
        del self.lines[:-MAX_LOG_LINES]

    def carry_out(self) -> None:
        deployment = self._update(status="deploying", started_at=datetime.now(UTC))
        settings = self.runtime.settings
        target = targets_of(self.runtime).get(deployment.target)
        try:
            if target is None:
                known = ", ".join(sorted(targets_of(self.runtime))) or "none installed"
                raise TargetError(
                    f"there is no deployment target {deployment.target!r} (targets: {known})"
                )
            context = self._context(deployment)
            if deployment.kind == "rollback":
                to = self._state_of(str(deployment.evidence.get("to")))
                self.log(f"rolling back to {deployment.version} on {target.name}")
                result = target.rollback(context, to)
            else:
                self.log(f"deploying {deployment.version} ({deployment.commit}) on {target.name}")
                result = target.deploy(context)
        except (TargetError, workspace.RepositoryUnavailable, BuildError) as error:
            self._fail(deployment, str(error), target)
            return
        except LeaseLost:
            raise
        except Exception as error:
            log.exception("deployment target failed", extra={"deployment": self.id})
            self._fail(deployment, f"the target failed: {type(error).__name__}: {error}", target)
            return
        self.log(f"{deployment.version} runs" + (f" at {result.url}" if result.url else ""))
        deployment = self._deployed(deployment, result)
        if deployment.kind == "rollback":
            self._finish(deployment, "succeeded", healthy=True, good=True)
            return
        config = analysis_config(settings, context.config)
        outcome = self._analyse(deployment, result, dict(context.config))
        self._judge(deployment, outcome, config, target, context)

    # --- phases -----------------------------------------------------------------------

    def _context(self, deployment: Deployment) -> TargetContext:
        settings = self.runtime.settings
        from pavedroad.deploy.service import environment_settings, repository_of_component

        env = environment_settings(settings, deployment.environment)
        with self.runtime.db.read_session() as session:
            repository = repository_of_component(session, deployment.component_ref)
        component = dict(deployment.evidence.get("config") or {})
        config = target_config(component, env.settings)
        home = settings.data_dir / "deploy" / _safe(deployment.component_ref) / env.name
        workspace_dir = home / "workspaces" / self.id
        assert deployment.commit is not None
        workspace.fetch(settings, repository)
        workspace.checkout(settings, repository, deployment.commit, workspace_dir)
        self.log(f"checked out {deployment.commit[:12]} of {repository}")
        build = (config.get("process") or {}).get("build")
        if build:
            self._build(str(build), workspace_dir)
        previous = self._state_of(deployment.previous_id) if deployment.previous_id else None
        return TargetContext(
            deployment_id=self.id,
            component_ref=deployment.component_ref,
            environment=deployment.environment,
            version=deployment.version,
            commit=deployment.commit,
            workspace=workspace_dir,
            config=config,
            previous=previous or None,
            log=self.log,
            runtime=self.runtime,
            data_dir=home,
        )

    def _build(self, command: str, cwd: Path) -> None:
        self.log(f"$ {command}")
        try:
            done = subprocess.run(
                command,
                shell=True,  # the component's own build command, as a pipeline step runs one
                cwd=cwd,
                capture_output=True,
                text=True,
                timeout=BUILD_TIMEOUT_SECONDS,
                check=False,
            )
        except subprocess.TimeoutExpired as error:
            raise BuildError(f"the build did not end within {BUILD_TIMEOUT_SECONDS} s") from error
        for line in (done.stdout + done.stderr).splitlines()[-40:]:
            self.log(line)
        if done.returncode != 0:
            raise BuildError(f"the build `{command}` exited with {done.returncode}")

    def _analyse(
        self, deployment: Deployment, result: TargetResult, config: dict[str, Any]
    ) -> AnalysisResult:
        try:
            from pavedroad.deploy.analysis import analyse
        except ImportError:
            note = "not analysed: the health analysis capability is not installed; kept as healthy"
            self.log(note)
            return AnalysisResult("healthy", note, {"analysed": False})
        self.log("analysing its health")
        try:
            outcome = analyse(
                self.runtime,
                self.id,
                url=result.url,
                metrics_url=result.metrics_url,
                config=config,
                baseline_id=deployment.previous_id,
            )
        except Exception as error:
            log.exception("health analysis failed", extra={"deployment": self.id})
            return AnalysisResult(
                "aborted", f"the analysis failed: {type(error).__name__}: {error}", {}
            )
        return AnalysisResult(outcome.verdict, outcome.reason, dict(outcome.evidence))

    def _judge(
        self,
        deployment: Deployment,
        outcome: AnalysisResult,
        config: dict[str, Any],
        target: DeploymentTarget,
        context: TargetContext,
    ) -> None:
        analysis = {"verdict": outcome.verdict, "reason": outcome.reason, **outcome.evidence}
        self.log(f"analysis: {outcome.verdict}" + (f": {outcome.reason}" if outcome.reason else ""))
        if outcome.verdict != "breached":
            self._finish(deployment, "succeeded", healthy=True, good=True, analysis=analysis)
            return
        # The analysis says which mode it ran in (deploy.yaml's analysis:, else the settings).
        mode = outcome.evidence.get("mode") or (config.get("analysis") or {}).get("mode")
        if mode == "shadow" or config.get("mode") == "shadow":
            analysis["shadow"] = "shadow mode: a breach is reported, the version is kept"
            self._finish(deployment, "succeeded", healthy=False, good=False, analysis=analysis)
            return
        self._roll_back(deployment, analysis, target, context)

    def _roll_back(
        self,
        deployment: Deployment,
        analysis: dict[str, Any],
        target: DeploymentTarget,
        context: TargetContext,
    ) -> None:
        with self.runtime.db.read_session() as session:
            state = session.get(
                EnvironmentState, (deployment.component_ref, deployment.environment)
            )
            good = (
                session.get(Deployment, state.last_good_id)
                if state and state.last_good_id
                else None
            )
        if good is None or good.id == deployment.id:
            why = (
                f"health analysis breached ({analysis['reason']}); no earlier good version "
                "to roll back to, so it keeps running"
            )
            self._finish(
                deployment, "failed", healthy=False, good=False, analysis=analysis, error=why
            )
            return
        started = datetime.now(UTC)
        self.log(f"rolling back to {good.version} ({good.id})")
        back = _rollback_row(deployment, good, started)
        with self.runtime.db.session() as session:
            session.add(back)
        context.previous = dict(deployment.target_state)
        try:
            result = target.rollback(context, dict(good.target_state))
        except Exception as error:
            reason = f"the automatic rollback to {good.version} failed: {error}"
            self.log(reason)
            with self.runtime.db.session() as session:
                row = session.get(Deployment, back.id)
                assert row is not None
                row.status, row.error, row.finished_at = "failed", reason, datetime.now(UTC)
            self._finish(
                deployment, "failed", healthy=False, good=False, analysis=analysis, error=reason
            )
            return
        now = datetime.now(UTC)
        analysis["rollback"] = {
            "to": good.id,
            "version": good.version,
            "rollback_id": back.id,
            "at": now.isoformat(),
            "seconds": round((now - started).total_seconds(), 3),
        }
        reason = f"rolled back to {good.version}: {analysis['reason']}"
        with self.runtime.db.session() as session:
            row = session.get(Deployment, back.id)
            assert row is not None
            row.status, row.target_state = "succeeded", dict(result.state)
            row.deployed_at = row.finished_at = now
            state = lock_state(session, deployment)
            state.current_id = state.last_good_id = back.id
            state.healthy = True
            audit.record(
                session,
                actor=AUTOMATIC,
                event="deployment.rolled_back",
                target=f"{deployment.component_ref}@{deployment.environment}",
                resource_type="deployment",
                details={"deployment": deployment.id, "to": good.id, "reason": analysis["reason"]},
            )
        self._finish(
            deployment, "rolled_back", healthy=True, good=False, analysis=analysis, error=reason,
            current=False,
        )  # fmt: skip

    # --- records ----------------------------------------------------------------------

    def _update(self, **values: Any) -> Deployment:
        with self.runtime.db.session() as session:
            deployment = session.get(Deployment, self.id, with_for_update=True)
            if deployment is None or deployment.claimed_by != self.worker:
                raise LeaseLost(self.id)
            if deployment.status not in ("queued", "deploying", "analysing"):
                raise LeaseLost(self.id)
            for key, value in values.items():
                setattr(deployment, key, value)
            deployment.evidence = {**deployment.evidence, "log": list(self.lines)}
            return deployment

    def _deployed(self, deployment: Deployment, result: TargetResult) -> Deployment:
        now = datetime.now(UTC)
        updated = self._update(
            status="analysing",
            deployed_at=now,
            target_state=dict(result.state),
            artifact=str(result.state.get("artifact") or deployment.commit or ""),
        )
        with self.runtime.db.session() as session:
            state = lock_state(session, deployment)
            state.current_id = self.id
            state.healthy = None
            state.updated_at = now
        updated.evidence = {
            **updated.evidence,
            "url": result.url,
            "metrics_url": result.metrics_url,
        }
        return self._update(evidence=updated.evidence)

    def _state_of(self, deployment_id: str | None) -> dict[str, Any]:
        with self.runtime.db.read_session() as session:
            found = session.get(Deployment, deployment_id) if deployment_id else None
            return dict(found.target_state) if found is not None else {}

    def _fail(self, deployment: Deployment, reason: str, target: DeploymentTarget | None) -> None:
        self.log(f"failed: {reason}")
        self._finish(deployment, "failed", healthy=None, good=False, error=reason, current=False)
        if target is not None and deployment.trigger != "automatic":
            ensure_running(self.runtime, deployment.component_ref, deployment.environment, target)

    def _finish(
        self,
        deployment: Deployment,
        status: str,
        *,
        healthy: bool | None,
        good: bool,
        analysis: dict[str, Any] | None = None,
        error: str | None = None,
        current: bool = True,
    ) -> None:
        now = datetime.now(UTC)
        with self.runtime.db.session() as session:
            row = session.get(Deployment, self.id, with_for_update=True)
            if row is None or row.claimed_by != self.worker:
                raise LeaseLost(self.id)
            row.status, row.error, row.finished_at = status, error, now
            row.lease_expires_at = None
            evidence = {**row.evidence, "log": list(self.lines)}
            if analysis is not None:
                evidence["analysis"] = analysis
                row.mode = "shadow" if analysis.get("shadow") else row.mode
            row.evidence = evidence
            state = lock_state(session, row)
            if state.busy_with == self.id:
                state.busy_with = None
            if current and state.current_id == self.id and healthy is not None:
                state.healthy = healthy
            if good:
                state.last_good_id = self.id
            state.updated_at = now
            event = {"succeeded": "deployment.succeeded", "rolled_back": "deployment.failed"}
            audit.record(
                session,
                actor=Actor(
                    row.triggered_by, "system" if row.triggered_by.startswith("system:") else "user"
                ),
                event=event.get(status, "deployment.failed"),
                target=f"{row.component_ref}@{row.environment}",
                resource_type="deployment",
                result="success" if status == "succeeded" else "failed",
                details={
                    "deployment": row.id,
                    "version": row.version,
                    "status": status,
                    "error": error,
                },
            )
        if status != "succeeded":
            notify_deployment(self.runtime, self.id)


class BuildError(RuntimeError):
    """The component's build command failed before the target was asked."""


def _rollback_row(bad: Deployment, good: Deployment, at: datetime) -> Deployment:
    return Deployment(
        id=str(uuid.uuid4()),
        component_ref=bad.component_ref,
        environment=bad.environment,
        version=good.version,
        commit=good.commit,
        artifact=good.artifact,
        kind="rollback",
        trigger="automatic",
        triggered_by=AUTOMATIC.ref,
        rollback_of=bad.id,
        previous_id=bad.id,
        target=bad.target,
        status="deploying",
        mode=good.mode,
        evidence={"to": good.id, "reason": "automatic rollback after a health breach"},
        target_state={},
        created_at=at,
        started_at=at,
    )


def lock_state(session: Any, deployment: Deployment) -> EnvironmentState:
    from pavedroad.deploy.service import lock_environment

    return lock_environment(session, deployment.component_ref, deployment.environment)


def _safe(ref: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "-", ref)


def ensure_running(
    runtime: Runtime, component_ref: str, environment: str, target: DeploymentTarget
) -> str | None:
    """After a failure: when what the environment's current deployment describes no longer
    runs, deploy its last good version again; the id of that deployment, or None."""
    with runtime.db.read_session() as session:
        state = session.get(EnvironmentState, (component_ref, environment))
        if state is None or state.current_id is None:
            return None
        current = session.get(Deployment, state.current_id)
        good = session.get(Deployment, state.last_good_id) if state.last_good_id else None
    if current is None:
        return None
    try:
        running = target.status(dict(current.target_state))
    except Exception:
        log.warning("could not ask the target what runs", exc_info=True)
        running = True  # unknown: do not deploy over what may run
    if running or good is None or good.commit is None:
        return None
    from pavedroad.deploy import service

    log.warning("nothing runs in the environment: deploying its last good version again")
    try:
        again = service.deploy(
            runtime,
            component_ref=component_ref,
            environment=environment,
            version=good.commit,
            actor=AUTOMATIC,
            trigger="automatic",
            kind="redeploy",
        )
    except Exception:
        log.exception("could not deploy the last good version again")
        return None
    return again.id
