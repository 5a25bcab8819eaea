"""The home page: what you own, what you starred, where you were, and what needs you.

Later capabilities (pipelines, incidents, scorecards) add panels through :func:`register_panel`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request
from starlette.responses import HTMLResponse

from pavedroad.catalog import personal, queries
from pavedroad.catalog.visibility import visible_entities
from pavedroad.core.web import run_read
from pavedroad.permissions.dependencies import Grant, require
from pavedroad.web.templating import render
from pavedroad.web.viewer import Viewer, attach_viewer

if TYPE_CHECKING:
    from pavedroad.runtime import Runtime

router = APIRouter(include_in_schema=False)
OWNED_SHOWN = 8


@dataclass(frozen=True, slots=True)
class HomePanel:
    """A card on the home page; ``render`` returns its HTML for a viewer (or None to hide it).

    It is called on a database-read thread with the request's grant of ``catalog.entity.read``
    (what of the catalog the viewer may see: ``visible_entities(grant)``)."""

    title: str
    order: int
    render: Callable[[Runtime, Viewer, Grant], str | None]


_PANELS: list[HomePanel] = []


def register_panel(panel: HomePanel) -> None:
    _PANELS.append(panel)
    _PANELS.sort(key=lambda item: item.order)


def _summaries(rows: list[queries.EntityRow]) -> list[dict[str, Any]]:
    result = []
    for row in rows:
        entity = orjson.loads(row[2])
        result.append(
            {
                "ref": row[1],
                "name": entity["metadata"].get("title") or entity["metadata"]["name"],
                "kind": entity["kind"],
                "description": entity["metadata"].get("description") or "",
            }
        )
    return result


def read_home(
    runtime: Runtime, viewer: Viewer, visible: queries.Restriction | None = None
) -> dict[str, Any]:
    owned_filter: queries.FilterGroups = [
        [("relations.ownedby", tuple(sorted(viewer.ownership_refs)))]
    ]
    cache = runtime.catalog.cache
    with runtime.db.read_session() as session:
        kinds = queries.facets(session, ["kind"], owned_filter, cache=cache, restriction=visible)
        owned = queries.query_entities(
            session,
            queries.EntityQuery(owned_filter, queries.Order("metadata.name"), restriction=visible),
            limit=OWNED_SHOWN,
            cache=cache,
        )
        starred_refs = list(personal.starred(session, viewer.ref))[:12]
        recent_refs = list(personal.recent(session, viewer.ref))
        found = queries.entities_by_refs(session, starred_refs + recent_refs, [], visible)
    return {
        "owned_kinds": kinds["kind"],
        "owned_total": owned.total or 0,
        "owned": _summaries(owned.rows),
        "starred": _summaries([found[r] for r in starred_refs if r in found]),
        "recent": _summaries([found[r] for r in recent_refs if r in found]),
    }


@router.get("/", response_class=HTMLResponse)
async def home(
    request: Request,
    viewer: Annotated[Viewer, Depends(attach_viewer)],
    grant: Annotated[Grant, Depends(require("catalog.entity.read"))],
) -> HTMLResponse:
    runtime: Runtime = request.app.state.runtime
    visible = visible_entities(grant)

    def read() -> dict[str, Any]:
        data = read_home(runtime, viewer, visible)
        panels = [(panel.title, panel.render(runtime, viewer, grant)) for panel in _PANELS]
        data["panels"] = [(title, html) for title, html in panels if html]
        return data

    return render(request, "home.html", await run_read(read))
