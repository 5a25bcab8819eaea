"""Counts for overviews: entities per value of a field (facets), ingestion errors per location."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session

from pavedroad.catalog.models import Entity, EntityRelation, EntitySearch, IngestionError
from pavedroad.catalog.queries.filters import FilterGroups, filter_condition, full_text_condition
from pavedroad.catalog.read_cache import GenerationCache


def facets(
    session: Session,
    names: Sequence[str],
    filters: FilterGroups,
    cache: GenerationCache | None = None,
    term: str | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Counts of entities per value of each facet, most common first; ``term`` applies the
    full-text filter too (so that counts match a page filtered by text)."""
    result: dict[str, list[dict[str, Any]]] = {}
    term = (term or "").strip() or None
    for name in names:
        key = ("facet", name.lower(), tuple(tuple(group) for group in filters), term)

        def compute(name: str = name) -> list[dict[str, Any]]:
            return _facet(session, name.lower(), filters, term)

        result[name] = cache.get_or_compute(session, key, compute) if cache else compute()
    return result


def _facet(
    session: Session, key: str, filters: FilterGroups, term: str | None
) -> list[dict[str, Any]]:
    condition = filter_condition(filters)
    if term:
        dialect = session.get_bind().dialect.name
        condition = and_(condition, full_text_condition(term, None, dialect))
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
        statement = (
            select(func.min(EntitySearch.original_value), func.count())
            .where(EntitySearch.key == key, EntitySearch.value.is_not(None))
            .group_by(EntitySearch.value)
        )
        if filters or term:
            statement = statement.where(
                EntitySearch.entity_id.in_(select(Entity.id).where(condition))
            )
    found = [(value, int(count)) for value, count in session.execute(statement)]
    found.sort(key=lambda item: (-item[1], str(item[0]).lower()))
    return [{"value": value, "count": count} for value, count in found]


def error_summary(session: Session) -> list[tuple[str | None, int]]:
    """Ingestion errors per location (or provider), for overviews."""
    rows = session.execute(
        select(IngestionError.location_id, func.count()).group_by(IngestionError.location_id)
    ).all()
    return [(location_id, int(count)) for location_id, count in rows]
