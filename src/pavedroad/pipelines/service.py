"""Starting, cancelling and reading pipeline runs: the one write path for runs, whatever
starts them (a webhook, the poller, the portal, the CLI, the API, an exported run)."""

from __future__ import annotations

import uuid
import zlib
from dataclasses import asdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from pavedroad.audit import service as audit
from pavedroad.core.actors import Actor
from pavedroad.core.db import is_postgres
from pavedroad.core.errors import NotFoundError
from pavedroad.pipelines import queue
from pavedroad.pipelines.hooks import StepType
from pavedroad.pipelines.models import PipelineRun, PipelineStep
from pavedroad.pipelines.notifications import notify_run_finished
from pavedroad.pipelines.repositories import component_for_repository, normalise_repository
from pavedroad.pipelines.steptypes import merge_step_types

if TYPE_CHECKING:
    from pavedroad.runtime import Runtime

PIPELINE_FILE = ".pavedroad/pipeline.yaml"
TRIGGERS = ("push", "pull_request", "poll", "manual", "api", "external")


def step_types_of(runtime: Runtime) -> dict[str, StepType]:
    """Every installed step type by name. A real implementation (the security capability's
    ``sbom``) takes the place of the built-in placeholder of the same name."""
    groups = runtime.plugins.hook.pavedroad_pipeline_step_types(settings=runtime.settings)
    return merge_step_types(reversed(groups))  # pluggy calls the last registered first


def get_run(session: Session, run_id: str) -> PipelineRun:
    run = session.get(PipelineRun, run_id)
    if run is None:
        raise NotFoundError(
            f"There is no pipeline run {run_id}", hint="`pavedroad pipeline list` shows the runs"
        )
    return run


def next_run_number(session: Session, repository: str) -> int:
    """The number the next run of ``repository`` gets (run #42), taken in this transaction."""
    if is_postgres(session):  # two runs of one repository started at once get two numbers
        key = zlib.crc32(repository.encode())
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
    latest = session.scalar(
        select(func.max(PipelineRun.number)).where(PipelineRun.repository == repository)
    )
    return (latest or 0) + 1


_next_number = next_run_number  # the name pipelines.external imports


def start_run(
    runtime: Runtime,
    *,
    repository: str,
    trigger: str,
    actor: Actor,
    branch: str | None = None,
    commit: str | None = None,
    component_ref: str | None = None,
    changed_paths: list[str] | None = None,
    event: str = "push",
) -> PipelineRun:
    """Queue a run of the repository's pipeline at ``commit`` (or ``branch``'s head, or the
    default branch's). A pipeline file with errors gives a ``rejected`` run that lists them and
    runs nothing. Committed before it returns; this process's workers are woken at once."""
    from pavedroad.pipelines import definition, workspace

    settings = runtime.settings
    repository = normalise_repository(repository)
    branch, commit, _default = workspace.resolve(settings, repository, branch, commit)
    file_text = workspace.read_file_at(settings, repository, commit, PIPELINE_FILE)
    pipeline, problems = definition.load_pipeline(
        file_text, settings=settings, step_types=step_types_of(runtime), file=PIPELINE_FILE
    )
    now = datetime.now(UTC)
    with runtime.db.session() as session:
        if component_ref is None:
            component_ref = component_for_repository(session, repository)
        rejected = pipeline is None
        run = PipelineRun(
            id=str(uuid.uuid4()),
            number=next_run_number(session, repository),
            repository=repository,
            component_ref=component_ref,
            commit=commit,
            branch=branch,
            trigger=trigger,
            triggered_by=actor.ref,
            status="rejected" if rejected else "queued",
            definition=pipeline.to_json() if pipeline is not None else None,
            problems=[asdict(problem) for problem in problems],
            changed_paths=changed_paths,
            attempt=1,
            cancel_requested=False,
            created_at=now,
            finished_at=now if rejected else None,
            error=(
                f"{PIPELINE_FILE} is not valid ({len(problems)} problem"
                f"{'s' if len(problems) != 1 else ''}); nothing ran"
                if rejected
                else None
            ),
        )
        session.add(run)
        for position, step in enumerate(pipeline.steps if pipeline is not None else ()):
            session.add(
                PipelineStep(
                    run_id=run.id,
                    step_id=step.id,
                    stage=step.stage,
                    name=step.name,
                    position=position,
                    status="pending",
                    attempt=0,
                    summary="",
                    details={},
                    log_bytes=0,
                )
            )
        audit.record(
            session,
            actor=actor,
            event="pipeline.run.rejected" if rejected else "pipeline.run.started",
            target=f"pipeline-run:{run.id}",
            resource_type="pipeline-run",
            result="failed" if rejected else "success",
            details={
                "repository": repository,
                "component": component_ref,
                "number": run.number,
                "branch": branch,
                "commit": commit,
                "trigger": trigger,
                "event": event,
                **({"problems": [str(problem) for problem in problems]} if rejected else {}),
            },
        )
    if not rejected:
        from pavedroad.pipelines.worker import wake_workers

        wake_workers(runtime)
    else:
        notify_run_finished(runtime, run.id)  # in the background, never blocks
    return run


def cancel_run(runtime: Runtime, run_id: str, *, actor: Actor) -> PipelineRun:
    """Cancel a run: a queued one at once, a running one as soon as its worker notices
    (within a second: its steps are killed). A finished run is left as it is."""
    with runtime.db.session() as session:
        run = session.get(PipelineRun, run_id, with_for_update=True)
        if run is None:
            raise NotFoundError(f"There is no pipeline run {run_id}")
        if run.status in queue.FINISHED_RUN:
            return run
        was = run.status
        run.cancel_requested = True
        run.error = f"cancelled by {actor.ref} while it ran"
        if run.status == "queued":
            now = datetime.now(UTC)
            run.status = "cancelled"
            run.finished_at = now
            run.error = f"cancelled by {actor.ref} before it started"
            session.execute(
                update(PipelineStep)
                .where(PipelineStep.run_id == run_id, PipelineStep.status == "pending")
                .values(status="cancelled", summary="not run: the run was cancelled")
            )
        audit.record(
            session,
            actor=actor,
            event="pipeline.run.cancelled",
            target=f"pipeline-run:{run_id}",
            resource_type="pipeline-run",
            details={"repository": run.repository, "number": run.number, "status": was},
        )
    return run
