"""The pipelines API under ``/api/pipelines/v1``: runs (start by hand, list, read, cancel),
their steps' logs and artifacts; the trigger routes (webhooks, watched repositories, reports of
exported runs) have a router of their own in :mod:`.api_triggers`; :data:`routers` has both.

A run is seen only by whoever may see its component (:mod:`.access`).
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from sqlalchemy import and_, or_, select
from starlette.responses import FileResponse, Response

from pavedroad.core.clock import as_utc
from pavedroad.core.errors import InputError, NotFoundError
from pavedroad.core.web import json_response, run_read
from pavedroad.permissions.dependencies import Grant, require
from pavedroad.pipelines import api_triggers, service
from pavedroad.pipelines.access import (
    check_on_component,
    component_entity,
    run_restriction,
    visible_run,
)
from pavedroad.pipelines.models import (
    PipelineArtifact,
    PipelineLogChunk,
    PipelineRun,
    PipelineStep,
    WatchedRepository,
)
from pavedroad.pipelines.permissions import CANCEL_RUN, READ_RUNS, START_RUN
from pavedroad.pipelines.queries import visible
from pavedroad.pipelines.repositories import (
    component_for_repository,
    normalise_repository,
    repository_of_entity,
)
from pavedroad.pipelines.run_json import artifact_json, run_json, step_json

if TYPE_CHECKING:
    from pavedroad.runtime import Runtime

router = APIRouter(prefix="/api/pipelines/v1", tags=["pipelines"])
ReadGrant = Annotated[Grant, Depends(require(READ_RUNS))]
StartGrant = Annotated[Grant, Depends(require(START_RUN))]
CancelGrant = Annotated[Grant, Depends(require(CANCEL_RUN))]
MAX_PAGE = 500
LOG_CHUNKS_PER_ANSWER = 1000


class RunCreate(BaseModel):
    """A run started by hand: of a component's repository or of a repository's URL."""

    component: str | None = Field(None, description="e.g. component:default/payments")
    repository: str | None = Field(None, description="a git URL, file:// URL or local path")
    branch: str | None = Field(None, description="default: the repository's default branch")
    commit: str | None = Field(None, description="default: the branch's head")


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


@router.post("/runs", status_code=201, summary="Start a run by hand (a branch or a commit)")
async def start_run(request: Request, body: RunCreate, grant: StartGrant) -> Response:
    runtime = runtime_of(request)
    trigger = "api" if grant.principal.method == "token" else "manual"

    def start() -> dict[str, Any]:
        repository, component = _what_to_run(runtime, grant, body)
        run = service.start_run(
            runtime,
            repository=repository,
            trigger=trigger,
            actor=grant.actor,
            branch=body.branch or None,
            commit=body.commit or None,
            component_ref=component,
        )
        return run_json(run, base_url=runtime.settings.resolved_base_url)

    return json_response(await run_in_threadpool(start), 201)


def _what_to_run(runtime: Runtime, grant: Grant, body: RunCreate) -> tuple[str, str | None]:
    """The repository and component of a manual run; only repositories pavedroad knows (a
    component's or a watched one) are run, so nobody makes the server clone any URL."""
    if bool(body.component) == bool(body.repository):
        raise InputError(
            'Give either "component" (a ref) or "repository" (a URL), not both or neither'
        )
    with runtime.db.read_session() as session:
        if body.component:
            entity = component_entity(session, body.component, run_restriction(grant))
            repository = repository_of_entity(entity)
            ref = body.component.lower()
            if repository is None:
                raise InputError(
                    f"{ref} names no repository: set its backstage.io/source-location "
                    "annotation to the repository's URL (url:https://... or url:file:///...)"
                )
            check_on_component(grant, session, ref)
            return repository, ref
        assert body.repository is not None
        repository = normalise_repository(body.repository)
        component = component_for_repository(session, repository)
        watched = session.get(WatchedRepository, repository)
        if component is None and watched is None:
            raise NotFoundError(
                f"{repository} is no catalog component's repository and is not watched",
                hint="run a component instead, or `pavedroad pipeline watch URL` first",
            )
        component = component or (watched.component_ref if watched else None)
        check_on_component(grant, session, component)
        return repository, component


@router.get("/runs", summary="Runs, newest first, a page at a time")
async def list_runs(
    request: Request,
    grant: ReadGrant,
    component: Annotated[str | None, Query(description="a component ref")] = None,
    repository: Annotated[str | None, Query(description="a repository URL")] = None,
    status: Annotated[str | None, Query(description="queued, running, failed...")] = None,
    branch: str | None = None,
    limit: Annotated[int, Query(ge=1, description=f"runs per page, at most {MAX_PAGE}")] = 50,
    cursor: Annotated[str | None, Query(description="pageInfo.nextCursor")] = None,
) -> Response:
    runtime = runtime_of(request)
    restriction = run_restriction(grant)
    size = min(limit, MAX_PAGE)
    after = _decode_cursor(cursor) if cursor else None

    def read() -> dict[str, Any]:
        statement = select(PipelineRun).where(visible(restriction))
        if component:
            statement = statement.where(PipelineRun.component_ref == component.lower())
        if repository:
            statement = statement.where(PipelineRun.repository == normalise_repository(repository))
        if status:
            statement = statement.where(PipelineRun.status == status)
        if branch:
            statement = statement.where(PipelineRun.branch == branch)
        if after is not None:
            at, run_id = after
            statement = statement.where(
                or_(
                    PipelineRun.created_at < at,
                    and_(PipelineRun.created_at == at, PipelineRun.id < run_id),
                )
            )
        statement = statement.order_by(PipelineRun.created_at.desc(), PipelineRun.id.desc())
        with runtime.db.read_session() as session:
            found = list(session.scalars(statement.limit(size + 1)))
        page = found[:size]
        base = runtime.settings.resolved_base_url
        more = len(found) > size
        return {
            "items": [run_json(run, base_url=base) for run in page],
            "pageInfo": {"nextCursor": _encode_cursor(page[-1]) if more and page else None},
        }

    return json_response(await run_read(read))


@router.get("/runs/{run_id}", summary="One run with its steps, test results and coverage")
async def get_run(request: Request, run_id: str, grant: ReadGrant) -> Response:
    runtime = runtime_of(request)
    restriction = run_restriction(grant)

    def read() -> dict[str, Any]:
        with runtime.db.read_session() as session:
            run = visible_run(session, run_id, restriction)
            steps = _steps(session, run_id)
            return run_json(run, steps, base_url=runtime.settings.resolved_base_url)

    return json_response(await run_read(read))


@router.get(
    "/runs/{run_id}/steps/{step_id}/log",
    summary="A step's log after chunk `after`: text, or JSON chunks (Accept: application/json)",
)
async def step_log(
    request: Request,
    run_id: str,
    step_id: str,
    grant: ReadGrant,
    after: Annotated[int, Query(ge=0, description="the last chunk id already read")] = 0,
) -> Response:
    runtime = runtime_of(request)
    restriction = run_restriction(grant)

    def read() -> tuple[PipelineStep, list[PipelineLogChunk]]:
        with runtime.db.read_session() as session:
            visible_run(session, run_id, restriction)
            step = session.scalar(
                select(PipelineStep).where(
                    PipelineStep.run_id == run_id, PipelineStep.step_id == step_id
                )
            )
            if step is None:
                names = ", ".join(s.step_id for s in _steps(session, run_id)) or "none"
                raise NotFoundError(f"Run {run_id} has no step {step_id!r} (its steps: {names})")
            chunks = session.scalars(
                select(PipelineLogChunk)
                .where(PipelineLogChunk.step_id == step.id, PipelineLogChunk.id > after)
                .order_by(PipelineLogChunk.id)
                .limit(LOG_CHUNKS_PER_ANSWER)
            ).all()
            return step, list(chunks)

    step, chunks = await run_read(read)
    last = chunks[-1].id if chunks else after
    if "application/json" in request.headers.get("accept", ""):
        return json_response(
            {
                "step": step_json(step),
                "chunks": [
                    {"id": c.id, "at": as_utc(c.at).isoformat(), "text": c.text} for c in chunks
                ],
                "last": last,
            }
        )
    headers = {"x-last-chunk": str(last), "x-step-status": step.status}
    return Response(
        "".join(c.text for c in chunks), media_type="text/plain; charset=utf-8", headers=headers
    )


@router.get("/runs/{run_id}/artifacts", summary="The files a run's steps left")
async def list_artifacts(request: Request, run_id: str, grant: ReadGrant) -> Response:
    runtime = runtime_of(request)
    restriction = run_restriction(grant)

    def read() -> list[dict[str, Any]]:
        with runtime.db.read_session() as session:
            visible_run(session, run_id, restriction)
            rows = session.execute(
                select(PipelineArtifact, PipelineStep.step_id)
                .join(PipelineStep, PipelineStep.id == PipelineArtifact.step_id)
                .where(PipelineStep.run_id == run_id)
                .order_by(PipelineArtifact.id)
            ).all()
            return [artifact_json(artifact, step, run_id) for artifact, step in rows]

    return json_response({"items": await run_read(read)})


@router.get("/runs/{run_id}/artifacts/{artifact_id}", summary="Download one artifact")
async def download_artifact(
    request: Request, run_id: str, artifact_id: int, grant: ReadGrant
) -> Response:
    runtime = runtime_of(request)
    restriction = run_restriction(grant)

    def read() -> PipelineArtifact:
        with runtime.db.read_session() as session:
            visible_run(session, run_id, restriction)
            artifact = session.scalar(
                select(PipelineArtifact)
                .join(PipelineStep, PipelineStep.id == PipelineArtifact.step_id)
                .where(PipelineStep.run_id == run_id, PipelineArtifact.id == artifact_id)
            )
        if artifact is None:
            raise NotFoundError(f"Run {run_id} has no artifact {artifact_id}")
        return artifact

    artifact = await run_read(read)
    root = runtime.settings.resolved_artifacts_dir.resolve()
    path = (root / artifact.stored).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise NotFoundError(
            f"Artifact {artifact_id} is no longer in the artifact store (kept "
            f"{runtime.settings.pipelines.artifact_retention_days} days)"
        )
    name = artifact.path.replace("\\", "/").rsplit("/", 1)[-1] or "artifact"
    return FileResponse(path, filename=name, media_type="application/octet-stream")


@router.post("/runs/{run_id}/cancel", summary="Cancel a run: queued at once, running within 1 s")
async def cancel_run(request: Request, run_id: str, grant: CancelGrant) -> Response:
    runtime = runtime_of(request)
    restriction = run_restriction(grant)

    def cancel() -> dict[str, Any]:
        with runtime.db.read_session() as session:
            run = visible_run(session, run_id, restriction)
            check_on_component(grant, session, run.component_ref)
        cancelled = service.cancel_run(runtime, run_id, actor=grant.actor)
        return run_json(cancelled, base_url=runtime.settings.resolved_base_url)

    return json_response(await run_in_threadpool(cancel))


def _steps(session: Any, run_id: str) -> list[PipelineStep]:
    return list(
        session.scalars(
            select(PipelineStep)
            .where(PipelineStep.run_id == run_id)
            .order_by(PipelineStep.position, PipelineStep.id)
        )
    )


def _encode_cursor(run: PipelineRun) -> str:
    text = f"{as_utc(run.created_at).isoformat()}|{run.id}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode_cursor(value: str) -> tuple[datetime, str]:
    try:
        text = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        at, _, run_id = text.partition("|")
        return as_utc(datetime.fromisoformat(at)), run_id
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InputError(
            "cursor: it is not a cursor this server handed out; start again without it"
        ) from None


routers = (router, api_triggers.router)
