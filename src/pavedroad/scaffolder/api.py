"""The scaffolder API under ``/api/scaffolder/v2``, shaped like Backstage's: parameter schemas,
actions, tasks (create, list, get, events, cancel) and dry runs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from starlette.responses import Response, StreamingResponse

from pavedroad.core.web import json_response
from pavedroad.permissions.dependencies import Grant, require
from pavedroad.scaffolder import service, tasks
from pavedroad.scaffolder.dry_run import dry_run as run_dry
from pavedroad.scaffolder.models import ScaffolderTask, ScaffolderTaskEvent
from pavedroad.scaffolder.permissions import CANCEL_TASK, READ_TASKS
from pavedroad.scaffolder.runner import TaskRunner

if TYPE_CHECKING:
    from pavedroad.runtime import Runtime

router = APIRouter(prefix="/api/scaffolder/v2", tags=["scaffolder"])
RunGrant = Annotated[Grant, Depends(require("scaffolder.template.run"))]
ReadGrant = Annotated[Grant, Depends(require(READ_TASKS))]


class TaskCreate(BaseModel):
    templateRef: str = Field(description="e.g. template:default/python-service")  # noqa: N815
    values: dict[str, Any] = Field(default_factory=dict)
    secrets: dict[str, str] = Field(default_factory=dict, description="Never stored.")


def runner_of(request: Request) -> TaskRunner:
    runner: TaskRunner = request.app.state.scaffolder_runner
    return runner


def task_json(task: ScaffolderTask) -> dict[str, Any]:
    return {
        "id": task.id,
        "spec": {"templateRef": task.template_ref, "parameters": task.parameters},
        "templateVersion": task.template_version,
        "status": task.status,
        "dryRun": task.dry_run,
        "createdBy": task.created_by,
        "createdAt": task.created_at.isoformat(),
        "startedAt": task.started_at.isoformat() if task.started_at else None,
        "finishedAt": task.finished_at.isoformat() if task.finished_at else None,
        "output": task.output,
        "error": task.error,
    }


def event_json(event: ScaffolderTaskEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "createdAt": event.at.isoformat(),
        "type": event.kind,
        "body": {"stepId": event.step_id, "status": event.status, "message": event.message},
    }


@router.get(
    "/templates/{namespace}/{kind}/{name}/parameter-schema",
    summary="The template's form: one JSON Schema per page",
)
async def parameter_schema(
    request: Request,
    namespace: str,
    kind: str,
    name: str,
    grant: Annotated[Grant, Depends(require("catalog.entity.read"))],
) -> Response:
    from pavedroad.scaffolder import engine

    runtime: Runtime = request.app.state.runtime

    def read() -> dict[str, Any]:
        with runtime.db.read_session() as session:
            source = engine.load_template(runtime, session, f"{kind}:{namespace}/{name}".lower())
        grant.check(source.entity, ref=source.ref)
        steps = engine.parameter_steps(source.entity)
        metadata = source.entity["metadata"]
        return {
            "title": metadata.get("title") or metadata["name"],
            "description": metadata.get("description", ""),
            "steps": [{"title": s.get("title", ""), "schema": s} for s in steps],
        }

    return json_response(await run_in_threadpool(read))


@router.get("/actions", summary="Every action templates can use, with its input schema")
async def list_actions(request: Request, grant: RunGrant) -> Response:
    runtime: Runtime = request.app.state.runtime
    return json_response(
        [
            {
                "id": action.id,
                "description": action.description,
                "schema": {"input": action.input_schema, "output": action.output_schema},
            }
            for action in sorted(runtime.scaffolder_actions.values(), key=lambda a: a.id)
        ]
    )


@router.post("/tasks", status_code=201, summary="Run a template")
async def create_task(request: Request, body: TaskCreate, grant: RunGrant) -> Response:
    runtime: Runtime = request.app.state.runtime
    task_id = await run_in_threadpool(
        service.start_run,
        runtime,
        runner_of(request),
        template_ref=body.templateRef.lower(),
        values=body.values,
        secrets=body.secrets,
        actor=grant.actor,
    )
    return json_response({"id": task_id}, 201)


@router.get("/tasks", summary="Template runs, newest first")
async def list_tasks(
    request: Request,
    grant: ReadGrant,
    createdBy: str | None = None,  # noqa: N803 - Backstage's query parameter
    templateRef: str | None = None,  # noqa: N803
    limit: int = 50,
) -> Response:
    runtime: Runtime = request.app.state.runtime

    def read() -> list[dict[str, Any]]:
        with runtime.db.read_session() as session:
            found = tasks.list_tasks(
                session, created_by=createdBy, template_ref=templateRef, limit=min(limit, 500)
            )
            return [task_json(task) for task in found]

    return json_response({"tasks": await run_in_threadpool(read)})


@router.get("/tasks/{task_id}", summary="One template run")
async def get_task(request: Request, task_id: str, grant: ReadGrant) -> Response:
    runtime: Runtime = request.app.state.runtime

    def read() -> dict[str, Any]:
        with runtime.db.read_session() as session:
            return task_json(tasks.get_task(session, task_id))

    return json_response(await run_in_threadpool(read))


@router.get("/tasks/{task_id}/events", summary="A run's log after event id `after`")
async def task_events(request: Request, task_id: str, grant: ReadGrant, after: int = 0) -> Response:
    runtime: Runtime = request.app.state.runtime

    def read() -> list[dict[str, Any]]:
        with runtime.db.read_session() as session:
            tasks.get_task(session, task_id)
            return [event_json(event) for event in tasks.events_after(session, task_id, after)]

    return json_response(await run_in_threadpool(read))


@router.get("/tasks/{task_id}/eventstream", summary="A run's log as server-sent events, live")
async def task_eventstream(
    request: Request, task_id: str, grant: ReadGrant, after: int = 0
) -> Response:
    runtime: Runtime = request.app.state.runtime

    def poll(since: int) -> tuple[list[dict[str, Any]], bool]:
        with runtime.db.read_session() as session:
            task = tasks.get_task(session, task_id)
            done = task.status in tasks.FINISHED
            return [event_json(e) for e in tasks.events_after(session, task_id, since)], done

    first, _ = await run_in_threadpool(poll, after)

    async def stream() -> AsyncIterator[bytes]:
        since, pending = after, first
        while True:
            for event in pending:
                since = event["id"]
                yield (
                    b"event: "
                    + event["type"].encode()
                    + b"\ndata: "
                    + orjson.dumps(event)
                    + b"\n\n"
                )
            pending, done = await run_in_threadpool(poll, since)
            if done and not pending:
                return
            if await request.is_disconnected():
                return
            await asyncio.sleep(0.25)

    return StreamingResponse(stream(), media_type="text/event-stream")


@router.post("/tasks/{task_id}/cancel", summary="Stop a run after its current step")
async def cancel_task(
    request: Request, task_id: str, grant: Annotated[Grant, Depends(require(CANCEL_TASK))]
) -> Response:
    runtime: Runtime = request.app.state.runtime
    status = await run_in_threadpool(service.cancel_run, runtime, task_id, grant.principal)
    return json_response({"status": status})


@router.post("/dry-run", summary="Run a registered template without publishing or registering")
async def dry_run(request: Request, body: TaskCreate, grant: RunGrant) -> Response:
    runtime: Runtime = request.app.state.runtime

    def run() -> dict[str, Any]:
        done = run_dry(
            runtime, body.templateRef.lower(), body.values, actor=grant.actor, secrets=body.secrets
        )
        return {
            "status": done.result.status,
            "error": done.result.error,
            "log": done.log,
            "steps": [{"id": s.id, "name": s.name, "status": s.status} for s in done.result.steps],
            "output": done.result.output,
            "directoryContents": done.files,
        }

    return json_response(await run_in_threadpool(run))
