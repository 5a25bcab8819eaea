"""Counts for overviews: entities per value of a field (facets), ingestion errors per location."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, func, select, true
from sqlalchemy.orm import Session

from pavedroad.catalog.models import Entity, EntityRelation, EntitySearch, IngestionError
from pavedroad.catalog.queries.entity_query import EntityQuery, matching_ids, statement_sizes
from pavedroad.catalog.queries.filters import FilterGroups, IdSet
from pavedroad.catalog.queries.listing import count_entities
from pavedroad.catalog.queries.ordering import Order
from pavedroad.catalog.queries.restriction import Restriction, restriction_key
from pavedroad.catalog.read_cache import GenerationCache


def facets(
    session: Session,
    names: Sequence[str],
    filters: FilterGroups,
    cache: GenerationCache | None = None,
    term: str | None = None,
    restriction: Restriction | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Counts of entities per value of each facet, most common first; ``term`` applies the
    full-text filter too (so that counts match a page filtered by text), ``restriction`` what
    the asker may see."""
    result: dict[str, list[dict[str, Any]]] = {}
    term = (term or "").strip() or None
    query = EntityQuery(filters, Order(None), term, restriction=restriction)
    for name in names:
        groups = tuple(tuple(group) for group in filters)
        key = ("facet", name.lower(), groups, term, restriction_key(restriction))

        def compute(name: str = name) -> list[dict[str, Any]]:
            few = _few(session, query, cache)
            return _facet(session, name.lower(), _entity_ids(session, query, cache), few)

        result[name] = cache.get_or_compute(session, key, compute) if cache else compute()
    return result


FEW = 5000


def _few(session: Session, query: EntityQuery, cache: GenerationCache | None) -> bool:
    """Whether the filter leaves few entities (then their rows drive the count, not the key)."""
    if not query.filters and not query.term and query.restriction is None:
        return False
    return count_entities(session, query, cache) <= FEW


def _entity_ids(
    session: Session, query: EntityQuery, cache: GenerationCache | None
) -> IdSet | None:
    """The filtered entities as an id set (most selective statement first), None for all."""
    return matching_ids(
        query, session.get_bind().dialect.name, statement_sizes(session, query, cache)
    )


def _facet(session: Session, key: str, ids: IdSet | None, few: bool) -> list[dict[str, Any]]:
    condition = true() if ids is None else Entity.id.in_(ids)
    statement: Select[Any, int]
    if key == "metadata.uid":  # kept on the entity, not in the search rows
        statement = select(Entity.uid, func.count()).where(condition).group_by(Entity.uid)
    elif key.startswith("relations."):
        statement = (
            select(EntityRelation.target_ref, func.count(func.distinct(EntityRelation.source_ref)))
            .join(Entity, Entity.ref == EntityRelation.source_ref)
            .where(EntityRelation.type_key == key.removeprefix("relations."), condition)
            .group_by(EntityRelation.target_ref)
        )
    else:
        # With few entities, walk their rows (entity_id index) instead of every row of the
        # key: ``key || ''`` keeps SQLite from choosing the (key, value) index.
        key_matches = EntitySearch.key.concat("") == key if few else EntitySearch.key == key
        statement = (
            select(func.min(EntitySearch.original_value), func.count())
            .where(key_matches, EntitySearch.value.is_not(None))
            .group_by(EntitySearch.value)
        )
        if ids is not None:
            statement = statement.where(EntitySearch.entity_id.in_(ids))
    found = [(value, int(count)) for value, count in session.execute(statement)]
    found.sort(key=lambda item: (-item[1], str(item[0]).lower()))
    return [{"value": value, "count": count} for value, count in found]


def error_summary(session: Session) -> list[tuple[str | None, int]]:
    """Ingestion errors per location (or provider), for overviews."""
    rows = session.execute(
        select(IngestionError.location_id, func.count()).group_by(IngestionError.location_id)
    ).all()
    return [(location_id, int(count)) for location_id, count in rows]
