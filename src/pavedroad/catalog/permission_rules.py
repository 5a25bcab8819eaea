"""The catalog's permissions, resource types and rules.

Entity rules read an entity as the API serves it (with its stitched ``relations``) and compile
to conditions on ``Entity`` rows; the location rule reads ``{id, type, target, created_by}`` and
compiles to a condition on ``Location`` rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import suppress
from typing import Any, ClassVar

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from pavedroad.catalog import queries, service
from pavedroad.catalog.entity_json import entity_dict
from pavedroad.catalog.models import Entity, EntityRelation, EntitySearch, Location
from pavedroad.catalog.refs import RefError, parse_ref, ref_of
from pavedroad.catalog.search_index import MAX_KEY_LENGTH, MAX_VALUE_LENGTH
from pavedroad.config import Settings
from pavedroad.core.errors import InputError
from pavedroad.core.plugins import hookimpl
from pavedroad.identity.schemas import Principal
from pavedroad.permissions.registry import Permission, ResourceType, declare
from pavedroad.permissions.rules import LowerStrings, NoParams, Resource, Rule, RuleParams

ENTITY = "catalog-entity"
LOCATION = "catalog-location"


def entity_resource(session: Session, text: str) -> dict[str, Any]:
    """An entity by ref (``component:default/x``; kind defaults to component) as served."""
    try:
        ref = str(parse_ref(text, default_kind="component"))
    except RefError as error:
        raise InputError(str(error)) from None
    service.get_entity_row(session, ref)  # raises NotFoundError naming the ref
    row = queries.entity_row(session, ref)
    assert row is not None
    return entity_dict(row[2], row[3])


def location_resource(location: Location) -> dict[str, Any]:
    """A location as the location rules read it."""
    return {
        "id": location.id,
        "ref": f"location:{location.id}",
        "type": location.type,
        "target": location.target,
        "created_by": location.created_by,
    }


def _location_lookup(session: Session, text: str) -> dict[str, Any]:
    for location in service.list_locations(session):
        if text in (location.id, location.target):
            return location_resource(location)
    return location_resource(service.get_location(session, text))


declare(
    ResourceType(ENTITY, "An entity of the software catalog.", lookup=entity_resource),
    ResourceType(LOCATION, "A registered catalog location.", lookup=_location_lookup),
    Permission("catalog.entity.read", "See an entity of the catalog.", ENTITY),
    Permission("catalog.entity.refresh", "Read an entity's location again now.", ENTITY),
    Permission("catalog.entity.delete", "Delete an entity from the catalog.", ENTITY),
    Permission("catalog.entity.star", "Star an entity to find it on your home page.", ENTITY),
    Permission("catalog.location.read", "See a registered location and its errors.", LOCATION),
    Permission("catalog.location.create", "Register a new location.", LOCATION),
    Permission("catalog.location.refresh", "Read a location again now.", LOCATION),
    Permission(
        "catalog.location.delete", "Unregister a location and delete its entities.", LOCATION
    ),
)


def owners_of(entity: Resource) -> list[str]:
    """Who owns an entity: its ``ownedBy`` relations and its ``spec.owner`` (a group by default)."""
    owners = {
        str(relation.get("targetRef", "")).lower()
        for relation in entity.get("relations") or ()
        if isinstance(relation, Mapping) and relation.get("type") == "ownedBy"
    }
    owner = (entity.get("spec") or {}).get("owner")
    if isinstance(owner, str):
        namespace = (entity.get("metadata") or {}).get("namespace") or "default"
        # An invalid owner never reaches the catalog; in a hand-made dict it owns nothing.
        with suppress(RefError):
            owners.add(str(parse_ref(owner, default_kind="group", default_namespace=namespace)))
    return sorted(owners)


class IsEntityOwner(Rule[NoParams]):
    name = "is_entity_owner"
    description = "The user owns the entity, directly or through one of their groups."
    resource_type = ENTITY
    params_model = NoParams
    examples: ClassVar[tuple[object, ...]] = ({},)

    def apply(self, resource: Resource, params: NoParams, principal: Principal) -> bool:
        return bool(self._through(resource, principal))

    def to_sql(self, params: NoParams, principal: Principal) -> ColumnElement[bool]:
        owned = select(EntityRelation.source_ref).where(
            EntityRelation.type_key == "ownedby",
            EntityRelation.target_ref.in_([ref.lower() for ref in principal.ownership_refs]),
        )
        return Entity.ref.in_(owned)

    def reason(
        self, resource: Resource, params: NoParams, principal: Principal, matched: bool
    ) -> str:
        if matched:
            return f"you own it through {', '.join(self._through(resource, principal))}"
        owners = ", ".join(owners_of(resource)) or "no one"
        return f"applies only to its owners ({owners})"

    def _through(self, resource: Resource, principal: Principal) -> list[str]:
        mine = {ref.lower() for ref in principal.ownership_refs}
        return [owner for owner in owners_of(resource) if owner in mine]


class AnnotationParams(RuleParams):
    key: str
    value: str | None = None


class HasAnnotation(Rule[AnnotationParams]):
    """Compared case-insensitively, as the catalog's filters compare; values longer than the
    search rows keep (200 characters) count as present but never equal."""

    name = "has_annotation"
    description = "The entity has this annotation (with this value, if given)."
    resource_type = ENTITY
    params_model = AnnotationParams
    shorthand = "key"
    examples = (
        "backstage.io/techdocs-ref",
        {"key": "backstage.io/techdocs-ref", "value": "dir:."},
        "pagerduty.com/service-id",
        "no.such/annotation",
    )

    def apply(self, resource: Resource, params: AnnotationParams, principal: Principal) -> bool:
        annotations = (resource.get("metadata") or {}).get("annotations") or {}
        key = params.key.lower()
        if len(f"metadata.annotations.{key}") > MAX_KEY_LENGTH:
            return False
        for name, value in annotations.items():
            if str(name).lower() != key:
                continue
            if params.value is None:
                return True
            text = str(value).lower() if value is not None else None
            return text is not None and len(text) <= MAX_VALUE_LENGTH and text == _lower(params)
        return False

    def to_sql(self, params: AnnotationParams, principal: Principal) -> ColumnElement[bool]:
        condition = EntitySearch.key == f"metadata.annotations.{params.key.lower()}"
        if params.value is not None:
            condition = and_(condition, EntitySearch.value == _lower(params))
        return Entity.id.in_(select(EntitySearch.entity_id).where(condition))

    def reason(
        self, resource: Resource, params: AnnotationParams, principal: Principal, matched: bool
    ) -> str:
        wanted = params.key + (f"={params.value}" if params.value is not None else "")
        return f"it is annotated {wanted}" if matched else f"applies only to entities with {wanted}"


def _lower(params: AnnotationParams) -> str:
    return (params.value or "").lower()


class KindParams(RuleParams):
    kinds: LowerStrings


class IsEntityKind(Rule[KindParams]):
    name = "is_entity_kind"
    description = "The entity is of one of these kinds (case-insensitive)."
    resource_type = ENTITY
    params_model = KindParams
    shorthand = "kinds"
    examples = ("component", ["API", "resource"], ["group", "user"])

    def apply(self, resource: Resource, params: KindParams, principal: Principal) -> bool:
        return str(resource.get("kind", "")).lower() in params.kinds

    def to_sql(self, params: KindParams, principal: Principal) -> ColumnElement[bool]:
        return Entity.kind_key.in_(params.kinds)

    def reason(
        self, resource: Resource, params: KindParams, principal: Principal, matched: bool
    ) -> str:
        if matched:
            return f"{ref_of(dict(resource))} is a {str(resource.get('kind')).lower()}"
        return f"applies only to entities of kind {' or '.join(params.kinds)}"


class IsRegistrant(Rule[NoParams]):
    name = "is_registrant"
    description = "The user registered the location."
    resource_type = LOCATION
    params_model = NoParams
    examples: ClassVar[tuple[object, ...]] = ({},)

    def apply(self, resource: Resource, params: NoParams, principal: Principal) -> bool:
        return str(resource.get("created_by", "")).lower() == principal.ref.lower()

    def to_sql(self, params: NoParams, principal: Principal) -> ColumnElement[bool]:
        return func.lower(Location.created_by) == principal.ref.lower()

    def reason(
        self, resource: Resource, params: NoParams, principal: Principal, matched: bool
    ) -> str:
        if matched:
            return "you registered it"
        return f"applies only to whoever registered it ({resource.get('created_by')})"


class CatalogPermissionRules:
    """The catalog's rules, registered through the same hook as any plugin's rules."""

    @hookimpl
    def pavedroad_permission_rules(self, settings: Settings) -> Sequence[Rule[Any]]:
        return [IsEntityOwner(), HasAnnotation(), IsEntityKind(), IsRegistrant()]
