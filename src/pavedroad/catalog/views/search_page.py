"""Search: one box over what the portal knows, ranked so that the thing you named comes first.

Results come from *search sources* (:data:`SEARCH_SOURCES`); the catalog is the first, and docs
and templates add theirs with :func:`register_source` when they arrive. Each source answers with
its best hits and its own facets; the page shows them in order.

The catalog source never scans: it takes candidates from indexes (names by prefix from the name
index, everything else from the full-text trigram index), at most a few hundred, and ranks those
in Python: exact name, name prefix, name contains, then title, description and tags.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, Protocol
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Depends, Request
from markupsafe import Markup, escape
from sqlalchemy import ColumnElement, and_, func, select, true
from sqlalchemy.orm import Session
from starlette.responses import HTMLResponse

from pavedroad.catalog import queries
from pavedroad.catalog.models import Entity
from pavedroad.catalog.queries.filters import full_text_condition
from pavedroad.catalog.queries.restriction import restriction_key
from pavedroad.catalog.read_cache import current_generation
from pavedroad.catalog.refs import RefError, entity_path, short_ref
from pavedroad.catalog.visibility import visible_entities
from pavedroad.core.web import run_read
from pavedroad.permissions.dependencies import Grant, require
from pavedroad.web.templating import is_htmx, render
from pavedroad.web.viewer import Viewer, attach_viewer

if TYPE_CHECKING:
    from pavedroad.runtime import Runtime

router = APIRouter(include_in_schema=False)

MAX_TERM = 100
FULL_TEXT_MIN = 3  # the trigram index answers terms of three characters or more
CANDIDATES = 200
SHOWN = 25
SNIPPET = 180
KIND_LABELS = {"api": "API"}
MATCHED_IN = ("name", "name", "name", "title", "description", "tag", "type")


@dataclass(frozen=True, slots=True)
class SearchRequest:
    text: str  # as typed (trimmed)
    kind: str | None = None  # a catalog kind to narrow to, lower-cased
    # What the asker may see (a queries.Restriction), None for everything: sources apply it.
    restriction: Any = field(default=None, compare=False)

    @property
    def term(self) -> str:
        return " ".join(self.text.lower().split())

    def url(self, **changes: str | None) -> str:
        values = {"q": self.text, "kind": self.kind, **changes}
        return "/search?" + urlencode({k: v for k, v in values.items() if v})


@dataclass(frozen=True, slots=True)
class SearchHit:
    url: str
    title: Markup
    name: Markup | None  # shown beside a title that differs from the name
    kind: str
    type: str | None
    summary: Markup
    tags: list[Markup]
    owner: str | None
    namespace: str
    matched_in: str


@dataclass(frozen=True, slots=True)
class FacetLink:
    value: str
    label: str
    count: int
    selected: bool
    url: str


@dataclass(slots=True)
class SourceResults:
    source: str
    hits: list[SearchHit]
    total: int
    facets: list[FacetLink] = field(default_factory=list)
    note: str | None = None  # what was searched, when it is less than everything


class SearchSource(Protocol):
    """Something the portal can search: the catalog now, docs and templates later."""

    name: str

    def search(self, runtime: Runtime, session: Session, request: SearchRequest) -> SourceResults:
        """The best hits for a (non-empty) request, most relevant first."""
        ...


SEARCH_SOURCES: list[SearchSource] = []


def register_source(source: SearchSource) -> None:
    """Add a search source; sources are searched and shown in registration order."""
    SEARCH_SOURCES[:] = [s for s in SEARCH_SOURCES if s.name != source.name] + [source]


# -- matching and highlighting -------------------------------------------------------------------


def highlight(text: str, term: str) -> Markup:
    """``text`` escaped, with every case-insensitive occurrence of ``term`` in ``<mark>``."""
    if not term:
        return escape(text)
    parts: list[Markup] = []
    start = 0
    for found in re.finditer(re.escape(term), text, re.IGNORECASE):
        parts.append(escape(text[start : found.start()]))
        parts.append(Markup("<mark>%s</mark>") % found.group())
        start = found.end()
    parts.append(escape(text[start:]))
    return Markup("").join(parts)


def snippet(text: str, term: str, width: int = SNIPPET) -> str:
    """A window of ``text`` around the first match, cut at words, with ellipses where cut."""
    if len(text) <= width:
        return text
    found = text.lower().find(term) if term else -1
    start = 0 if found < width // 3 else text.rfind(" ", 0, found - width // 4) + 1
    end = start + width
    cut = text.rfind(" ", start, end) if end < len(text) else len(text)
    end = cut if cut > start else end
    return ("… " if start else "") + text[start:end].strip() + (" …" if end < len(text) else "")


def tier(term: str, name: str, title: str, description: str, tags: list[str]) -> int:
    """0 exact name, 1 name prefix, 2 name contains, 3 title, 4 description, 5 tag, 6 other."""
    if name == term:
        return 0
    if name.startswith(term):
        return 1
    if term in name:
        return 2
    if term in title:
        return 3
    if term in description:
        return 4
    if any(term in tag for tag in tags):
        return 5
    return 6


def name_prefix(term: str) -> ColumnElement[bool]:
    """Names starting with ``term``, from the name index.

    A range walks the b-tree on both databases (PostgreSQL uses an index for ``LIKE 'x%'`` only
    under the C collation); the LIKE keeps the answer exact whatever the collation.
    """
    upper = term[:-1] + chr(min(ord(term[-1]) + 1, 0x10FFFF))
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return and_(
        Entity.name_key >= term,
        Entity.name_key < upper,
        Entity.name_key.like(f"{escaped}%", escape="\\"),
    )


# -- the catalog as a search source --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Ranked:
    """A candidate after ranking: what a hit shows (kept in the cache, so no markup yet)."""

    rank: tuple[int, int, str, str]
    ref: str
    kind: str
    name: str
    title: str | None
    description: str
    type: str | None
    tags: tuple[str, ...]
    owner: str | None


class CatalogSearch:
    name = "Catalog"

    def search(self, runtime: Runtime, session: Session, request: SearchRequest) -> SourceResults:
        term = request.term
        cache = runtime.catalog.cache
        generation = current_generation(session)  # one read validates both cached answers
        visible = request.restriction
        seen_by = restriction_key(visible)
        counts: dict[str, int] = cache.get_or_compute_at(
            generation,
            ("search-kinds", term, seen_by),
            lambda: self._kind_counts(session, term, visible),
        )
        ranked: list[_Ranked] = cache.get_or_compute_at(
            generation,
            ("search-hits", term, request.kind, seen_by),
            lambda: self._ranked(session, term, request.kind, visible),
        )
        facets = [
            FacetLink(
                value=kind,
                label=KIND_LABELS.get(kind, kind.capitalize()),
                count=count,
                selected=kind == request.kind,
                url=request.url(kind=None if kind == request.kind else kind),
            )
            for kind, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        ]
        total = counts.get(request.kind, 0) if request.kind else sum(counts.values())
        note = None
        if len(term) < FULL_TEXT_MIN:
            note = "Names starting with your search; type three characters or more to search "
            note += "titles, descriptions and tags too."
        return SourceResults(self.name, [_hit(r, term) for r in ranked], total, facets, note)

    def _kind_counts(
        self, session: Session, term: str, visible: queries.Restriction | None
    ) -> dict[str, int]:
        condition = (
            name_prefix(term)
            if len(term) < FULL_TEXT_MIN
            else full_text_condition(term, None, _dialect(session))
        )
        if visible is not None:
            condition = and_(condition, visible.condition)
        statement = select(Entity.kind_key, func.count()).where(condition).group_by(Entity.kind_key)
        return {kind: int(count) for kind, count in session.execute(statement)}

    def _ranked(
        self, session: Session, term: str, kind: str | None, visible: queries.Restriction | None
    ) -> list[_Ranked]:
        narrowed = Entity.kind_key == kind if kind else true()
        if visible is not None:
            narrowed = and_(narrowed, visible.condition)
        columns = (Entity.id, Entity.ref, Entity.body)
        # Names first, from the name index: an exact or prefix match is never crowded out of
        # the candidates by hundreds of description matches.
        statements = [select(*columns).where(name_prefix(term), narrowed).order_by(Entity.name_key)]
        if len(term) >= FULL_TEXT_MIN:
            text = full_text_condition(term, None, _dialect(session))
            statements.append(select(*columns).where(text, narrowed))
        candidates: dict[int, tuple[str, str]] = {}
        for statement in statements:
            for id_, ref, body in session.execute(statement.limit(CANDIDATES)):
                candidates[id_] = (ref, body)
        ranked = [_rank(ref, orjson.loads(body), term) for ref, body in candidates.values()]
        ranked.sort(key=lambda item: item.rank)
        return ranked[:SHOWN]


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _rank(ref: str, entity: dict[str, Any], term: str) -> _Ranked:
    metadata: dict[str, Any] = entity.get("metadata") or {}
    spec: dict[str, Any] = entity["spec"] if isinstance(entity.get("spec"), dict) else {}
    profile: dict[str, Any] = spec["profile"] if isinstance(spec.get("profile"), dict) else {}
    name = str(metadata.get("name") or "")
    title = metadata.get("title") or profile.get("displayName")
    description = str(metadata.get("description") or "")
    tags = tuple(str(tag) for tag in metadata.get("tags") or [] if isinstance(tag, str | int))
    level = tier(
        term,
        name.lower(),
        str(title or "").lower(),
        description.lower(),
        [tag.lower() for tag in tags],
    )
    owner = spec.get("owner")
    return _Ranked(
        rank=(level, len(name), name.lower(), ref),
        ref=ref,
        kind=str(entity.get("kind") or ""),
        name=name,
        title=str(title) if title else None,
        description=description,
        type=spec["type"] if isinstance(spec.get("type"), str) else None,
        tags=tags,
        owner=owner if isinstance(owner, str) else None,
    )


def _hit(ranked: _Ranked, term: str) -> SearchHit:
    tags = sorted(ranked.tags, key=lambda tag: term not in tag.lower())[:5]
    return SearchHit(
        url=entity_path(ranked.ref),
        title=highlight(ranked.title or ranked.name, term),
        name=highlight(ranked.name, term) if ranked.title else None,
        kind=KIND_LABELS.get(ranked.kind.lower(), ranked.kind),
        type=ranked.type,
        summary=highlight(snippet(ranked.description, term), term),
        tags=[highlight(tag, term) for tag in tags],
        owner=_owner_text(ranked.owner),
        namespace=ranked.ref.split(":", 1)[1].split("/", 1)[0],
        matched_in=MATCHED_IN[ranked.rank[0]],
    )


def _qualified(owner: str) -> str:
    return owner if ":" in owner else f"group:{owner}"


def _owner_text(owner: str | None) -> str | None:
    if not owner:
        return None
    try:
        return short_ref(_qualified(owner), default_kind="group")
    except RefError:
        return owner


register_source(CatalogSearch())


# -- the page ------------------------------------------------------------------------------------


def run_search(runtime: Runtime, request: SearchRequest) -> dict[str, Any]:
    with runtime.db.read_session() as session:
        if not request.term:
            cache = runtime.catalog.cache
            visible = request.restriction
            kinds = queries.facets(session, ["kind"], [], cache=cache, restriction=visible)["kind"]
            return {"sections": [], "total": 0, "browse_kinds": kinds}
        sections = [source.search(runtime, session, request) for source in SEARCH_SOURCES]
    return {"sections": sections, "total": sum(s.total for s in sections), "browse_kinds": []}


@router.get("/search", response_class=HTMLResponse)
async def search_page(
    request: Request,
    viewer: Annotated[Viewer, Depends(attach_viewer)],
    grant: Annotated[Grant, Depends(require("catalog.entity.read"))],
) -> HTMLResponse:
    runtime: Runtime = request.app.state.runtime
    text = " ".join(request.query_params.get("q", "").split())[:MAX_TERM]
    kind = request.query_params.get("kind", "").strip().lower() or None
    search = SearchRequest(text, kind, visible_entities(grant))
    data = await run_read(lambda: run_search(runtime, search))
    context = {
        **data,
        "search": search,
        "search_query": text,
        "kind_labels": KIND_LABELS,
        "shown": SHOWN,
        "breadcrumbs": [("Search", None)],
    }
    template = "catalog/_search_results.html" if is_htmx(request) else "catalog/search.html"
    return render(request, template, context)
