"""Entity pages: a header, tabs from the entity-page-tab hook, starring, recent visits."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote

import orjson
from fastapi import APIRouter, BackgroundTasks, Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session
from starlette.responses import HTMLResponse, RedirectResponse, Response

from pavedroad.catalog import personal, queries, service
from pavedroad.catalog.hooks import TabContext
from pavedroad.catalog.views.actions import entity_actions
from pavedroad.catalog.visibility import visible_entities
from pavedroad.core.errors import NotFoundError
from pavedroad.core.web import run_read
from pavedroad.permissions.dependencies import Grant, require
from pavedroad.web.templating import is_htmx, render
from pavedroad.web.viewer import Viewer, attach_viewer

if TYPE_CHECKING:
    from pavedroad.runtime import Runtime

router = APIRouter(include_in_schema=False)

KIND_LABELS = {"api": "API"}


def page_ref(namespace: str, kind: str, name: str) -> str:
    return f"{kind}:{namespace}/{name}".lower()


def _load(
    runtime: Runtime, ref: str, restriction: queries.Restriction | None = None
) -> tuple[dict[str, Any], str]:
    """The entity and its relations JSON; 404 when it does not exist or may not be seen."""
    with runtime.db.read_session() as session:
        row = queries.entity_row(session, ref, restriction=restriction)
    if row is None:
        raise NotFoundError(
            f"There is no {ref.split(':')[0]} called {ref.split(':', 1)[1]} in the catalog."
        )
    return orjson.loads(row[2]), row[3]


@router.get("/catalog/{namespace}/{kind}/{name}", response_class=HTMLResponse)
async def entity_page(
    request: Request,
    namespace: str,
    kind: str,
    name: str,
    background: BackgroundTasks,
    viewer: Annotated[Viewer, Depends(attach_viewer)],
    grant: Annotated[Grant, Depends(require("catalog.entity.read"))],
) -> HTMLResponse:
    runtime: Runtime = request.app.state.runtime
    ref = page_ref(namespace, kind, name)
    query = dict(request.query_params)
    restriction = visible_entities(grant)

    def read() -> dict[str, Any]:
        entity, relations_json = _load(runtime, ref, restriction)
        entity["relations"] = orjson.loads(relations_json)
        tabs = [tab for tab in runtime.entity_tabs if tab.applies_to(entity)]
        active = next((t for t in tabs if t.id == query.get("tab")), tabs[0])
        with runtime.db.read_session() as session:
            context = TabContext(
                entity, ref, session, runtime, viewer, query, restriction, grant.principal
            )
            panel = active.render(context)
            starred = personal.is_starred(session, viewer.ref, ref)
        return {
            "entity": entity,
            "ref": ref,
            "tabs": tabs,
            "active": active,
            "panel": panel,
            "starred": starred,
            "actions": entity_actions(runtime, grant, entity),
        }

    data = await run_read(read)
    background.add_task(_remember_visit, runtime, viewer.ref, ref)
    entity = data["entity"]
    kind_label = KIND_LABELS.get(entity["kind"].lower(), entity["kind"])
    data["heading"] = display_name(entity)
    data["breadcrumbs"] = [
        ("Catalog", "/catalog"),
        (kind_label, f"/catalog?kind={entity['kind'].lower()}"),
        (data["heading"], None),
    ]
    data["kind_label"] = kind_label
    if is_htmx(request) and request.headers.get("hx-target") == "tab-panel":
        return render(request, "catalog/_tab_panel.html", data)
    return render(request, "catalog/entity.html", data)


def display_name(entity: dict[str, Any]) -> str:
    """What people call an entity: its title, a person's or team's display name, or its name."""
    spec: dict[str, Any] = entity["spec"] if isinstance(entity.get("spec"), dict) else {}
    profile: dict[str, Any] = spec["profile"] if isinstance(spec.get("profile"), dict) else {}
    name = (
        entity["metadata"].get("title") or profile.get("displayName") or entity["metadata"]["name"]
    )
    return str(name)


def _remember_visit(runtime: Runtime, user_ref: str, ref: str) -> None:
    with runtime.db.session() as session:
        personal.record_visit(session, user_ref, ref)


@router.post("/catalog/{namespace}/{kind}/{name}/star", response_class=HTMLResponse)
async def toggle_star(
    request: Request,
    namespace: str,
    kind: str,
    name: str,
    grant: Annotated[Grant, Depends(require("catalog.entity.star"))],
) -> Response:
    runtime: Runtime = request.app.state.runtime
    ref = page_ref(namespace, kind, name)
    form = await request.form()
    reader = runtime.permissions.decide(grant.principal, "catalog.entity.read")

    def write() -> bool:
        entity, _ = _load(runtime, ref)
        if not reader.allows(entity):
            raise NotFoundError(f"There is no {kind} called {namespace}/{name} in the catalog.")
        with runtime.db.session() as session:
            if form.get("star") == "on":
                personal.star(session, ref, actor=grant.actor)
                return True
            personal.unstar(session, ref, actor=grant.actor)
            return False

    starred = await run_in_threadpool(write)
    if is_htmx(request):
        return render(request, "catalog/_star.html", {"ref": ref, "starred": starred})
    return Response(status_code=303, headers={"location": request.url.path.removesuffix("/star")})


EntityChange = Callable[[Session, "Runtime", dict[str, Any], Grant], None]


async def _change_entity(request: Request, ref: str, grant: Grant, change: EntityChange) -> None:
    """Load the entity, check the grant on it, make the change in one transaction."""
    runtime: Runtime = request.app.state.runtime

    def run() -> None:
        entity, _ = _load(runtime, ref)
        grant.check(entity, ref=ref)
        with runtime.db.session() as session:
            change(session, runtime, entity, grant)

    await run_in_threadpool(run)


@router.post("/catalog/{namespace}/{kind}/{name}/refresh")
async def refresh_from_page(
    request: Request,
    namespace: str,
    kind: str,
    name: str,
    grant: Annotated[Grant, Depends(require("catalog.entity.refresh"))],
) -> Response:
    """Read the entity's location again now, then back to the page."""
    ref = page_ref(namespace, kind, name)

    def refresh(session: Session, runtime: Runtime, entity: dict[str, Any], grant: Grant) -> None:
        service.refresh_entity(session, runtime.catalog, ref, actor=grant.actor)

    await _change_entity(request, ref, grant, refresh)
    return RedirectResponse(f"{request.url.path.removesuffix('/refresh')}?refreshed=1", 303)


@router.post("/catalog/{namespace}/{kind}/{name}/delete")
async def delete_from_page(
    request: Request,
    namespace: str,
    kind: str,
    name: str,
    grant: Annotated[Grant, Depends(require("catalog.entity.delete"))],
) -> Response:
    """Delete the entity (Backstage's semantics: its location brings it back at refresh)."""
    ref = page_ref(namespace, kind, name)

    def delete(session: Session, runtime: Runtime, entity: dict[str, Any], grant: Grant) -> None:
        service.delete_entity(session, entity["metadata"]["uid"], actor=grant.actor)

    await _change_entity(request, ref, grant, delete)
    return RedirectResponse(f"/catalog?deleted={quote(ref)}", 303)
