"""Deployments in the background: each is carried out (:mod:`pavedroad.deploy.execution`) on a
thread of its own by this process's runner.

Each deployment in hand holds a lease (``settings.deploy.lease_seconds``) that a heartbeat
renews, as pipeline workers do. When the platform stops in the middle, the lease runs out and
:func:`recover_deployments` (a job every few seconds, and at startup) ends the deployment:

- ``queued`` or ``deploying``: failed with the reason; the environment keeps what ran before
  (the target is asked whether it still runs; when nothing runs, the last good version is
  deployed again — an environment is never left without a running version);
- ``analysing``: the new version is running, so it is kept and marked ``succeeded`` but
  *unanalysed* (``evidence.analysis.verdict == "unanalysed"``) and it does not become the
  environment's last good version. Analysing it again would need a fresh window after an
  unknown gap; saying plainly that it was not judged is what people can act on.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from pavedroad.audit import service as audit
from pavedroad.core.clock import as_utc
from pavedroad.deploy.execution import AUTOMATIC, LeaseLost, Run, ensure_running, targets_of
from pavedroad.deploy.execution import lock_state as _lock_state
from pavedroad.deploy.models import Deployment, EnvironmentState
from pavedroad.deploy.notifications import notify_deployment

if TYPE_CHECKING:
    from pavedroad.runtime import Runtime

log = logging.getLogger(__name__)
RECOVERY_SECONDS = 5
_RUNNERS: dict[int, DeploymentRunner] = {}
_RUNNERS_LOCK = threading.Lock()


def runner_of(runtime: Runtime) -> DeploymentRunner:
    """This process's runner for ``runtime`` (made on first use)."""
    with _RUNNERS_LOCK:
        runner = _RUNNERS.get(id(runtime))
        if runner is None or runner.runtime is not runtime:
            runner = _RUNNERS[id(runtime)] = DeploymentRunner(runtime)
        return runner


def submit(runtime: Runtime, deployment_id: str) -> threading.Thread | None:
    """Claim the queued deployment for this process and carry it out on a thread; None when
    another process claimed it first."""
    return runner_of(runtime).submit(deployment_id)


def pick_up_queued(runtime: Runtime) -> list[str]:
    """Carry out here the deployments queued for any process to take (``pavedroad deploy``
    without ``--wait`` leaves them so); those not taken within their lease are failed by
    :func:`recover_deployments`."""
    now = datetime.now(UTC)
    with runtime.db.read_session() as session:
        waiting = session.scalars(
            select(Deployment.id)
            .where(
                Deployment.status == "queued",
                Deployment.claimed_by.is_(None),
                Deployment.lease_expires_at >= now,
            )
            .order_by(Deployment.created_at)
        ).all()
    return [i for i in waiting if submit(runtime, i) is not None]


def run_jobs(runtime: Runtime) -> None:
    """The scheduled job: take queued deployments, end those whose process stopped."""
    pick_up_queued(runtime)
    recover_deployments(runtime)


class DeploymentRunner:
    """Runs deployments on threads of their own and keeps their leases alive."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.name = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._lock = threading.Lock()
        self._held: dict[str, threading.Thread] = {}
        self._beat: threading.Thread | None = None

    @property
    def held(self) -> list[str]:
        with self._lock:
            return list(self._held)

    def submit(self, deployment_id: str) -> threading.Thread | None:
        with self.runtime.db.session() as session:
            claimed = session.execute(
                update(Deployment)
                .where(
                    Deployment.id == deployment_id,
                    Deployment.status == "queued",
                    Deployment.claimed_by.is_(None),
                )
                .values(claimed_by=self.name, lease_expires_at=self._lease())
            ).rowcount  # type: ignore[attr-defined]
        if not claimed:
            return None  # another process has it
        thread = threading.Thread(
            target=self._run, args=(deployment_id,), name=f"deploy-{deployment_id[:8]}", daemon=True
        )
        with self._lock:
            self._held[deployment_id] = thread
            if self._beat is None or not self._beat.is_alive():
                self._beat = threading.Thread(
                    target=self._heartbeat, name="deploy-leases", daemon=True
                )
                self._beat.start()
        thread.start()
        return thread

    def _lease(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.runtime.settings.deploy.lease_seconds)

    def _run(self, deployment_id: str) -> None:
        try:
            Run(self.runtime, deployment_id, self.name).carry_out()
        except LeaseLost:
            log.warning("deployment lease lost", extra={"deployment": deployment_id})
        except Exception:
            log.exception("deployment failed in its runner", extra={"deployment": deployment_id})
        finally:
            with self._lock:
                self._held.pop(deployment_id, None)

    def _heartbeat(self) -> None:
        every = self.runtime.settings.deploy.lease_seconds / 3
        while True:
            threading.Event().wait(every)
            held = self.held
            if not held:
                with self._lock:
                    if not self._held:
                        self._beat = None
                        return
                continue
            try:
                with self.runtime.db.session() as session:
                    session.execute(
                        update(Deployment)
                        .where(
                            Deployment.id.in_(held),
                            Deployment.claimed_by == self.name,
                            Deployment.status.in_(("queued", "deploying", "analysing")),
                        )
                        .values(lease_expires_at=self._lease())
                    )
            except Exception:
                log.warning("could not renew the deployment leases", exc_info=True)


@dataclass(frozen=True, slots=True)
class Recovered:
    failed: list[str]
    unanalysed: list[str]
    redeployed: list[str]


def recover_deployments(runtime: Runtime, *, now: datetime | None = None) -> Recovered:
    """End the deployments whose lease ran out (their process stopped); see the module."""
    now = now or datetime.now(UTC)
    failed, unanalysed, to_check = [], [], []
    with runtime.db.session() as session:
        expired = session.scalars(
            select(Deployment)
            .where(
                Deployment.status.in_(("queued", "deploying", "analysing")),
                Deployment.lease_expires_at < now,
            )
            .order_by(Deployment.created_at)
            .with_for_update(skip_locked=True)
        ).all()
        for row in expired:
            since = as_utc(row.lease_expires_at or now).strftime("%Y-%m-%d %H:%M:%S UTC")
            who = row.claimed_by or "its runner"
            state = _lock_state(session, row)
            if state.busy_with == row.id:
                state.busy_with = None
            state.updated_at = now
            row.finished_at, row.lease_expires_at = now, None
            if row.status == "analysing":
                row.status = "succeeded"
                row.evidence = {
                    **row.evidence,
                    "analysis": {
                        "verdict": "unanalysed",
                        "reason": f"{who} stopped answering at {since} during the health "
                        "analysis; the version was kept without a verdict",
                    },
                }
                event, result = "deployment.succeeded", "success"
                unanalysed.append(row.id)
            else:
                row.status = "failed"
                row.error = (
                    f"no server took it before {since} (run `pavedroad serve`, or deploy with "
                    "--wait); the environment keeps the version that ran before"
                    if row.claimed_by is None
                    else f"{who} stopped answering at {since} during the deploy; "
                    "the environment keeps the version that ran before"
                )
                if state.current_id == row.id:  # the target had switched: go back to the previous
                    state.current_id = row.previous_id
                event, result = "deployment.failed", "failed"
                failed.append(row.id)
                to_check.append((row.component_ref, row.environment, row.target))
            audit.record(
                session,
                actor=AUTOMATIC,
                event=event,
                target=f"{row.component_ref}@{row.environment}",
                resource_type="deployment",
                result=result,
                details={"deployment": row.id, "status": row.status, "recovered": True},
            )
    redeployed = []
    targets = targets_of(runtime) if to_check else {}
    for ref, environment, target_name in to_check:
        target = targets.get(target_name)
        if target is not None:
            again = ensure_running(runtime, ref, environment, target)
            if again is not None:
                redeployed.append(again)
    for deployment_id in failed:
        notify_deployment(runtime, deployment_id)
    return Recovered(failed, unanalysed, redeployed)


def wait_for(runtime: Runtime, deployment_id: str, timeout: float = 3600.0) -> Deployment:
    """The deployment once it ended (or as it is when ``timeout`` seconds passed)."""
    until = datetime.now(UTC) + timedelta(seconds=timeout)
    event = threading.Event()
    while True:
        with runtime.db.read_session() as session:
            found = session.get(Deployment, deployment_id)
        if found is None or found.status not in ("queued", "deploying", "analysing"):
            assert found is not None
            return found
        if datetime.now(UTC) >= until:
            return found
        event.wait(0.2)


def resume_environments(runtime: Runtime) -> dict[str, str | None]:
    """At start-up: ask each environment's target about its live deployment, so what the
    platform itself serves (the process target's proxies) comes back after a restart; an
    environment whose version no longer runs gets its last good version deployed again.
    Each deployment found not running, with the redeployment started for it (or None)."""
    with runtime.db.read_session() as session:
        live = session.execute(
            select(EnvironmentState.component_ref, EnvironmentState.environment, Deployment).join(
                Deployment, Deployment.id == EnvironmentState.current_id
            )
        ).all()
        session.expunge_all()
    targets = targets_of(runtime)
    stopped: dict[str, str | None] = {}
    for component_ref, environment, deployment in live:
        target = targets.get(deployment.target)
        if target is None:
            continue
        try:
            running = target.status(deployment.target_state)
        except Exception:  # a target that cannot answer must not stop the server starting
            log.exception(
                "could not ask a target about its deployment", extra={"deployment": deployment.id}
            )
            continue
        if not running:
            stopped[deployment.id] = ensure_running(runtime, component_ref, environment, target)
    return stopped
