"""Listing entities: pages of a by-query request with cursors both ways, the deprecated
offset-paged ``GET /entities``, and how many entities a request matches."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from pavedroad.catalog.models import Entity
from pavedroad.catalog.queries.entity_query import (
    EntityQuery,
    is_direct,
    matching_ids,
    statement_sizes,
)
from pavedroad.catalog.queries.entity_rows import ROW_COLUMNS, EntityRow, with_relations
from pavedroad.catalog.queries.filters import FilterGroups, filter_condition
from pavedroad.catalog.queries.ordering import Order, after, ordered
from pavedroad.catalog.queries.restriction import Restriction
from pavedroad.catalog.read_cache import GenerationCache

DEFAULT_LIMIT = 20
MAX_LIMIT = 1000
SCAN_IN_ORDER_ABOVE = 2000


@dataclass(slots=True)
class Page:
    rows: list[EntityRow]
    total: int | None
    next_cursor: str | None
    prev_cursor: str | None


def query_entities(
    session: Session,
    query: EntityQuery,
    *,
    limit: int,
    offset: int = 0,
    cursor: dict[str, Any] | None = None,
    with_total: bool = True,
    cache: GenerationCache | None = None,
) -> Page:
    """One page of entities with Backstage's by-query semantics (cursor pagination both ways)."""
    backwards = bool(cursor and cursor.get("b"))
    dialect = session.get_bind().dialect.name
    if cursor is not None:
        total = cursor.get("t")
    else:
        total = count_entities(session, query, cache) if with_total else None
    size = total if total is not None else count_entities(session, query, cache)
    sizes = statement_sizes(session, query, cache)
    condition = query.condition(
        dialect, scan_in_order=_scan_in_order(session, dialect, size, cache), sizes=sizes
    )
    # Order and cut on ids alone, then fetch the page's bodies: sorting never drags every
    # matching row's JSON through the sorter.
    page_ids = select(Entity.id).where(condition)
    if cursor is not None:
        page_ids = page_ids.where(after(query.order, cursor["p"], backwards))
    page_ids = ordered(page_ids, query.order, backwards).limit(limit + 1)
    if cursor is None and offset:
        page_ids = page_ids.offset(offset)
    statement = ordered(
        with_relations(select(*ROW_COLUMNS)).where(Entity.id.in_(page_ids.scalar_subquery())),
        query.order,
        backwards,
    )
    connection = session.connection()  # Core, not ORM: these rows need no identity map
    rows: list[EntityRow] = [(r[0], r[1], r[2], r[3]) for r in connection.execute(statement)]
    more = len(rows) > limit
    rows = rows[:limit]
    if backwards:
        rows.reverse()
    positions = _positions(session, query.order, rows)
    has_next = more if not backwards else True
    has_prev = (
        (cursor is not None and not backwards)
        or (backwards and more)
        or (cursor is None and offset > 0)
    )
    next_cursor = (
        query.to_cursor(positions[-1], backwards=False, total=total) if rows and has_next else None
    )
    prev_cursor = (
        query.to_cursor(positions[0], backwards=True, total=total) if rows and has_prev else None
    )
    return Page(rows, total, next_cursor, prev_cursor)


def _scan_in_order(
    session: Session, dialect: str, matching: int, cache: GenerationCache | None
) -> bool:
    """Whether to walk the sort index testing entities rather than sort the matching set.

    PostgreSQL's planner makes this choice itself from its statistics (given the probe form);
    for SQLite we make it: walking pays when at least a fifth of all entities match.
    """
    if dialect == "postgresql":
        return True
    if matching <= SCAN_IN_ORDER_ABOVE:
        return False
    everything = count_entities(session, EntityQuery([], Order(None)), cache)
    return matching * 5 >= everything


def _positions(session: Session, order: Order, rows: list[EntityRow]) -> list[list[Any]]:
    if order.field is None:
        return [[row[1]] for row in rows]
    ids = [row[0] for row in rows]
    values: dict[int, Any] = dict(
        session.execute(
            select(Entity.id, order.expression().label("v")).where(Entity.id.in_(ids))
        ).all()
    )
    return [[values.get(id_), id_] for id_ in ids]


def count_entities(
    session: Session, query: EntityQuery, cache: GenerationCache | None = None
) -> int:
    """How many entities match; remembered per catalog generation when a cache is given."""
    dialect = session.get_bind().dialect.name

    def count() -> int:
        if is_direct(query):
            statement = select(func.count()).select_from(Entity).where(query.condition(dialect))
        else:
            ids = matching_ids(query, dialect, statement_sizes(session, query, cache))
            source = ids.subquery() if ids is not None else Entity.__table__
            statement = select(func.count()).select_from(source)
        return session.connection().execute(statement).scalar() or 0

    return cache.get_or_compute(session, query.cache_key(), count) if cache else count()


def list_entities_page(
    session: Session,
    filters: FilterGroups,
    order: Order,
    *,
    offset: int,
    limit: int | None,
    restriction: Restriction | None = None,
) -> list[EntityRow]:
    """Rows for the deprecated ``GET /entities``: offset pagination, ordered by ref by default."""
    condition = filter_condition(filters)
    if restriction is not None:
        condition = and_(condition, restriction.condition)
    statement = with_relations(select(*ROW_COLUMNS)).where(condition)
    statement = ordered(statement, order, False)
    if offset:
        statement = statement.offset(offset)
    if limit is not None:
        statement = statement.limit(limit)
    return [(r[0], r[1], r[2], r[3]) for r in session.connection().execute(statement)]
