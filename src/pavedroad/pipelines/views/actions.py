"""What people do from the pipeline pages: run a component's pipeline now (a branch or a
commit) and cancel a run. Both go through the pipeline service, which audits them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from pavedroad.core.errors import InputError
from pavedroad.permissions.dependencies import Grant, require
from pavedroad.pipelines import service
from pavedroad.pipelines.access import (
    check_on_component,
    component_entity,
    run_restriction,
    visible_run,
)
from pavedroad.pipelines.permissions import CANCEL_RUN, START_RUN
from pavedroad.pipelines.repositories import repository_of_entity

if TYPE_CHECKING:
    from pavedroad.runtime import Runtime

router = APIRouter(include_in_schema=False)


def _field(form: FormData, name: str) -> str | None:
    value = form.get(name)
    return value.strip() or None if isinstance(value, str) else None


@router.post("/pipelines/runs")
async def start_from_page(
    request: Request, grant: Annotated[Grant, Depends(require(START_RUN))]
) -> Response:
    """Run a component's pipeline on a branch (default: the repository's default branch) or
    at a commit, then follow it on its page."""
    runtime: Runtime = request.app.state.runtime
    form = await request.form()
    component = _field(form, "component")
    branch, commit = _field(form, "branch"), _field(form, "commit")
    if component is None:
        raise InputError("Say which component to run: the form's component field is empty.")

    def start() -> str:
        ref = component.lower()
        with runtime.db.read_session() as session:
            entity = component_entity(session, ref, run_restriction(grant))
            check_on_component(grant, session, ref)
        repository = repository_of_entity(entity)
        if repository is None:
            raise InputError(
                f"{ref} names no repository: set its backstage.io/source-location annotation "
                "to the repository's URL (url:https://... or url:file:///...)"
            )
        run = service.start_run(
            runtime,
            repository=repository,
            trigger="manual",
            actor=grant.actor,
            branch=branch,
            commit=commit,
            component_ref=ref,
        )
        return run.id

    run_id = await run_in_threadpool(start)
    return RedirectResponse(f"/pipelines/runs/{run_id}", status_code=303)


@router.post("/pipelines/runs/{run_id}/cancel")
async def cancel_from_page(
    request: Request, run_id: str, grant: Annotated[Grant, Depends(require(CANCEL_RUN))]
) -> Response:
    runtime: Runtime = request.app.state.runtime

    def cancel() -> None:
        with runtime.db.read_session() as session:
            run = visible_run(session, run_id, run_restriction(grant))
            check_on_component(grant, session, run.component_ref)
        service.cancel_run(runtime, run_id, actor=grant.actor)

    await run_in_threadpool(cancel)
    return RedirectResponse(f"/pipelines/runs/{run_id}", status_code=303)
