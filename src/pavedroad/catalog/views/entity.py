"""Entity pages: a header, tabs from the entity-page-tab hook, starring, recent visits."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import orjson
from fastapi import APIRouter, BackgroundTasks, Depends, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, Response

from pavedroad.catalog import personal, queries
from pavedroad.catalog.hooks import TabContext
from pavedroad.core.actors import Actor
from pavedroad.core.errors import NotFoundError
from pavedroad.core.web import require, run_read
from pavedroad.web.templating import is_htmx, render
from pavedroad.web.viewer import Viewer, attach_viewer

if TYPE_CHECKING:
    from pavedroad.runtime import Runtime

router = APIRouter(include_in_schema=False)

KIND_LABELS = {"api": "API"}


def page_ref(namespace: str, kind: str, name: str) -> str:
    return f"{kind}:{namespace}/{name}".lower()


def _load(runtime: Runtime, ref: str) -> tuple[dict[str, Any], str]:
    with runtime.db.read_session() as session:
        row = queries.entity_row(session, ref)
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
) -> HTMLResponse:
    runtime: Runtime = request.app.state.runtime
    ref = page_ref(namespace, kind, name)
    query = dict(request.query_params)

    def read() -> dict[str, Any]:
        entity, relations_json = _load(runtime, ref)
        entity["relations"] = orjson.loads(relations_json)
        tabs = [tab for tab in runtime.entity_tabs if tab.applies_to(entity)]
        active = next((t for t in tabs if t.id == query.get("tab")), tabs[0])
        with runtime.db.read_session() as session:
            context = TabContext(entity, ref, session, runtime, viewer, query)
            panel = active.render(context)
            starred = personal.is_starred(session, viewer.ref, ref)
        return {
            "entity": entity,
            "ref": ref,
            "tabs": tabs,
            "active": active,
            "panel": panel,
            "starred": starred,
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
    actor: Annotated[Actor, Depends(require("catalog.entity.star"))],
) -> Response:
    runtime: Runtime = request.app.state.runtime
    ref = page_ref(namespace, kind, name)
    form = await request.form()

    def write() -> bool:
        _load(runtime, ref)
        with runtime.db.session() as session:
            if form.get("star") == "on":
                personal.star(session, ref, actor=actor)
                return True
            personal.unstar(session, ref, actor=actor)
            return False

    starred = await run_in_threadpool(write)
    if is_htmx(request):
        return render(request, "catalog/_star.html", {"ref": ref, "starred": starred})
    return Response(status_code=303, headers={"location": request.url.path.removesuffix("/star")})
