"""What starts and reports runs from outside: the webhooks of GitHub, GitLab and Gitea (public:
their signature is their authentication), the watched repositories, and the reports of runs
executed on Argo Workflows or GitHub Actions (a service token allowed ``pipeline.run.report``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from starlette.responses import Response

from pavedroad.core.errors import InputError
from pavedroad.core.web import json_response, run_read
from pavedroad.permissions.dependencies import Grant, require
from pavedroad.pipelines import external, watched, webhooks
from pavedroad.pipelines.permissions import READ_RUNS, REPORT_RUN, START_RUN
from pavedroad.pipelines.run_json import run_json
from pavedroad.pipelines.webhook_events import PROVIDERS

if TYPE_CHECKING:
    from pavedroad.runtime import Runtime

router = APIRouter(prefix="/api/pipelines/v1", tags=["pipelines"])
WEBHOOK_ROUTES = tuple(f"/api/pipelines/v1/webhooks/{p}" for p in PROVIDERS)


class WatchCreate(BaseModel):
    url: str = Field(description="a local path, file:// URL or git URL")
    component: str | None = Field(None, description="default: the component it is the repo of")


async def _body(request: Request, provider: str, runtime: Runtime) -> bytes:
    """The raw body, read up to the limit (the signature is over these exact bytes)."""
    limit = webhooks.MAX_BODY_BYTES
    declared = request.headers.get("content-length", "")
    chunks: list[bytes] = []
    size = int(declared) if declared.isdigit() else 0
    if size <= limit:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                break
            chunks.append(chunk)
    if size > limit:
        delivery = webhooks.Delivery(provider, _headers(request), b"")
        raise await run_in_threadpool(
            webhooks.refuse, runtime, delivery, f"the body is over {limit} bytes", 413
        )
    return b"".join(chunks)


def _headers(request: Request) -> dict[str, str]:
    return {key.lower(): value for key, value in request.headers.items()}


async def _webhook(request: Request, provider: str) -> Response:
    runtime: Runtime = request.app.state.runtime
    webhooks.configured_secret(runtime, provider)  # before reading a body nothing can check
    body = await _body(request, provider, runtime)
    delivery = webhooks.Delivery(provider, _headers(request), body)
    outcome = await run_in_threadpool(webhooks.receive_webhook, runtime, delivery)
    return json_response(outcome.body, outcome.status_code)


@router.post(
    "/webhooks/github", summary="GitHub push and pull_request events (X-Hub-Signature-256)"
)
async def github_webhook(request: Request) -> Response:
    return await _webhook(request, "github")


@router.post("/webhooks/gitlab", summary="GitLab push and merge request events (X-Gitlab-Token)")
async def gitlab_webhook(request: Request) -> Response:
    return await _webhook(request, "gitlab")


@router.post("/webhooks/gitea", summary="Gitea push and pull_request events (X-Gitea-Signature)")
async def gitea_webhook(request: Request) -> Response:
    return await _webhook(request, "gitea")


@router.get("/repositories", summary="The repositories polled for new commits")
async def list_repositories(
    request: Request, grant: Annotated[Grant, Depends(require(READ_RUNS))]
) -> Response:
    runtime: Runtime = request.app.state.runtime

    def read() -> list[dict[str, Any]]:
        with runtime.db.read_session() as session:
            return [watched.watched_json(row) for row in watched.list_watched(session)]

    return json_response({"items": await run_read(read)})


@router.post("/repositories", status_code=201, summary="Watch a repository for new commits")
async def watch_repository(
    request: Request, body: WatchCreate, grant: Annotated[Grant, Depends(require(START_RUN))]
) -> Response:
    runtime: Runtime = request.app.state.runtime

    def write() -> dict[str, Any]:
        with runtime.db.session() as session:
            row = watched.watch_repository(
                session, body.url, component_ref=body.component, actor=grant.actor
            )
            return watched.watched_json(row)

    return json_response(await run_in_threadpool(write), 201)


@router.delete("/repositories", summary="Stop watching a repository")
async def unwatch_repository(
    request: Request,
    grant: Annotated[Grant, Depends(require(START_RUN))],
    url: Annotated[str, Query(description="the repository, as watched")] = "",
) -> Response:
    runtime: Runtime = request.app.state.runtime
    if not url:
        raise InputError("Give the repository to stop watching: ?url=<its URL>")

    def write() -> None:
        with runtime.db.session() as session:
            watched.unwatch_repository(session, url, actor=grant.actor)

    await run_in_threadpool(write)
    return Response(status_code=204)


@router.post(
    "/runs/external",
    summary="An exported run (Argo Workflows, GitHub Actions) reports its status",
    responses={422: {"description": "the report's fields, each with what is wrong"}},
)
async def report_external_run(
    request: Request, grant: Annotated[Grant, Depends(require(REPORT_RUN))]
) -> Response:
    runtime: Runtime = request.app.state.runtime
    try:
        payload = orjson.loads(await request.body())
    except orjson.JSONDecodeError as error:
        raise external.ReportInvalid(f"The run report is not JSON: {error}") from None
    report = external.parse_report(payload)
    run, created = await run_in_threadpool(
        external.report_external_run, runtime, report, actor=grant.actor
    )
    return json_response(
        run_json(run, base_url=runtime.settings.resolved_base_url), 201 if created else 200
    )
