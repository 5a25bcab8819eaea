"""The catalog page: a table with facet filters, full-text filter, sorting and cursor pages.

Every filter lives in the URL (a view can be shared); HTMX swaps the table and the facet counts
in place, and the page works the same with JavaScript off (the form submits).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session
from starlette.responses import HTMLResponse

from pavedroad.catalog import personal, queries
from pavedroad.catalog.queries.filters import Statement
from pavedroad.catalog.refs import RefError, parse_ref
from pavedroad.catalog.visibility import visible_entities
from pavedroad.core.web import run_read
from pavedroad.permissions.dependencies import Grant, require
from pavedroad.web import navigation
from pavedroad.web.templating import is_htmx, render
from pavedroad.web.viewer import Viewer, attach_viewer

if TYPE_CHECKING:
    from pavedroad.runtime import Runtime

router = APIRouter(include_in_schema=False)

navigation.register(navigation.NavItem("Catalog", "/catalog", "▦", 10))
navigation.register(navigation.NavItem("APIs", "/catalog?kind=api", "⇄", 15))


@dataclass(frozen=True, slots=True)
class Facet:
    param: str  # query parameter of the page
    label: str
    key: str  # the filter / facet key of the catalog API
    shown: int = 8


FACETS = (
    Facet("kind", "Kind", "kind"),
    Facet("type", "Type", "spec.type"),
    Facet("owner", "Owner", "relations.ownedBy"),
    Facet("lifecycle", "Lifecycle", "spec.lifecycle"),
    Facet("system", "System", "spec.system"),
    Facet("namespace", "Namespace", "metadata.namespace"),
    Facet("tag", "Tags", "metadata.tags", shown=12),
)
SORTS = {
    "name": "metadata.name",
    "kind": "kind",
    "type": "spec.type",
    "owner": "spec.owner",
    "lifecycle": "spec.lifecycle",
}
PAGE_SIZES = (25, 50, 100)
STARRED_LIMIT = 200


@dataclass(slots=True)
class CatalogView:
    """What the page was asked for, read from (and written back to) the URL."""

    selected: dict[str, list[str]]
    text: str
    owned: bool
    starred: bool
    sort: str
    descending: bool
    size: int
    cursor: str | None

    @classmethod
    def from_request(cls, request: Request) -> CatalogView:
        params = request.query_params
        selected = {facet.param: [v for v in params.getlist(facet.param) if v] for facet in FACETS}
        size = int(params.get("size", "25")) if params.get("size", "25").isdigit() else 25
        return cls(
            selected={name: values for name, values in selected.items() if values},
            text=params.get("q", "").strip(),
            owned=params.get("owned") == "me",
            starred=params.get("starred") == "me",
            sort=params.get("sort", "name") if params.get("sort") in SORTS else "name",
            descending=params.get("dir") == "desc",
            size=size if size in PAGE_SIZES else 25,
            cursor=params.get("cursor") or None,
        )

    def url(self, **changes: Any) -> str:
        """This view's URL with some parameters changed (a cursor is dropped unless given)."""
        pairs: list[tuple[str, str]] = []
        selected = changes.pop("selected", self.selected)
        for facet in FACETS:
            pairs += [(facet.param, value) for value in selected.get(facet.param, [])]
        values = {
            "q": self.text,
            "owned": "me" if self.owned else "",
            "starred": "me" if self.starred else "",
            "sort": self.sort if self.sort != "name" else "",
            "dir": "desc" if self.descending else "",
            "size": str(self.size) if self.size != 25 else "",
            "cursor": "",
            **changes,
        }
        pairs += [(key, str(value)) for key, value in values.items() if value]
        return "/catalog" + (f"?{urlencode(pairs)}" if pairs else "")

    def toggled(self, param: str, value: str) -> str:
        current = list(self.selected.get(param, []))
        current = [v for v in current if v != value] if value in current else [*current, value]
        return self.url(selected={**self.selected, param: current})

    def sorted_by(self, column: str) -> str:
        descending = not self.descending if self.sort == column else False
        return self.url(sort=column, dir="desc" if descending else "")


def statements(view: CatalogView, viewer: Viewer, skip: str | None = None) -> list[Statement]:
    """The filter statements (ANDed) of a view; ``skip`` leaves one facet out (for its counts)."""
    found: list[Statement] = []
    for facet in FACETS:
        values = view.selected.get(facet.param)
        if values and facet.param != skip:
            key = facet.key.lower()
            for value in values:  # several values of one facet: all must hold (tags) ...
                found.append((key, (value.lower(),)))
    if view.owned:
        found.append(("relations.ownedby", tuple(sorted(viewer.ownership_refs))))
    return _merge_single_valued(found)


def _merge_single_valued(found: list[Statement]) -> list[Statement]:
    # ... except where an entity has one value (kind, type, owner, ...): then any may match.
    merged: dict[str, set[str]] = {}
    kept: list[Statement] = []
    for key, values in found:
        if key == "metadata.tags":
            kept.append((key, values))
        else:
            merged.setdefault(key, set()).update(values or ())
    return kept + [(key, tuple(sorted(values))) for key, values in merged.items()]


def filter_groups(
    view: CatalogView, viewer: Viewer, stars: Sequence[str], skip: str | None = None
) -> queries.FilterGroups:
    base = statements(view, viewer, skip)
    if not view.starred:
        return [base] if base else []
    groups: queries.FilterGroups = []
    for ref in stars[:STARRED_LIMIT]:
        try:
            parsed = parse_ref(ref)
        except RefError:
            continue
        identity: list[Statement] = [
            ("kind", (parsed.kind.lower(),)),
            ("metadata.namespace", (parsed.namespace.lower(),)),
            ("metadata.name", (parsed.name.lower(),)),
        ]
        groups.append(base + identity)
    nothing: queries.FilterGroups = [[("metadata.uid", ("-",))]]  # starred nothing: no result
    return groups or nothing


@dataclass(slots=True)
class Row:
    ref: str
    name: str
    title: str | None
    kind: str
    namespace: str
    type: str | None
    owner: str | None
    owner_ref: str | None
    system: str | None
    lifecycle: str | None
    description: str
    tags: list[str]


def row_of(entity_row: queries.EntityRow) -> Row:
    entity = orjson.loads(entity_row[2])
    relations = orjson.loads(entity_row[3])
    metadata, spec = entity["metadata"], entity.get("spec") or {}
    owner_ref = next((r["targetRef"] for r in relations if r["type"] == "ownedBy"), None)
    profile: dict[str, Any] = spec["profile"] if isinstance(spec.get("profile"), dict) else {}
    return Row(
        ref=entity_row[1],
        name=metadata["name"],
        title=metadata.get("title") or _text(profile.get("displayName")),
        kind=entity["kind"],
        namespace=metadata.get("namespace", "default"),
        type=_text(spec.get("type")),
        owner=_text(spec.get("owner")),
        owner_ref=owner_ref,
        system=_text(spec.get("system")),
        lifecycle=_text(spec.get("lifecycle")),
        description=str(metadata.get("description") or ""),
        tags=[str(tag) for tag in metadata.get("tags") or []][:4],
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def read_catalog(
    runtime: Runtime,
    view: CatalogView,
    viewer: Viewer,
    restriction: queries.Restriction | None = None,
) -> dict[str, Any]:
    with runtime.db.read_session() as session:
        stars = personal.starred(session, viewer.ref) if view.starred else []
        groups = filter_groups(view, viewer, stars)
        order = queries.Order(SORTS[view.sort], view.descending)
        query = queries.EntityQuery(groups, order, view.text or None, restriction=restriction)
        decoded = queries.decode_cursor(view.cursor) if view.cursor else None
        page = queries.query_entities(
            session, query, limit=view.size, cursor=decoded, cache=runtime.catalog.cache
        )
        facets = _facet_counts(session, runtime, view, viewer, stars, restriction)
    return {
        "rows": [row_of(entity_row) for entity_row in page.rows],
        "total": page.total or 0,
        "next_url": view.url(cursor=page.next_cursor) if page.next_cursor else None,
        "prev_url": view.url(cursor=page.prev_cursor) if page.prev_cursor else None,
        "facets": facets,
    }


def _facet_counts(
    session: Session,
    runtime: Runtime,
    view: CatalogView,
    viewer: Viewer,
    stars: Sequence[str],
    restriction: queries.Restriction | None,
) -> list[tuple[Facet, list[dict[str, Any]], list[str]]]:
    """Each facet's values with counts under the *other* filters, selected values first."""
    result = []
    cache = runtime.catalog.cache
    for facet in FACETS:
        groups = filter_groups(view, viewer, stars, skip=facet.param)
        counts = queries.facets(
            session, [facet.key], groups, cache=cache, term=view.text, restriction=restriction
        )[facet.key]
        selected = view.selected.get(facet.param, [])
        chosen = [c for c in counts if str(c["value"]).lower() in {s.lower() for s in selected}]
        others = [c for c in counts if c not in chosen][: max(0, facet.shown - len(chosen))]
        missing = [
            s for s in selected if s.lower() not in {str(c["value"]).lower() for c in chosen}
        ]
        result.append((facet, chosen + others, missing))
    return result


@router.get("/catalog", response_class=HTMLResponse)
async def catalog_page(
    request: Request,
    viewer: Annotated[Viewer, Depends(attach_viewer)],
    grant: Annotated[Grant, Depends(require("catalog.entity.read"))],
) -> HTMLResponse:
    runtime: Runtime = request.app.state.runtime
    view = CatalogView.from_request(request)
    restriction = visible_entities(grant)
    data = await run_read(lambda: read_catalog(runtime, view, viewer, restriction))
    context = {
        "view": view,
        "sorts": SORTS,
        "page_sizes": PAGE_SIZES,
        "breadcrumbs": [("Catalog", None)],
        **data,
    }
    template = "catalog/_catalog.html" if is_htmx(request) else "catalog/catalog.html"
    return render(request, template, context)
