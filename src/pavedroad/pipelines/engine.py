"""Carrying out one claimed run: a fresh clone at the run's commit, then its steps in the
order their ``needs`` allow (in parallel where they allow it), each one's ``if`` checked when it
is due, retried and timed out as written, its log streamed and its result committed the moment
it ends, so that nothing a finished step did is lost whatever happens to the worker after.

The worker that claimed the run holds its lease; the engine stops early when the run is
cancelled (the steps running are killed, the rest recorded as cancelled), when the worker
shuts down (the run goes back to the queue) or when the lease was lost (someone else has it:
nothing more is written).
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from pavedroad.core.errors import PavedroadError
from pavedroad.pipelines import queue
from pavedroad.pipelines.hooks import Executor, SecretsProvider, StepType
from pavedroad.pipelines.logs import LogFlusher
from pavedroad.pipelines.models import PipelineRun, PipelineStep
from pavedroad.pipelines.notifications import notify_run_finished
from pavedroad.pipelines.schemas import Pipeline, Step
from pavedroad.pipelines.step_runner import StepResult, StepRunner

if TYPE_CHECKING:
    from pavedroad.runtime import Runtime

log = logging.getLogger(__name__)
PARALLEL_STEPS = 4
CANCEL_CHECK_SECONDS = 0.5


@dataclass(slots=True)
class RunControl:
    """What the worker can tell a run it is executing."""

    release: threading.Event = field(default_factory=threading.Event)  # shutting down
    lost: threading.Event = field(default_factory=threading.Event)  # the lease was taken


def executors_of(runtime: Runtime) -> dict[str, Executor]:
    return {
        executor.name: executor
        for group in runtime.plugins.hook.pavedroad_pipeline_executors(settings=runtime.settings)
        for executor in group
    }


def secrets_providers_of(runtime: Runtime) -> list[SecretsProvider]:
    groups = runtime.plugins.hook.pavedroad_pipeline_secrets(settings=runtime.settings)
    return [provider for group in reversed(groups) for provider in group]


class RunExecution:
    """One run being carried out by one worker."""

    def __init__(self, runtime: Runtime, run_id: str, worker: str, control: RunControl) -> None:
        from pavedroad.pipelines.service import step_types_of

        self.runtime = runtime
        self.settings = runtime.settings
        self.run_id = run_id
        self.worker = worker
        self.control = control
        self.step_types: dict[str, StepType] = step_types_of(runtime)
        self.providers = secrets_providers_of(runtime)
        self._cancel = {"at": 0.0, "requested": False}
        self._cancel_lock = threading.Lock()
        root = self.settings.data_dir / "pipelines" / "workspaces" / run_id
        self.root = root
        self.workspace = root / "src"
        self.home = root / "home"
        self.default_branch = "main"
        self.steps = StepRunner(self)

    # -- stopping -------------------------------------------------------------------------

    def cancel_requested(self) -> bool:
        with self._cancel_lock:
            now = time.monotonic()
            if not self._cancel["requested"] and now - self._cancel["at"] >= CANCEL_CHECK_SECONDS:
                with self.runtime.db.read_session() as session:
                    self._cancel["requested"] = bool(
                        session.scalar(
                            select(PipelineRun.cancel_requested).where(
                                PipelineRun.id == self.run_id
                            )
                        )
                    )
                self._cancel["at"] = now
            return bool(self._cancel["requested"])

    def stopping(self) -> bool:
        return (
            self.control.release.is_set() or self.control.lost.is_set() or self.cancel_requested()
        )

    def _cancel_reason(self) -> str:
        with self.runtime.db.read_session() as session:
            reason = session.scalar(select(PipelineRun.error).where(PipelineRun.id == self.run_id))
        return reason or "cancelled while it ran"

    def interrupted(self) -> bool:
        """The worker lets go of the run: its end is not the run's result."""
        return self.control.release.is_set() or self.control.lost.is_set()

    # -- the run --------------------------------------------------------------------------

    def execute(self) -> str:
        with self.runtime.db.session() as session:
            run = session.get(PipelineRun, self.run_id)
            if run is None or run.status != "running" or run.claimed_by != self.worker:
                return run.status if run is not None else "missing"
            pipeline = Pipeline.from_json(run.definition or {"stages": []})
            rows = session.scalars(
                select(PipelineStep)
                .where(PipelineStep.run_id == self.run_id)
                .order_by(PipelineStep.position)
            ).all()
            self.run = RunFacts(
                repository=run.repository,
                commit=run.commit,
                branch=run.branch,
                component_ref=run.component_ref,
                number=run.number,
                changed_paths=run.changed_paths,
                event="pull_request" if run.trigger == "pull_request" else "push",
            )
            pks = {row.step_id: row.id for row in rows}
            statuses = {row.step_id: row.status for row in rows}
            summaries = {row.step_id: row.summary for row in rows}
        self.pipeline = pipeline
        executor = executors_of(self.runtime).get(self.settings.pipelines.executor)
        if executor is None:
            return self._finish(
                statuses,
                summaries,
                error=f"the executor {self.settings.pipelines.executor!r} "
                "is not installed (pipelines.executor)",
            )
        self.executor = executor
        try:
            self._checkout()
        except PavedroadError as error:
            return self._finish(statuses, summaries, error=error.message)
        flusher = LogFlusher()
        try:
            self._schedule(pipeline, pks, statuses, summaries, flusher)
        finally:
            flusher.stop()
            shutil.rmtree(self.root, ignore_errors=True)
        return self._finish(statuses, summaries)

    def _checkout(self) -> None:
        from pavedroad.pipelines import workspace

        shutil.rmtree(self.root, ignore_errors=True)
        self.home.mkdir(parents=True)
        try:
            workspace.checkout(self.settings, self.run.repository, self.run.commit, self.workspace)
            self.default_branch = workspace.default_branch(self.settings, self.run.repository)
        except PavedroadError as error:
            raise PavedroadError(f"could not check out the commit: {error.message}") from None

    def _schedule(
        self,
        pipeline: Pipeline,
        pks: dict[str, int],
        statuses: dict[str, str],
        summaries: dict[str, str],
        flusher: LogFlusher,
    ) -> None:
        from pavedroad.pipelines.definition import (
            ConditionError,
            ConditionFacts,
            evaluate_condition,
        )

        pending = [
            step for step in pipeline.steps if statuses.get(step.id) not in queue.FINISHED_STEP
        ]
        running: dict[Future[StepResult], str] = {}
        threads = max(1, min(PARALLEL_STEPS, len(pending)))
        with ThreadPoolExecutor(threads, thread_name_prefix=f"run-{self.run_id[:8]}") as pool:
            while pending or running:
                if self.stopping():
                    break
                started = False
                for step in list(pending):
                    if not all(statuses.get(need) in queue.FINISHED_STEP for need in step.needs):
                        continue
                    pending.remove(step)
                    finished = {k: v for k, v in statuses.items() if v in queue.FINISHED_STEP}
                    facts = ConditionFacts(
                        branch=self.run.branch,
                        default_branch=self.default_branch,
                        event=self.run.event,
                        changed_paths=self.run.changed_paths,
                        results=finished,
                        needs=step.needs,
                    )
                    try:
                        due = evaluate_condition(step.condition, facts)
                    except ConditionError as error:
                        result = self._record(pks[step.id], "failed", f"if: {error.message}")
                    else:
                        if due:
                            future = pool.submit(self.steps.run, step, pks[step.id], flusher)
                            running[future] = step.id
                            started = True
                            continue
                        result = self._record(
                            pks[step.id], "skipped", self._skip_reason(step, finished)
                        )
                    statuses[step.id], summaries[step.id] = result.status, result.summary
                    started = True
                if running:
                    done, _ = wait(running, timeout=0.2, return_when=FIRST_COMPLETED)
                    for future in done:
                        step_id = running.pop(future)
                        result = future.result()
                        statuses[step_id], summaries[step_id] = result.status, result.summary
                elif not started:
                    break  # what is left needs steps that are not in the pipeline
            for future in list(running):  # stopping: the executors kill what runs
                step_id = running.pop(future)
                result = future.result()
                statuses[step_id], summaries[step_id] = result.status, result.summary

    def _skip_reason(self, step: Step, finished: dict[str, str]) -> str:
        unmet = [need for need in step.needs if finished.get(need) not in ("succeeded", "skipped")]
        if unmet:
            return f"skipped: {', '.join(unmet)} did not succeed"
        return f"skipped: its condition is false ({step.condition})"

    def _record(self, pk: int, status: str, summary: str) -> StepResult:
        now = datetime.now(UTC)
        with self.runtime.db.session() as session:
            session.execute(
                update(PipelineStep)
                .where(PipelineStep.id == pk)
                .values(status=status, summary=summary, started_at=now, finished_at=now)
            )
        return StepResult(status, summary)

    # -- the end --------------------------------------------------------------------------

    def fail(self, error: str) -> str:
        """End the run as failed with ``error``, if the worker still holds it."""
        now = datetime.now(UTC)
        with self.runtime.db.session() as session:
            held = session.execute(
                update(PipelineRun)
                .where(
                    PipelineRun.id == self.run_id,
                    PipelineRun.claimed_by == self.worker,
                    PipelineRun.status == "running",
                )
                .values(status="failed", error=error, finished_at=now, lease_expires_at=None)
            ).rowcount  # type: ignore[attr-defined]
            if held:
                session.execute(
                    update(PipelineStep)
                    .where(
                        PipelineStep.run_id == self.run_id,
                        PipelineStep.status.not_in(queue.FINISHED_STEP),
                    )
                    .values(status="cancelled", summary="not run", finished_at=now)
                )
        shutil.rmtree(self.root, ignore_errors=True)
        if not held:
            return "lost"
        notify_run_finished(self.runtime, self.run_id)
        return "failed"

    def _finish(
        self, statuses: dict[str, str], summaries: dict[str, str], *, error: str | None = None
    ) -> str:
        if self.interrupted():
            if self.control.release.is_set():
                with self.runtime.db.session() as session:
                    queue.release(session, self.run_id, self.worker)
            return "queued" if self.control.release.is_set() else "lost"
        now = datetime.now(UTC)
        cancelled = self.cancel_requested()
        failed = [step_id for step_id, status in statuses.items() if status == "failed"]
        if cancelled:
            status, error = "cancelled", error or self._cancel_reason()
        elif error is not None or failed:
            status = "failed"
            if error is None:
                first = failed[0]
                reason = f": {summaries.get(first)}" if summaries.get(first) else ""
                error = f"step {first} failed{reason}"
                if len(failed) > 1:
                    error += f" (and {', '.join(failed[1:])})"
        else:
            status = "succeeded"
        with self.runtime.db.session() as session:
            held = session.execute(
                update(PipelineRun)
                .where(
                    PipelineRun.id == self.run_id,
                    PipelineRun.claimed_by == self.worker,
                    PipelineRun.status == "running",
                )
                .values(status=status, error=error, finished_at=now, lease_expires_at=None)
            ).rowcount  # type: ignore[attr-defined]
            if not held:
                return "lost"
            session.execute(
                update(PipelineStep)
                .where(
                    PipelineStep.run_id == self.run_id,
                    PipelineStep.status.not_in(queue.FINISHED_STEP),
                )
                .values(
                    status="cancelled",
                    summary="not run: the run was cancelled" if cancelled else "not run",
                    finished_at=now,
                )
            )
        if status == "failed":
            notify_run_finished(self.runtime, self.run_id)  # in the background, never blocks
        return status


@dataclass(frozen=True, slots=True)
class RunFacts:
    repository: str
    commit: str
    branch: str
    component_ref: str | None
    number: int
    changed_paths: list[str] | None
    event: str


def execute_run(
    runtime: Runtime, run_id: str, *, worker: str, control: RunControl | None = None
) -> str:
    """Carry out a run ``worker`` has claimed; its final status (``queued`` when released,
    ``lost`` when the lease was taken from the worker)."""
    execution = RunExecution(runtime, run_id, worker, control or RunControl())
    try:
        return execution.execute()
    except Exception as error:  # a fault of ours (or the database's) fails the run, saying so
        log.exception("pipeline run failed", extra={"run": run_id, "worker": worker})
        return execution.fail(
            f"the run stopped on an internal error: {type(error).__name__}: {error}"
        )
