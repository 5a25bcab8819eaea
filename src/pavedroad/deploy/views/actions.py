"""What people do from the Deployments tab: promote what runs in one environment to the next,
and roll an environment back. Both go through the deployment service, which audits them; the
permission policy is asked about the environment as the API does."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.responses import HTMLResponse, RedirectResponse, Response

from pavedroad.catalog.refs import entity_path
from pavedroad.catalog.visibility import readable_entities
from pavedroad.core.errors import InputError, NotFoundError
from pavedroad.core.git import git
from pavedroad.core.web import run_read
from pavedroad.deploy import service
from pavedroad.deploy.api import check_trigger
from pavedroad.deploy.permissions import READ, TRIGGER
from pavedroad.permissions.dependencies import Grant, require
from pavedroad.pipelines.access import component_entity
from pavedroad.pipelines.repositories import repository_of_entity
from pavedroad.pipelines.views.access import grant_for
from pavedroad.pipelines.workspace import mirror_path
from pavedroad.web.templating import render
from pavedroad.web.viewer import Viewer, attach_viewer

if TYPE_CHECKING:
    from pavedroad.runtime import Runtime

router = APIRouter(include_in_schema=False)
COMPONENT = "/deployments/{kind}/{namespace}/{name}"
MAX_COMMITS = 200


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise InputError(f"The form's {name} field is empty.")
    return text


def _visible(runtime: Runtime, grant: Grant, kind: str, namespace: str, name: str) -> str:
    """The component's ref when the asker may see its deployments (404 otherwise). Seeing is
    asked as ``deployment.read``: the trigger grant's condition is about environments, which
    no catalog query can express."""
    ref = f"{kind}:{namespace}/{name}".lower()
    reader = grant_for(runtime, grant.principal, READ)
    if reader is None:
        raise NotFoundError(f"No catalog entity {ref}")
    with runtime.db.read_session() as session:
        component_entity(session, ref, readable_entities(reader))
    return ref


def _back(ref: str, deployment_id: str) -> Response:
    return RedirectResponse(
        f"{entity_path(ref)}?tab=deployments&deployment={deployment_id}", status_code=303
    )


@router.post(COMPONENT + "/promote")
async def promote_from_page(
    request: Request,
    kind: str,
    namespace: str,
    name: str,
    grant: Annotated[Grant, Depends(require(TRIGGER))],
) -> Response:
    runtime: Runtime = request.app.state.runtime
    form = await request.form()
    source, target = _field(form, "from"), _field(form, "to")

    def promote() -> tuple[str, str]:
        ref = _visible(runtime, grant, kind, namespace, name)
        check_trigger(grant, ref, target)
        deployment = service.promote(
            runtime,
            component_ref=ref,
            from_environment=source,
            to_environment=target,
            actor=grant.actor,
        )
        return ref, deployment.id

    ref, deployment_id = await run_in_threadpool(promote)
    return _back(ref, deployment_id)


@router.post(COMPONENT + "/rollback")
async def rollback_from_page(
    request: Request,
    kind: str,
    namespace: str,
    name: str,
    grant: Annotated[Grant, Depends(require(TRIGGER))],
) -> Response:
    runtime: Runtime = request.app.state.runtime
    form = await request.form()
    environment = _field(form, "environment")

    def roll_back() -> tuple[str, str]:
        ref = _visible(runtime, grant, kind, namespace, name)
        check_trigger(grant, ref, environment)
        deployment = service.rollback(
            runtime, component_ref=ref, environment=environment, actor=grant.actor
        )
        return ref, deployment.id

    ref, deployment_id = await run_in_threadpool(roll_back)
    return _back(ref, deployment_id)


def commits_between(mirror: Any, older: str, newer: str) -> list[dict[str, str]]:
    """The commits ``older..newer`` (what ``newer`` brings), newest first."""
    result = git(
        [
            "log",
            f"--max-count={MAX_COMMITS}",
            "--format=%H%x1f%an%x1f%aI%x1f%s",
            f"{older}..{newer}",
        ],
        cwd=mirror,
    )
    if result.returncode != 0:
        raise NotFoundError(
            f"The repository's mirror does not know {older[:12]} and {newer[:12]}",
            hint="deploy again to fetch it",
        )
    commits = []
    for line in result.stdout.splitlines():
        sha, author, date, subject = [*line.split("\x1f"), "", "", ""][:4]
        commits.append({"sha": sha, "author": author, "date": date, "subject": subject})
    return commits


@router.get("/deployments/compare", response_class=HTMLResponse)
async def compare_page(
    request: Request,
    grant: Annotated[Grant, Depends(require(READ))],
    viewer: Annotated[Viewer, Depends(attach_viewer)],
) -> HTMLResponse:
    """The commits between two deployed versions of a component."""
    runtime: Runtime = request.app.state.runtime
    component = request.query_params.get("component", "").strip().lower()
    older = request.query_params.get("from", "").strip()
    newer = request.query_params.get("to", "").strip()
    if not component or not older or not newer:
        raise InputError("Say which component and which two commits: ?component=&from=&to=")
    for commit in (older, newer):
        if not all(c in "0123456789abcdefABCDEF" for c in commit) or not 4 <= len(commit) <= 64:
            raise InputError(f"{commit!r} is not a commit id")

    def read() -> dict[str, Any]:
        with runtime.db.read_session() as session:
            entity = component_entity(session, component, readable_entities(grant))
        repository = repository_of_entity(entity)
        if repository is None:
            raise NotFoundError(f"{component} names no repository")
        mirror = mirror_path(runtime.settings, repository)
        if not (mirror / "HEAD").is_file():
            raise NotFoundError(f"{repository} has not been fetched here yet")
        return {
            "component": component,
            "repository": repository,
            "older": older,
            "newer": newer,
            "commits": commits_between(mirror, older, newer),
        }

    context = await run_read(read)
    context["breadcrumbs"] = [
        (component, entity_path(component) + "?tab=deployments"),
        ("Compare versions", None),
    ]
    return render(request, "deploy/compare.html", context)
