"""A template run as people follow it: its steps and log live (HTMX polling, or a refresh
without JavaScript), its output links, cancelling; and the history of runs."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from pavedroad.catalog.refs import entity_path
from pavedroad.permissions.dependencies import Grant, require
from pavedroad.scaffolder import service, tasks
from pavedroad.scaffolder.models import ScaffolderTask, ScaffolderTaskEvent
from pavedroad.scaffolder.permissions import CANCEL_TASK, MANAGE_TASKS, READ_TASKS
from pavedroad.web.templating import is_htmx, render
from pavedroad.web.viewer import Viewer, attach_viewer

if TYPE_CHECKING:
    from pavedroad.runtime import Runtime

router = APIRouter(include_in_schema=False)
ReadGrant = Annotated[Grant, Depends(require(READ_TASKS))]
ViewerDep = Annotated[Viewer, Depends(attach_viewer)]


@dataclass
class StepView:
    id: str
    name: str
    status: str = "open"
    lines: list[str] = field(default_factory=list)
    started: datetime | None = None
    ended: datetime | None = None

    @property
    def duration(self) -> str:
        if self.started is None or self.ended is None:
            return ""
        return f"{(self.ended - self.started).total_seconds():.1f} s"


@dataclass
class RunView:
    task: ScaffolderTask
    steps: list[StepView]
    general: list[str]  # log lines outside any step
    last_event: int

    @property
    def finished(self) -> bool:
        return self.task.status in tasks.FINISHED

    @property
    def failing_step(self) -> str | None:
        return next((s.id for s in self.steps if s.status == "failed"), None)


def run_view(task: ScaffolderTask, events: list[ScaffolderTaskEvent]) -> RunView:
    steps: OrderedDict[str, StepView] = OrderedDict()
    general: list[str] = []
    for event in events:
        if event.kind == "step" and event.step_id:
            step = steps.setdefault(event.step_id, StepView(event.step_id, event.message))
            step.status = event.status or step.status
            if event.status == "processing":
                step.started = event.at
            elif event.status in ("completed", "failed", "skipped"):
                step.ended = event.at
        elif event.kind == "log" and event.step_id:
            steps.setdefault(event.step_id, StepView(event.step_id, event.step_id))
            steps[event.step_id].lines.append(event.message)
        elif event.kind == "log":
            general.append(event.message)
    last = events[-1].id if events else 0
    return RunView(task, list(steps.values()), general, last)


def _read(runtime: Runtime, task_id: str) -> RunView:
    with runtime.db.read_session() as session:
        task = tasks.get_task(session, task_id)
        events = list(tasks.events_after(session, task_id))
        session.expunge_all()
    return run_view(task, events)


@router.get("/create/tasks", response_class=HTMLResponse)
async def history(request: Request, grant: ReadGrant, viewer: ViewerDep) -> HTMLResponse:
    runtime: Runtime = request.app.state.runtime
    template = request.query_params.get("template") or None
    everyone = request.query_params.get("who") == "all"

    def read() -> list[ScaffolderTask]:
        with runtime.db.read_session() as session:
            found = list(
                tasks.list_tasks(
                    session,
                    created_by=None if everyone else viewer.ref,
                    template_ref=template,
                    limit=100,
                )
            )
            session.expunge_all()
            return found

    context = {
        "runs": await run_in_threadpool(read),
        "template": template,
        "everyone": everyone,
        "breadcrumbs": [("Create", "/create"), ("Runs", None)],
    }
    return render(request, "scaffolder/history.html", context)


@router.get("/create/tasks/{task_id}", response_class=HTMLResponse)
async def run_page(
    request: Request, task_id: str, grant: ReadGrant, viewer: ViewerDep
) -> HTMLResponse:
    runtime: Runtime = request.app.state.runtime
    view = await run_in_threadpool(_read, runtime, task_id)
    context = {
        "run": view,
        "can_cancel": _may_cancel(runtime, grant, view.task),
        "links": output_links(view.task.output or {}),
        "breadcrumbs": [("Create", "/create"), ("Runs", "/create/tasks"), (task_id[:8], None)],
    }
    template = "scaffolder/_run_live.html" if is_htmx(request) else "scaffolder/run.html"
    return render(request, template, context)


@router.post("/create/tasks/{task_id}/cancel")
async def cancel(
    request: Request, task_id: str, grant: Annotated[Grant, Depends(require(CANCEL_TASK))]
) -> Response:
    runtime: Runtime = request.app.state.runtime

    await run_in_threadpool(service.cancel_run, runtime, task_id, grant.principal)
    return RedirectResponse(f"/create/tasks/{task_id}", status_code=303)


def _may_cancel(runtime: Runtime, grant: Grant, task: ScaffolderTask) -> bool:
    if task.status in tasks.FINISHED:
        return False
    if task.created_by == grant.principal.ref:
        return True
    return runtime.permissions.decide(grant.principal, MANAGE_TASKS).allowed


def output_links(output: dict[str, Any]) -> list[dict[str, str]]:
    """Output links as the page shows them: a URL, or an entity's page for ``entityRef``."""
    links = []
    for link in output.get("links") or []:
        if not isinstance(link, dict):
            continue
        url = link.get("url") or (
            entity_path(str(link["entityRef"])) if link.get("entityRef") else ""
        )
        if url:
            links.append({"title": str(link.get("title") or url), "url": str(url)})
    return links
