"""One step of a run as a worker carries it out: its secrets resolved, its environment built,
its command (or its step type) run and retried, its reports and artifacts collected, its log
streamed, and its result committed the moment it ends."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import update

from pavedroad.pipelines import artifacts
from pavedroad.pipelines.hooks import StepContext, StepOutcome
from pavedroad.pipelines.logs import LogFlusher, StepLog
from pavedroad.pipelines.models import PipelineStep
from pavedroad.pipelines.reports import summarise_tests
from pavedroad.pipelines.schemas import Step
from pavedroad.pipelines.steptypes import step_artifacts, step_reports

if TYPE_CHECKING:
    from pavedroad.pipelines.engine import RunExecution

log = logging.getLogger(__name__)


@dataclass(slots=True)
class StepResult:
    """How a step ended (``running`` when the worker let go of it before it ended)."""

    status: str
    summary: str


class StepRunner:
    """Runs the steps of one :class:`~pavedroad.pipelines.engine.RunExecution`."""

    def __init__(self, execution: RunExecution) -> None:
        self.execution = execution

    def _environment(self, step: Step, secrets: dict[str, str]) -> dict[str, str]:
        """The whole environment of the step: of the worker's own, only PATH."""
        run = self.execution.run
        return {
            "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
            "HOME": str(self.execution.home),
            "LANG": "C.UTF-8",
            "CI": "true",
            "PAVEDROAD": "true",
            "PAVEDROAD_RUN_ID": self.execution.run_id,
            "PAVEDROAD_RUN_NUMBER": str(run.number),
            "PAVEDROAD_COMMIT": run.commit,
            "PAVEDROAD_BRANCH": run.branch,
            "PAVEDROAD_REPOSITORY": run.repository,
            "PAVEDROAD_STEP": step.id,
            **self.execution.pipeline.env,
            **step.env,
            **secrets,
        }

    def _resolve_secrets(self, step: Step, step_log: StepLog) -> tuple[dict[str, str], str | None]:
        """The step's secrets by variable (from now on masked in its log), or what is missing."""
        values: dict[str, str] = {}
        warned: set[str] = set()
        for variable, reference in step.secrets.items():
            for provider in self.execution.providers:
                value = provider.resolve(reference, component_ref=self.execution.run.component_ref)
                if value is not None:
                    values[variable] = value
                    warning = getattr(provider, "warning", "")
                    if warning and provider.name not in warned:
                        warned.add(provider.name)
                        step_log.write(warning)
                    break
            else:
                hints = [
                    provider.hint(reference)
                    for provider in self.execution.providers
                    if hasattr(provider, "hint")
                ]
                how = f": {'; or '.join(hints)}" if hints else ""
                return values, (
                    f"the secret {reference!r} (for {variable}) is not known to any secrets "
                    f"provider{how}"
                )
        step_log.add_secrets(values.values())
        return values, None

    def run(self, step: Step, pk: int, flusher: LogFlusher) -> StepResult:
        started = datetime.now(UTC)
        with self.execution.runtime.db.session() as session:
            session.execute(
                update(PipelineStep)
                .where(PipelineStep.id == pk)
                .values(status="running", started_at=started)
            )
        step_log = StepLog(
            self.execution.runtime.db,
            pk,
            cap_bytes=self.execution.settings.pipelines.step_output_cap_bytes,
            secrets=(),
        )
        flusher.add(step_log)
        try:
            outcome, details, tried = self._attempts(step, pk, step_log)
        except Exception as error:  # a broken step type or plugin fails its step, not the worker
            log.exception(
                "pipeline step failed", extra={"run": self.execution.run_id, "step": step.id}
            )
            step_log.write(f"internal error: {type(error).__name__}: {error}")
            outcome, details, tried = (
                StepOutcome(False, summary=f"{type(error).__name__}: {error}"),
                {},
                1,
            )
        finally:
            flusher.remove(step_log)
        if self.execution.interrupted():
            step_log.close()
            return StepResult("running", "")  # the queue puts it back or someone else has it
        if self.execution.cancel_requested() and not outcome.succeeded:
            status = "cancelled"
        elif outcome.skipped:
            status = "skipped"
        else:
            status = "succeeded" if outcome.succeeded else "failed"
        summary = step_log.mask(_summary(outcome, details))
        step_log.close()
        with self.execution.runtime.db.session() as session:
            session.execute(
                update(PipelineStep)
                .where(PipelineStep.id == pk)
                .values(
                    status=status,
                    exit_code=outcome.exit_code,
                    attempt=tried,
                    summary=summary,
                    details=details,
                    finished_at=datetime.now(UTC),
                )
            )
        return StepResult(status, summary)

    def _attempts(
        self, step: Step, pk: int, step_log: StepLog
    ) -> tuple[StepOutcome, dict[str, Any], int]:
        """The step's outcome, its details and how many tries it took."""
        step_type = self.execution.step_types.get(step.uses) if step.uses else None
        if step.uses and step_type is None:
            known = ", ".join(sorted(self.execution.step_types))
            message = f"the step type {step.uses!r} is not installed (installed: {known})"
            step_log.write(message)
            return StepOutcome(False, summary=message), {}, 0
        secrets, problem = self._resolve_secrets(step, step_log)
        if problem:
            step_log.write(problem)
            return StepOutcome(False, summary=problem), {}, 0
        context = StepContext(
            run_id=self.execution.run_id,
            step=step,
            workspace=self.execution.workspace,
            env=self._environment(step, secrets),
            repository=self.execution.run.repository,
            commit=self.execution.run.commit,
            branch=self.execution.run.branch,
            component_ref=self.execution.run.component_ref,
            log=step_log.write,
            runtime=self.execution.runtime,
            is_cancelled=self.execution.stopping,
        )
        tries = step.retries + 1
        outcome, tried = StepOutcome(False), 0
        for attempt in range(1, tries + 1):
            if attempt > 1:
                step_log.write(f"--- try {attempt} of {tries} (the last one {outcome.summary}) ---")
            command = (
                step.run if step.run is not None else step_type.command(step) if step_type else None
            )
            if command is not None:
                outcome = self.execution.executor.run(
                    context, command, timeout_seconds=step.timeout_seconds
                )
            elif step_type is not None:
                outcome = step_type.execute(context)
            else:
                outcome = StepOutcome(False, summary="the step has neither run nor uses")
            tried = attempt
            if outcome.succeeded or self.execution.stopping():
                break
        if self.execution.interrupted():
            return outcome, {}, tried
        collected = artifacts.collect(
            self.execution.settings,
            run_id=self.execution.run_id,
            step_id=step.id,
            step_pk=pk,
            workspace=self.execution.workspace,
            wanted=step_reports(step, step_type),
            artifact_patterns=step_artifacts(step, step_type),
        )
        for note in collected.notes:
            step_log.write(note)
        if collected.artifacts:
            with self.execution.runtime.db.session() as session:
                session.add_all(collected.artifacts)
        return outcome, {**outcome.details, **collected.details}, tried


def _summary(outcome: StepOutcome, details: dict[str, Any]) -> str:
    parts = [outcome.summary] if outcome.summary else []
    if "tests" in details:
        parts.append(summarise_tests(details["tests"]))
    if "coverage" in details:
        parts.append(f"{details['coverage']['line_rate'] * 100:.1f}% lines covered")
    return "; ".join(parts)
