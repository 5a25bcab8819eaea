"""What the Overview tab shows: the About card, relations by type, and per kind what matters
(a group's members and what it owns, a user's teams, a system's parts)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import select

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


@dataclass(slots=True)
class Neighbour:
    ref: str
    kind: str
    label: str


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
            if type_ not in ("ownedBy",)
        ],
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


def _owned_by_kind(refs: list[str]) -> list[tuple[str, list[str]]]:
    by_kind: dict[str, list[str]] = defaultdict(list)
    for ref in refs:
        by_kind[ref.split(":", 1)[0]].append(ref)
    return sorted((kind, sorted(items)) for kind, items in by_kind.items())
