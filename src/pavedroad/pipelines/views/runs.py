"""The pipeline pages: every run (filtered, a page at a time) and one run followed live.

A live run page polls ``/pipelines/runs/{id}/live?after=<last log chunk>`` with HTMX: the
answer replaces the status and the steps and appends only the log chunks the page lacks; when
the run has finished it asks the browser to reload once, for the final layout (the failing
step's log first, tests, coverage, artifacts). Without JavaScript the page refreshes itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from starlette.responses import HTMLResponse

from pavedroad.catalog.refs import RefError, parse_ref
from pavedroad.core.errors import InputError
from pavedroad.core.web import run_read
from pavedroad.permissions.dependencies import Grant, require
from pavedroad.pipelines import queries
from pavedroad.pipelines.access import run_restriction
from pavedroad.pipelines.permissions import CANCEL_RUN, READ_RUNS
from pavedroad.pipelines.views.access import may
from pavedroad.pipelines.views.present import BADGE_CLASSES, STATUSES, run_duration, run_view
from pavedroad.web import navigation
from pavedroad.web.templating import render
from pavedroad.web.viewer import Viewer, attach_viewer

if TYPE_CHECKING:
    from pavedroad.runtime import Runtime

router = APIRouter(include_in_schema=False)
navigation.register(navigation.NavItem("Pipelines", "/pipelines", "▶", 25))
ReadGrant = Annotated[Grant, Depends(require(READ_RUNS))]
ViewerDep = Annotated[Viewer, Depends(attach_viewer)]
PAGE_SIZE = 50


def _number(text: str | None, name: str, default: int = 0) -> int:
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise InputError(f"{name} must be a whole number, not {text!r}.") from None
    if value < 0:
        raise InputError(f"{name} must be 0 or more, not {value}.")
    return value


@router.get("/pipelines", response_class=HTMLResponse)
async def run_list(request: Request, grant: ReadGrant, viewer: ViewerDep) -> HTMLResponse:
    runtime: Runtime = request.app.state.runtime
    params = request.query_params
    status = params.get("status") or ""
    if status and status not in STATUSES:
        raise InputError(f"status must be one of {', '.join(STATUSES)}, not {status!r}.")
    wanted = queries.RunFilter(
        status=status,
        component=_component(params.get("component") or ""),
        branch=(params.get("branch") or "").strip(),
    )
    offset = _number(params.get("offset"), "offset")
    restriction = run_restriction(grant)

    def read() -> queries.RunPage:
        with runtime.db.read_session() as session:
            page = queries.list_runs(
                session, wanted, restriction=restriction, offset=offset, limit=PAGE_SIZE
            )
            session.expunge_all()
            return page

    page = await run_read(read)
    filters = {k: v for k, v in vars_of(wanted).items() if v}
    context = {
        "page": page,
        "wanted": wanted,
        "statuses": STATUSES,
        "badges": BADGE_CLASSES,
        "run_duration": run_duration,
        "previous_url": _page_url(filters, page.previous_offset),
        "next_url": _page_url(filters, page.next_offset),
        "breadcrumbs": [("Pipelines", None)],
    }
    return render(request, "pipelines/runs.html", context)


def _component(text: str) -> str:
    """The component filter as a ref: ``ledger`` and ``default/ledger`` mean
    ``component:default/ledger``."""
    if not text.strip():
        return ""
    try:
        return str(parse_ref(text.strip(), default_kind="component"))
    except RefError as error:
        raise InputError(f"component: {error}") from None


def vars_of(wanted: queries.RunFilter) -> dict[str, str]:
    return {"status": wanted.status, "component": wanted.component, "branch": wanted.branch}


def _page_url(filters: dict[str, str], offset: int | None) -> str | None:
    if offset is None:
        return None
    return "/pipelines?" + urlencode({**filters, "offset": offset} if offset else filters)


def _read_run(runtime: Runtime, grant: Grant, run_id: str) -> dict[str, Any]:
    restriction = run_restriction(grant)
    with runtime.db.read_session() as session:
        detail = queries.get_run_detail(session, run_id, restriction=restriction)
        session.expunge_all()
    view = run_view(detail)
    return {
        "view": view,
        "run": view.run,
        "badges": BADGE_CLASSES,
        "can_cancel": view.live and may(runtime, grant.principal, CANCEL_RUN),
    }


@router.get("/pipelines/runs/{run_id}", response_class=HTMLResponse)
async def run_page(
    request: Request, run_id: str, grant: ReadGrant, viewer: ViewerDep
) -> HTMLResponse:
    runtime: Runtime = request.app.state.runtime
    context = await run_read(lambda: _read_run(runtime, grant, run_id))
    run = context["run"]
    context["breadcrumbs"] = [("Pipelines", "/pipelines"), (f"Run #{run.number}", None)]
    return render(request, "pipelines/run.html", context)


@router.get("/pipelines/runs/{run_id}/live", response_class=HTMLResponse)
async def run_live(
    request: Request, run_id: str, grant: ReadGrant, viewer: ViewerDep
) -> HTMLResponse:
    """What a live run page lacks: the status, the steps, and the log chunks after ``after``;
    once the run has finished, a reload (``HX-Refresh``) for the final page."""
    runtime: Runtime = request.app.state.runtime
    after = _number(request.query_params.get("after"), "after")
    restriction = run_restriction(grant)

    def read() -> dict[str, Any]:
        with runtime.db.read_session() as session:
            detail = queries.get_run_detail(session, run_id, restriction=restriction, logs=False)
            chunks = list(queries.log_chunks_after(session, run_id, after))
            session.expunge_all()
        view = run_view(detail)
        new: dict[int, list[Any]] = {}
        for chunk in chunks:
            new.setdefault(chunk.step_id, []).append(chunk)
        return {
            "view": view,
            "run": view.run,
            "badges": BADGE_CLASSES,
            "new_chunks": new,
            "after": chunks[-1].id if chunks else after,
            "can_cancel": view.live and may(runtime, grant.principal, CANCEL_RUN),
        }

    context = await run_read(read)
    headers = {} if context["view"].live else {"HX-Refresh": "true"}
    return render(request, "pipelines/_run_live.html", context, headers=headers)
