"""An entity's neighbourhood for the Relations tab: walked breadth-first through the relations
table, one query per level, served as JSON for the Cytoscape graph and as lists without it.

Views are shareable: the depth and the relation kinds are query parameters of the entity page
(``?tab=relations&depth=2&rel=ownership,apis``) and of ``graph.json``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Depends, Request
from sqlalchemy import case, select
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from pavedroad.catalog import queries
from pavedroad.catalog.models import Entity, EntityRelation
from pavedroad.catalog.queries.restriction import Restriction
from pavedroad.catalog.refs import entity_path
from pavedroad.catalog.views.entity import display_name, page_ref
from pavedroad.catalog.views.overview import kind_heading
from pavedroad.catalog.visibility import visible_entities
from pavedroad.core.errors import NotFoundError
from pavedroad.core.web import json_response, run_read
from pavedroad.permissions.dependencies import Grant, require

if TYPE_CHECKING:
    from pavedroad.catalog.hooks import TabContext
    from pavedroad.runtime import Runtime

router = APIRouter(include_in_schema=False)

NODE_LIMIT = 150
MAX_DEPTH = 3
DEFAULT_DEPTH = 2


@dataclass(frozen=True, slots=True)
class RelationKind:
    """A family of relation types that people switch on and off together."""

    key: str
    label: str
    types: frozenset[str]


RELATION_KINDS = (
    RelationKind("ownership", "Ownership", frozenset({"ownedBy", "ownerOf"})),
    RelationKind(
        "membership", "Membership", frozenset({"memberOf", "hasMember", "childOf", "parentOf"})
    ),
    RelationKind("part-of", "Part of", frozenset({"partOf", "hasPart"})),
    RelationKind("dependencies", "Dependencies", frozenset({"dependsOn", "dependencyOf"})),
    RelationKind(
        "apis",
        "APIs provided and consumed",
        frozenset({"providesApi", "apiProvidedBy", "consumesApi", "apiConsumedBy"}),
    ),
)
KIND_OF_TYPE = {type_: kind.key for kind in RELATION_KINDS for type_ in kind.types}

# Every relation is stored in both directions; the graph draws one edge per pair, pointing the
# way people read it ("order-service is owned by team-checkout").
FORWARD = {
    "ownerOf": "ownedBy",
    "hasPart": "partOf",
    "dependencyOf": "dependsOn",
    "apiProvidedBy": "providesApi",
    "apiConsumedBy": "consumesApi",
    "hasMember": "memberOf",
    "parentOf": "childOf",
}
EDGE_LABELS = {
    "ownedBy": "owned by",
    "partOf": "part of",
    "dependsOn": "depends on",
    "providesApi": "provides",
    "consumesApi": "consumes",
    "memberOf": "member of",
    "childOf": "child of",
}
# What a node is to the node it was reached from, when the relation ``from -type-> node`` led there.
ROLES = {
    "ownedBy": "owner of",
    "ownerOf": "owned by",
    "partOf": "contains",
    "hasPart": "part of",
    "dependsOn": "dependency of",
    "dependencyOf": "depends on",
    "providesApi": "provided by",
    "apiProvidedBy": "provides",
    "consumesApi": "consumed by",
    "apiConsumedBy": "consumes",
    "memberOf": "has member",
    "hasMember": "member of",
    "childOf": "parent of",
    "parentOf": "child of",
}
KIND_ORDER = ("domain", "system", "component", "api", "resource", "group", "user", "location")
DISTANCES = {1: "Directly related", 2: "Two steps away", 3: "Three steps away"}


@dataclass(frozen=True, slots=True)
class GraphOptions:
    """How far to walk and along which relation kinds."""

    depth: int
    kinds: tuple[str, ...]

    @classmethod
    def parse(cls, entity_kind: str, depth: str | None, rel: str | None) -> GraphOptions:
        """Options from query parameters; missing or invalid ones fall back to the defaults.

        ``rel`` absent means the default kinds; present but empty means none. Membership is off
        by default except for people and teams, whose neighbourhood it is: from a component it
        only adds every member of the owning team.
        """
        try:
            steps = min(max(int(depth or DEFAULT_DEPTH), 1), MAX_DEPTH)
        except ValueError:
            steps = DEFAULT_DEPTH
        if rel is None:
            people = entity_kind.lower() in ("group", "user")
            kinds = tuple(k.key for k in RELATION_KINDS if people or k.key != "membership")
        else:
            wanted = {part.strip() for part in rel.split(",")}
            kinds = tuple(k.key for k in RELATION_KINDS if k.key in wanted)
        return cls(steps, kinds)

    @property
    def types(self) -> list[str]:
        return sorted(t for kind in RELATION_KINDS if kind.key in self.kinds for t in kind.types)

    def query(self) -> str:
        return urlencode({"depth": self.depth, "rel": ",".join(self.kinds)}, safe=",")


@dataclass(slots=True)
class Node:
    ref: str
    kind: str
    name: str
    title: str
    type: str | None
    depth: int
    missing: bool
    via: str | None  # the node it was reached from
    via_type: str | None  # the relation type from ``via`` to this node

    @property
    def url(self) -> str | None:
        return None if self.missing else entity_path(self.ref)

    @property
    def role(self) -> str:
        return ROLES.get(self.via_type or "", "related to")


@dataclass(frozen=True, slots=True)
class Edge:
    source: str
    type: str
    target: str


@dataclass(slots=True)
class Neighbourhood:
    root: str
    nodes: list[Node]
    edges: list[Edge]
    total: int
    complete: bool  # False: the walk stopped at the node limit, ``total`` is a lower bound

    @property
    def truncated(self) -> bool:
        return len(self.nodes) < self.total or not self.complete


def neighbourhood(
    session: Session,
    root: str,
    options: GraphOptions,
    *,
    limit: int = NODE_LIMIT,
    restriction: Restriction | None = None,
) -> Neighbourhood:
    """The entities within ``options.depth`` relations of ``root``, nearest first, at most
    ``limit`` of them, with the relations among them. Entities the viewer may not see
    (``restriction``) are neither shown nor walked through.

    Queries: one per level walked (two with a restriction), one for the edges, one for the
    entities' details.
    """
    types = options.types
    reached: dict[str, tuple[int, str | None, str | None]] = {root: (0, None, None)}
    frontier = [root]
    complete = True
    for level in range(1, options.depth + 1):
        if not frontier or not types:
            break
        if len(reached) >= limit:
            # The next level could not be shown anyway; walking it could touch thousands.
            complete = False
            break
        rows = session.execute(
            select(EntityRelation.source_ref, EntityRelation.type, EntityRelation.target_ref)
            .where(EntityRelation.source_ref.in_(frontier), EntityRelation.type.in_(types))
            .order_by(EntityRelation.source_ref, EntityRelation.type, EntityRelation.target_ref)
        )
        frontier = []
        for source, type_, target in rows:
            if target not in reached:
                reached[target] = (level, source, type_)
                frontier.append(target)
        if restriction is not None and frontier:
            hidden = _hidden(session, frontier, restriction)
            frontier = [ref for ref in frontier if ref not in hidden]
            for ref in hidden:
                del reached[ref]
    shown = sorted(reached, key=lambda ref: (reached[ref][0], ref))[:limit]
    # Every edge drawn is a step of the walk: relations among the outermost nodes lie beyond
    # the chosen depth, and drawing them turns a large graph into a hairball.
    outermost = max(reached[ref][0] for ref in shown)
    inner = [ref for ref in shown if reached[ref][0] < outermost] or shown
    details = _details(session, shown)
    nodes = [_node(ref, reached[ref], details.get(ref)) for ref in shown]
    edges = _edges(session, inner, shown, types)
    return Neighbourhood(root, nodes, edges, len(reached), complete)


def _hidden(session: Session, refs: list[str], restriction: Restriction) -> set[str]:
    """The refs of entities that exist but may not be seen (dangling refs stay visible)."""
    rows = session.execute(
        select(Entity.ref, case((restriction.condition, True), else_=False)).where(
            Entity.ref.in_(refs)
        )
    )
    return {ref for ref, visible in rows if not visible}


def _details(session: Session, refs: list[str]) -> dict[str, dict[str, Any]]:
    rows = session.execute(select(Entity.ref, Entity.body).where(Entity.ref.in_(refs)))
    return {ref: orjson.loads(body) for ref, body in rows}


def _node(ref: str, reached: tuple[int, str | None, str | None], entity: Any) -> Node:
    depth, via, via_type = reached
    if entity is None:
        name = ref.split(":", 1)[-1].split("/", 1)[-1]
        return Node(ref, ref.split(":", 1)[0], name, name, None, depth, True, via, via_type)
    spec = entity.get("spec") if isinstance(entity.get("spec"), dict) else {}
    type_ = spec.get("type") if isinstance(spec.get("type"), str) else None
    name = str(entity["metadata"]["name"])
    kind = str(entity["kind"]).lower()
    return Node(ref, kind, name, display_name(entity), type_, depth, False, via, via_type)


def _edges(session: Session, sources: list[str], refs: list[str], types: list[str]) -> list[Edge]:
    """The relations from ``sources`` to ``refs``, one edge per pair of directions."""
    if not types or len(refs) < 2:
        return []
    rows = session.execute(
        select(EntityRelation.source_ref, EntityRelation.type, EntityRelation.target_ref).where(
            EntityRelation.source_ref.in_(sources),
            EntityRelation.target_ref.in_(refs),
            EntityRelation.type.in_(types),
        )
    )
    edges: set[Edge] = set()
    for source, type_, target in rows:
        if type_ in FORWARD:
            edges.add(Edge(target, FORWARD[type_], source))
        else:
            edges.add(Edge(source, type_, target))
    return sorted(edges, key=lambda e: (e.source, e.type, e.target))


def graph_document(found: Neighbourhood, options: GraphOptions) -> dict[str, Any]:
    """What graph.js draws: nodes and edges in Cytoscape's terms, and how much was left out."""
    return {
        "root": found.root,
        "depth": options.depth,
        "rel": list(options.kinds),
        "nodes": [
            {
                "id": node.ref,
                "kind": node.kind,
                "name": node.name,
                "title": node.title,
                "type": node.type,
                "depth": node.depth,
                "via": node.via,
                "missing": node.missing,
                "url": node.url,
            }
            for node in found.nodes
        ],
        "edges": [
            {
                "source": edge.source,
                "target": edge.target,
                "type": edge.type,
                "kind": KIND_OF_TYPE.get(edge.type, "other"),
                "label": EDGE_LABELS.get(edge.type, edge.type),
            }
            for edge in found.edges
        ],
        "shown": len(found.nodes),
        "total": found.total,
        "complete": found.complete,
        "limit": NODE_LIMIT,
    }


def build(context: TabContext) -> dict[str, Any]:
    """What the Relations tab shows: the options form, the graph's source and the lists."""
    options = GraphOptions.parse(
        context.entity["kind"], context.query.get("depth"), context.query.get("rel")
    )
    found = neighbourhood(context.session, context.ref, options, restriction=context.restriction)
    titles = {node.ref: node.title for node in found.nodes}
    levels: dict[int, dict[str, list[Node]]] = defaultdict(lambda: defaultdict(list))
    for node in found.nodes[1:]:
        levels[node.depth][node.kind].append(node)
    page = entity_path(context.ref)
    return {
        "ref": context.ref,
        "title": titles[context.ref],
        "options": options,
        "relation_kinds": RELATION_KINDS,
        "depths": range(1, MAX_DEPTH + 1),
        "found": found,
        "titles": titles,
        "levels": [
            (
                DISTANCES.get(depth, f"{depth} steps away"),
                sum(len(nodes) for nodes in by_kind.values()),
                [
                    (kind_heading(kind, len(by_kind[kind])), by_kind[kind])
                    for kind in sorted(by_kind, key=_kind_rank)
                ],
            )
            for depth, by_kind in sorted(levels.items())
        ],
        "legend": _legend(found.nodes),
        "page_url": page,
        "form_url": f"{page}/relations",
        "graph_url": f"{page}/graph.json?{options.query()}",
        "limit": NODE_LIMIT,
    }


def _legend(nodes: list[Node]) -> list[tuple[str, str]]:
    """(CSS kind, label) for each kind of node in the graph, in the lists' order."""
    kinds = sorted({node.kind for node in nodes if not node.missing}, key=_kind_rank)
    legend = [(kind, kind_heading(kind, 1)) for kind in kinds]
    if any(node.missing for node in nodes):
        legend.append(("missing", "Not in the catalog"))
    return legend


def _kind_rank(kind: str) -> tuple[int, str]:
    return (KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER), kind)


def _rel_parameter(request: Request) -> str | None:
    """``rel`` as one comma-separated value, whether sent once or once per ticked box."""
    values = request.query_params.getlist("rel")
    if not values:
        return None
    return ",".join(part for value in values for part in value.split(",") if part)


@router.get("/catalog/{namespace}/{kind}/{name}/graph.json")
async def graph_json(
    request: Request,
    namespace: str,
    kind: str,
    name: str,
    grant: Annotated[Grant, Depends(require("catalog.entity.read"))],
) -> Response:
    runtime: Runtime = request.app.state.runtime
    ref = page_ref(namespace, kind, name)
    options = GraphOptions.parse(kind, request.query_params.get("depth"), _rel_parameter(request))
    visible = visible_entities(grant)

    def read() -> dict[str, Any]:
        with runtime.db.read_session() as session:
            if queries.entity_row(session, ref, restriction=visible) is None:
                raise NotFoundError(f"There is no {kind} called {namespace}/{name} in the catalog.")
            found = neighbourhood(session, ref, options, restriction=visible)
            return graph_document(found, options)

    return json_response(await run_read(read))


@router.get("/catalog/{namespace}/{kind}/{name}/relations")
async def relations_form(
    request: Request,
    namespace: str,
    kind: str,
    name: str,
    grant: Annotated[Grant, Depends(require("catalog.entity.read"))],
) -> Response:
    """Where the options form goes without JavaScript: to the tab, with ``rel`` as one value.

    Browsers send one ``rel`` per ticked box; the page keeps one value per parameter.
    """
    options = GraphOptions.parse(
        kind, request.query_params.get("depth"), _rel_parameter(request) or ""
    )
    page = entity_path(page_ref(namespace, kind, name))
    return RedirectResponse(f"{page}?tab=relations&{options.query()}", status_code=303)
