"""What the Overview tab shows: the About card, relations by type, and per kind what matters
(a group's members and what it owns, a user's teams, a system's parts, a domain's systems, the
APIs a component provides and consumes, the components behind an API)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import case, select, true

from pavedroad.catalog.hooks import TabContext
from pavedroad.catalog.models import Entity, IngestionError
from pavedroad.catalog.processing import MANAGED_BY_LOCATION, MANAGED_BY_ORIGIN_LOCATION

RELATION_LABELS = {
    "ownedBy": "Owned by",
    "ownerOf": "Owns",
    "partOf": "Part of",
    "hasPart": "Has part",
    "dependsOn": "Depends on",
    "dependencyOf": "Dependency of",
    "providesApi": "Provides API",
    "apiProvidedBy": "API provided by",
    "consumesApi": "Consumes API",
    "apiConsumedBy": "API consumed by",
    "memberOf": "Member of",
    "hasMember": "Members",
    "parentOf": "Parent of",
    "childOf": "Child of",
}
LINK_ICONS = {
    "github": "⎇",
    "gitlab": "⎇",
    "code": "</>",
    "source": "</>",
    "docs": "▤",
    "doc": "▤",
    "dashboard": "▥",
    "chat": "✉",
    "slack": "✉",
    "email": "✉",
    "help": "?",
    "alert": "!",
    "web": "◍",
    "cloud": "☁",
    "user": "☺",
    "group": "☺",
    "runbook": "▤",
    "catalog": "▦",
}
HIDDEN_ANNOTATIONS = {MANAGED_BY_LOCATION, MANAGED_BY_ORIGIN_LOCATION}
KIND_NOUNS = {"api": ("API", "APIs")}
PART_KIND_ORDER = ("system", "component", "api", "resource", "domain")


def kind_noun(kind: str, count: int) -> str:
    """``3 components``, ``1 API``: a kind as a noun in running text."""
    singular, plural = KIND_NOUNS.get(kind.lower(), (kind.lower(), f"{kind.lower()}s"))
    return singular if count == 1 else plural


def kind_heading(kind: str, count: int) -> str:
    """``Components``, ``APIs``: a kind as a heading over a list of that many."""
    noun = kind_noun(kind, count)
    return noun[:1].upper() + noun[1:]


@dataclass(frozen=True, slots=True)
class Summary:
    """A related entity as a line in a list: its name, type, lifecycle and description."""

    ref: str
    kind: str
    title: str
    type: str | None
    lifecycle: str | None
    description: str | None
    missing: bool


@dataclass(frozen=True, slots=True)
class Featured:
    """A card of related entities that matter for this kind, in groups (``Provides``, ...)."""

    id: str
    heading: str
    groups: list[tuple[str, list[Summary]]]

    @property
    def count(self) -> int:
        return sum(len(items) for _, items in self.groups)


def build(context: TabContext) -> dict[str, Any]:
    entity = context.entity
    metadata, spec = entity["metadata"], entity.get("spec") or {}
    relations: list[dict[str, str]] = entity.get("relations", [])
    grouped: dict[str, list[str]] = defaultdict(list)
    for relation in relations:
        grouped[relation["type"]].append(relation["targetRef"])
    owners = grouped.get("ownedBy", [])
    is_owner = (
        bool(set(owners) & set(context.viewer.ownership_refs)) or context.ref == context.viewer.ref
    )
    errors = _errors(context, context.ref)
    annotations = metadata.get("annotations") or {}
    featured, featured_types = _featured(context, entity["kind"].lower(), grouped)
    return {
        "entity": entity,
        "ref": context.ref,
        "metadata": metadata,
        "spec": spec,
        "owners": owners,
        "system": next(iter(grouped.get("partOf", [])), None)
        if entity["kind"] != "Group"
        else None,
        "domain": _domain_of(context, grouped),
        "links": [_link(link) for link in metadata.get("links") or [] if isinstance(link, dict)],
        "annotations": {k: v for k, v in annotations.items() if k not in HIDDEN_ANNOTATIONS},
        "source": annotations.get(MANAGED_BY_LOCATION),
        "origin": annotations.get(MANAGED_BY_ORIGIN_LOCATION),
        "relation_groups": [
            (RELATION_LABELS.get(type_, type_), sorted(targets))
            for type_, targets in sorted(grouped.items())
            if type_ != "ownedBy" and type_ not in featured_types
        ],
        "featured": featured,
        "errors": errors,
        "is_owner": is_owner,
        "profile": spec.get("profile") if isinstance(spec.get("profile"), dict) else {},
        "owned_by_kind": _owned_by_kind(grouped.get("ownerOf", [])),
        "members": sorted(grouped.get("hasMember", [])),
        "groups": sorted(grouped.get("memberOf", [])),
        "parents": sorted(grouped.get("childOf", [])),
        "children": sorted(grouped.get("parentOf", [])),
    }


def _errors(context: TabContext, ref: str) -> list[IngestionError]:
    return list(
        context.session.scalars(
            select(IngestionError)
            .where(IngestionError.entity_ref == ref)
            .order_by(IngestionError.id)
        )
    )


def _domain_of(context: TabContext, grouped: dict[str, list[str]]) -> str | None:
    """A component's domain is its system's; a system's is its own ``partOf`` domain."""
    for target in grouped.get("partOf", []):
        if target.startswith("domain:"):
            return target
    for target in grouped.get("partOf", []):
        if target.startswith("system:"):
            body = context.session.scalar(select(Entity.body).where(Entity.ref == target))
            if body is not None:
                domain = (orjson.loads(body).get("spec") or {}).get("domain")
                if isinstance(domain, str):
                    namespace = target.split(":", 1)[1].split("/", 1)[0]
                    return domain if ":" in domain else f"domain:{namespace}/{domain}".lower()
    return None


def _link(link: dict[str, Any]) -> dict[str, str]:
    icon = str(link.get("icon") or link.get("type") or "").lower()
    return {
        "url": str(link.get("url", "")),
        "title": str(link.get("title") or link.get("url", "")),
        "icon": LINK_ICONS.get(icon, "↗"),
    }


def _owned_by_kind(refs: list[str]) -> list[tuple[str, str, str, list[str]]]:
    """(kind, heading, noun, refs) per kind the entity owns."""
    by_kind: dict[str, list[str]] = defaultdict(list)
    for ref in refs:
        by_kind[ref.split(":", 1)[0]].append(ref)
    return [
        (kind, kind_heading(kind, len(items)), kind_noun(kind, len(items)), sorted(items))
        for kind, items in sorted(by_kind.items())
    ]


def _featured(
    context: TabContext, kind: str, grouped: dict[str, list[str]]
) -> tuple[list[Featured], set[str]]:
    """The cards of related entities this kind's page leads with, and the relation types they
    show (left out of the generic Relations card so nothing is listed twice)."""
    plan: list[tuple[str, str, list[tuple[str | None, str]]]] = []
    if kind == "system":
        plan = [("parts", "Parts", [(None, "hasPart")])]
    elif kind == "domain":
        plan = [("systems", "Systems", [(None, "hasPart")])]
    elif kind == "component":
        plan = [("apis", "APIs", [("Provides", "providesApi"), ("Consumes", "consumesApi")])]
    elif kind == "api":
        plan = [
            (
                "used-by",
                "Providers and consumers",
                [("Provided by", "apiProvidedBy"), ("Consumed by", "apiConsumedBy")],
            )
        ]
    types = {type_ for _, _, sources in plan for _, type_ in sources if grouped.get(type_)}
    if not types:
        return [], set()
    refs = sorted({ref for type_ in types for ref in grouped[type_]})
    summaries = _summaries(context, refs)
    cards = []
    for card_id, heading, sources in plan:
        groups: list[tuple[str, list[Summary]]] = []
        for label, type_ in sources:
            items = [summaries[r] for r in sorted(grouped.get(type_, [])) if r in summaries]
            if not items:
                continue
            if label is not None:
                groups.append((label, items))
                continue
            by_kind: dict[str, list[Summary]] = defaultdict(list)
            for item in items:
                by_kind[item.kind].append(item)
            for part_kind in sorted(by_kind, key=_part_rank):
                groups.append(
                    (kind_heading(part_kind, len(by_kind[part_kind])), by_kind[part_kind])
                )
        if groups:
            cards.append(Featured(card_id, heading, groups))
    return cards, types


def _part_rank(kind: str) -> tuple[int, str]:
    order = PART_KIND_ORDER
    return (order.index(kind) if kind in order else len(order), kind)


def _summaries(context: TabContext, refs: list[str]) -> dict[str, Summary]:
    """One query for every listed entity; refs without an entity are listed as missing, and
    entities the viewer may not see are left out."""
    restriction = context.restriction
    visible = case((restriction.condition, True), else_=False) if restriction else true()
    rows = context.session.execute(
        select(Entity.ref, Entity.body, visible).where(Entity.ref.in_(refs))
    )
    bodies: dict[str, Any] = {}
    for ref, body, seen in rows:
        bodies[ref] = orjson.loads(body) if seen else None
    found: dict[str, Summary] = {}
    for ref in refs:
        kind, rest = ref.split(":", 1)
        if ref in bodies and bodies[ref] is None:
            continue  # hidden by the permission policy
        body = bodies.get(ref)
        if body is None:
            name = rest.split("/", 1)[-1]
            found[ref] = Summary(ref, kind, name, None, None, None, True)
            continue
        metadata, spec = body["metadata"], body.get("spec") or {}
        found[ref] = Summary(
            ref,
            kind,
            str(metadata.get("title") or metadata["name"]),
            _text(spec.get("type")),
            _text(spec.get("lifecycle")),
            _text(metadata.get("description")),
            False,
        )
    return found


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
