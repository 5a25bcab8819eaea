"""The rows the API serves entities from (body and stitched relations), by ref or uid."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVarTuple

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session

from pavedroad.catalog.models import Entity, StitchedRelations
from pavedroad.catalog.queries.filters import FilterGroups, filter_condition
from pavedroad.catalog.queries.restriction import Restriction

Row = TypeVarTuple("Row")


EntityRow = tuple[int, str, str, str]
"""id, ref, body JSON, relations JSON: what the API needs to serve an entity."""
ROW_COLUMNS = (
    Entity.id,
    Entity.ref,
    Entity.body,
    func.coalesce(StitchedRelations.relations, "[]").label("relations"),
)


ENTITIES_WITH_RELATIONS = Entity.__table__.outerjoin(
    StitchedRelations.__table__, StitchedRelations.entity_id == Entity.id
)


def with_relations(statement: Select[*Row]) -> Select[*Row]:
    return statement.select_from(ENTITIES_WITH_RELATIONS)


def entities_by_refs(
    session: Session,
    refs: Sequence[str],
    filters: FilterGroups,
    restriction: Restriction | None = None,
) -> dict[str, EntityRow]:
    """Stored rows per lower-cased ref, for the refs that exist, match the filter and may be
    seen."""
    keys = list({ref.lower() for ref in refs if isinstance(ref, str)})
    found: dict[str, EntityRow] = {}
    condition = filter_condition(filters)
    if restriction is not None:
        condition = and_(condition, restriction.condition)
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        statement = with_relations(select(*ROW_COLUMNS)).where(Entity.ref.in_(chunk), condition)
        for row in session.connection().execute(statement):
            found[row[1]] = (row[0], row[1], row[2], row[3])
    return found


def entity_row(
    session: Session,
    ref: str | None = None,
    *,
    uid: str | None = None,
    restriction: Restriction | None = None,
) -> EntityRow | None:
    """One entity's row by ref (lower-cased) or by uid; None also when it may not be seen."""
    condition = Entity.ref == ref if uid is None else Entity.uid == uid
    if restriction is not None:
        condition = and_(condition, restriction.condition)
    statement = with_relations(select(*ROW_COLUMNS)).where(condition)
    row = session.connection().execute(statement).first()
    return (row[0], row[1], row[2], row[3]) if row is not None else None
