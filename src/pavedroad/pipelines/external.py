"""Runs executed elsewhere reporting back: an exported pipeline running on Argo Workflows or
GitHub Actions posts its status (and its steps') to ``POST /api/pipelines/v1/runs/external``
with a service token allowed ``pipeline.run.report``.

One run per ``(system, external_id)``: its id is derived from the pair, so a report sent twice,
or two at once, update the same run. A finished run is never moved back to ``running``.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, Field, ValidationError, field_validator
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from pavedroad.audit import service as audit
from pavedroad.core.actors import Actor
from pavedroad.core.clock import as_utc
from pavedroad.core.errors import ConflictError, PavedroadError
from pavedroad.pipelines.models import PipelineRun, PipelineStep
from pavedroad.pipelines.repositories import component_for_repository, normalise_repository
from pavedroad.pipelines.service import _next_number

if TYPE_CHECKING:
    from pavedroad.runtime import Runtime

FINISHED = ("succeeded", "failed", "cancelled")
STEP_FINISHED = ("succeeded", "failed", "skipped", "cancelled")
_NAMESPACE = uuid.UUID("6f1c3a52-8d7e-4b0a-9c35-2f6e1d4b7a90")  # external run ids
_STEP_ID = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_.-]+$")


class ReportInvalid(PavedroadError):  # noqa: N818 - reads as what it is
    """The report's body does not have the documented shape (422, naming each field)."""

    status_code: ClassVar[int] = 422
    name: ClassVar[str] = "InputError"


class ExternalStep(BaseModel):
    id: str = Field(description='"<stage>.<step>", as in the pipeline file')
    status: Literal["pending", "running", "succeeded", "failed", "skipped", "cancelled"]
    started_at: datetime | None = None
    finished_at: datetime | None = None

    @field_validator("id")
    @classmethod
    def _step_id(cls, value: str) -> str:
        if not _STEP_ID.match(value) or len(value) > 255:
            raise ValueError('a step id is "<stage>.<step>", e.g. test.unit')
        return value


class ExternalReport(BaseModel):
    """What an exported run sends: where it runs, what it builds, and how far it got."""

    model_config = {"extra": "forbid"}

    system: Literal["argo", "github-actions"]
    repository: str = Field(min_length=1, max_length=2048)
    commit: str = Field(pattern=r"^[0-9a-fA-F]{7,64}$")
    branch: str = Field(min_length=1, max_length=255)
    external_id: str = Field(min_length=1, max_length=255)
    status: Literal["running", "succeeded", "failed", "cancelled"]
    url: str | None = Field(None, max_length=2048)
    steps: list[ExternalStep] = Field(default_factory=list, max_length=500)


def parse_report(body: Any) -> ExternalReport:
    """The report in ``body``; :class:`ReportInvalid` names every field that is wrong."""
    try:
        return ExternalReport.model_validate(body)
    except ValidationError as error:
        problems = [
            {"field": ".".join(str(p) for p in item["loc"]) or "(body)", "message": item["msg"]}
            for item in error.errors()
        ]
        listed = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
        raise ReportInvalid(f"The run report is not valid: {listed}", problems=problems) from None


def external_run_id(system: str, external_id: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{system}:{external_id}"))


def report_external_run(
    runtime: Runtime, report: ExternalReport, *, actor: Actor
) -> tuple[PipelineRun, bool]:
    """Create or update the run ``report`` speaks of; ``(run, created)``."""
    try:
        run, created, ended = _write(runtime, report, actor)
    except IntegrityError:  # the same run's first report, twice at once: update it instead
        run, created, ended = _write(runtime, report, actor)
    if ended and run.status == "failed":
        from pavedroad.pipelines.notifications import notify_run_finished

        notify_run_finished(runtime, run.id)
    return run, created


def _write(
    runtime: Runtime, report: ExternalReport, actor: Actor
) -> tuple[PipelineRun, bool, bool]:
    run_id = external_run_id(report.system, report.external_id)
    now = datetime.now(UTC)
    repository = normalise_repository(report.repository)
    with runtime.db.session() as session:
        run = session.get(PipelineRun, run_id, with_for_update=True)
        created = run is None
        if run is None:
            run = PipelineRun(
                id=run_id,
                number=_next_number(session, repository),
                repository=repository,
                component_ref=component_for_repository(session, repository),
                commit=report.commit.lower(),
                branch=report.branch,
                trigger="external",
                triggered_by=actor.ref,
                status="running",
                definition=None,
                problems=[],
                changed_paths=None,
                attempt=1,
                cancel_requested=False,
                created_at=now,
                started_at=now,
                external=report.system,
            )
            session.add(run)
            session.flush()
        elif run.status in FINISHED and report.status == "running":
            raise ConflictError(
                f"Run {report.system}:{report.external_id} already {run.status}; a finished run "
                "is not moved back to running",
                status=run.status,
            )
        ended = run.status not in FINISHED and report.status in FINISHED
        run.status = report.status
        run.finished_at = (run.finished_at or now) if report.status in FINISHED else None
        _write_steps(session, run, report.steps)
        audit.record(
            session,
            actor=actor,
            event="pipeline.run.reported",
            target=f"pipeline-run:{run.id}",
            resource_type="pipeline-run",
            details={
                "system": report.system,
                "external_id": report.external_id,
                "status": report.status,
                "url": report.url,
                "repository": repository,
                "commit": report.commit,
            },
        )
    return run, created, ended


def _write_steps(session: Any, run: PipelineRun, reported: list[ExternalStep]) -> None:
    rows = {
        row.step_id: row
        for row in session.scalars(select(PipelineStep).where(PipelineStep.run_id == run.id))
    }
    position = max((row.position for row in rows.values()), default=-1)
    for step in reported:
        row = rows.get(step.id)
        if row is None:
            position += 1
            stage, _, name = step.id.partition(".")
            row = PipelineStep(
                run_id=run.id,
                step_id=step.id,
                stage=stage,
                name=name,
                position=position,
                status="pending",
                attempt=1,
                summary="",
                details={},
                log_bytes=0,
            )
            session.add(row)
            rows[step.id] = row
        if row.status in STEP_FINISHED and step.status not in STEP_FINISHED:
            continue  # a late "running" after the step's end changes nothing
        row.status = step.status
        row.started_at = _utc(step.started_at) or row.started_at
        row.finished_at = _utc(step.finished_at) or row.finished_at
    starts = [as_utc(row.started_at) for row in rows.values() if row.started_at is not None]
    if starts:
        run.started_at = min([*starts, as_utc(run.started_at)] if run.started_at else starts)


def _utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else as_utc(moment)
