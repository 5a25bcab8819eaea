"""Deleting entities and what was derived from them (search rows, relations, full-text entries).

:func:`delete_entities` is the one way entities leave the catalog; ingestion also uses
:func:`delete_derived` to rewrite the derived rows of entities it updates.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete
from sqlalchemy.orm import Session

from pavedroad.catalog import text_search
from pavedroad.catalog.models import Entity, EntityRelation, EntitySearch, StitchedRelations
from pavedroad.catalog.read_cache import mark_changed
from pavedroad.catalog.stitching import ends_of_relations_from, restitch
from pavedroad.core.db import chunks


def delete_derived(session: Session, entity_ids: Sequence[int]) -> set[str]:
    """Remove the search rows, relations and full-text entries these entities produced;
    returns the refs whose stored relations that changed."""
    affected = ends_of_relations_from(session, entity_ids)
    text_search.forget(session, entity_ids)
    for chunk in chunks(entity_ids):
        session.execute(delete(EntitySearch).where(EntitySearch.entity_id.in_(chunk)))
        session.execute(
            delete(EntityRelation).where(EntityRelation.originating_entity_id.in_(chunk))
        )
    return affected


def delete_entities(
    session: Session, entity_ids: Sequence[int], *, restitch_now: bool = True
) -> set[str]:
    """Remove entities with everything derived from them; the one way entities are deleted.

    Returns the refs whose relations changed; they are restitched here unless the caller
    gathers them to restitch once (``restitch_now=False``).
    """
    if not entity_ids:
        return set()
    affected = delete_derived(session, entity_ids)
    for chunk in chunks(entity_ids):
        session.execute(delete(StitchedRelations).where(StitchedRelations.entity_id.in_(chunk)))
        session.execute(delete(Entity).where(Entity.id.in_(chunk)))
    if restitch_now:
        restitch(session, affected)
    mark_changed(session)
    return affected
