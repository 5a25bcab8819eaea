"""Entities one at a time (look up, delete, refresh their source), and the stored errors."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pavedroad.audit import service as audit
from pavedroad.catalog.entity_removal import delete_entities
from pavedroad.catalog.models import Entity, IngestionError, Location
from pavedroad.catalog.refs import RefError, normalise_ref
from pavedroad.catalog.service.catalog import Catalog, LocationRefresh
from pavedroad.catalog.service.locations import get_location, refresh_locations
from pavedroad.catalog.service.providers import refresh_provider
from pavedroad.core.actors import Actor
from pavedroad.core.errors import InputError, NotFoundError

# -- entities ------------------------------------------------------------------------------------


def get_entity_row(session: Session, ref: str) -> Entity:
    try:
        key = normalise_ref(ref)
    except RefError as error:
        raise InputError(str(error)) from None
    entity = session.scalar(select(Entity).where(Entity.ref == key))
    if entity is None:
        raise NotFoundError(f"No entity named {key}")
    return entity


def location_of_entity(session: Session, ref: str) -> Location:
    entity = get_entity_row(session, ref)
    if entity.location_id is None:
        raise NotFoundError(f"Entity {ref} comes from provider {entity.provider}, not a location")
    return get_location(session, entity.location_id)


def delete_entity(session: Session, uid: str, *, actor: Actor) -> None:
    """Delete one entity; if its location still holds it, the next refresh brings it back."""
    entity = session.scalar(select(Entity).where(Entity.uid == uid))
    if entity is None:
        return
    audit.record(
        session,
        actor=actor,
        event="catalog.entity.deleted",
        target=entity.ref,
        details={"reason": "deleted by request", "uid": uid},
    )
    delete_entities(session, [entity.id])


def refresh_entity(
    session: Session, catalog: Catalog, ref: str, *, actor: Actor
) -> LocationRefresh | None:
    """Read the location (or provider) an entity comes from again."""
    entity = get_entity_row(session, ref)
    if entity.location_id is not None:
        return refresh_locations(session, catalog, [entity.location_id], actor=actor)[0]
    if entity.provider is not None:
        refresh_provider(session, catalog, entity.provider, actor=actor)
    return None


# -- errors --------------------------------------------------------------------------------------


def list_errors(
    session: Session, *, location_id: str | None = None, entity_ref: str | None = None
) -> Sequence[IngestionError]:
    query = select(IngestionError).order_by(
        IngestionError.location_id, IngestionError.file, IngestionError.id
    )
    if location_id is not None:
        query = query.where(IngestionError.location_id == location_id)
    if entity_ref is not None:
        query = query.where(IngestionError.entity_ref == entity_ref.lower())
    return session.scalars(query).all()


def count_entities(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Entity)) or 0
