"""Reading the catalog: Backstage's filter language, ordering, cursors, facets and batch lookups.

Filters: each ``filter`` parameter is a comma-separated list of ``key=value`` (or bare ``key``,
an existence check) statements that are ANDed; several ``filter`` parameters are ORed. Keys are
dotted paths (``spec.type``, ``metadata.tags.java``, ``relations.ownedBy``); matching is
case-insensitive. ``kind``, ``metadata.name``, ``metadata.namespace`` and ``metadata.uid`` are
answered from indexed columns, ``relations.*`` from the relations table, everything else from the
search rows.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVarTuple

import orjson
from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Integer,
    Select,
    Text,
    and_,
    column,
    exists,
    false,
    func,
    intersect,
    or_,
    select,
    table,
    true,
    union,
)
from sqlalchemy.orm import Session, aliased

from pavedroad.catalog.models import (
    Entity,
    EntityRelation,
    EntitySearch,
    IngestionError,
    StitchedRelations,
)
from pavedroad.catalog.read_cache import GenerationCache
from pavedroad.catalog.text_search import FTS_TABLE
from pavedroad.core.errors import InputError

Row = TypeVarTuple("Row")
Statement = tuple[str, tuple[str, ...] | None]
FilterGroups = list[list[Statement]]

_COLUMN_KEYS = {
    "kind": Entity.kind_key,
    "metadata.name": Entity.name_key,
    "metadata.namespace": Entity.namespace_key,
    "metadata.uid": Entity.uid,
}
DEFAULT_LIMIT = 20
MAX_LIMIT = 1000


# -- filters -------------------------------------------------------------------------------------


def parse_filters(params: Sequence[str]) -> FilterGroups:
    """Backstage's ``filter`` parameters as OR-groups of AND-statements, lower-cased."""
    groups: FilterGroups = []
    for param in params:
        statements: dict[str, set[str] | None] = {}
        for piece in param.split(","):
            piece = piece.strip()
            if not piece:
                continue
            key, equals, value = piece.partition("=")
            key = key.strip().lower()
            if not key:
                raise InputError(
                    f"Invalid filter, '{piece}' is not a valid statement (expected a string on "
                    "the form a=b or a= or a)"
                )
            if not equals:
                statements.setdefault(key, None)
                continue
            values = statements.get(key)
            statements[key] = (values or set()) | {value.strip().lower()}
        if statements:
            groups.append(
                [
                    (key, tuple(sorted(values)) if values is not None else None)
                    for key, values in statements.items()
                ]
            )
    return groups


def filter_condition(groups: FilterGroups) -> ColumnElement[bool]:
    if not groups:
        return true()
    return or_(*(and_(*(_statement(key, values) for key, values in group)) for group in groups))


def _statement(key: str, values: tuple[str, ...] | None) -> ColumnElement[bool]:
    column = _COLUMN_KEYS.get(key)
    if column is not None:
        return true() if values is None else column.in_(values)
    if key.startswith("relations."):
        relation_type = key.removeprefix("relations.")
        sources = select(EntityRelation.source_ref).where(EntityRelation.type_key == relation_type)
        if values is not None:
            sources = select(EntityRelation.source_ref).where(
                EntityRelation.target_ref.in_(values), EntityRelation.type_key == relation_type
            )
        return Entity.ref.in_(sources)
    if key == "relations":
        return false() if values is not None else Entity.ref.in_(select(EntityRelation.source_ref))
    return Entity.id.in_(search_ids(key, values))


def search_ids(key: str, values: tuple[str, ...] | None) -> Select[Any]:
    """Ids of entities whose search rows match ``key`` (``= values``, or present).

    ``metadata.tags.java`` (present, or ``= true``) also matches a list item: the row
    ``metadata.tags = java`` marked ``in_array``, for every way of splitting the key at a dot.
    """
    return select(EntitySearch.entity_id).where(_search_condition(EntitySearch, key, values))


def _search_condition(rows: Any, key: str, values: tuple[str, ...] | None) -> ColumnElement[bool]:
    condition: ColumnElement[bool] = rows.key == key
    if values is not None:
        condition = and_(condition, rows.value.in_(values))
    if values is None or "true" in values:
        items = [
            and_(rows.key == key[:dot], rows.value == key[dot + 1 :], rows.in_array)
            for dot, char in enumerate(key)
            if char == "." and 0 < dot < len(key) - 1
        ]
        condition = or_(condition, *items)
    return condition


FTS = table(FTS_TABLE, column("rowid", Integer), column("text", Text))


def full_text_condition(
    term: str, fields: Sequence[str] | None, dialect: str = "sqlite"
) -> ColumnElement[bool]:
    """``term`` as a case-insensitive substring of the given fields (default: name, title,
    description, tags, type and display name, answered from the trigram index)."""
    needle = term.strip().lower()
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"
    escape = "\\" if escaped != needle else None
    if fields:
        keys = [f.strip().lower() for f in fields if f.strip()]
        matches: ColumnElement[bool] = Entity.id.in_(
            select(EntitySearch.entity_id).where(
                EntitySearch.key.in_(keys), EntitySearch.value.like(pattern, escape=escape)
            )
        )
        if "metadata.uid" in keys:  # kept on the entity, not in the search rows
            matches = or_(matches, Entity.uid.like(pattern, escape=escape))
        return matches
    if dialect == "sqlite" and len(needle) >= 3:
        # A quoted FTS5 phrase over trigrams is a substring match, three times faster than
        # LIKE on the same index.
        phrase = '"' + needle.replace('"', '""') + '"'
        return Entity.id.in_(select(FTS.c.rowid).where(FTS.c.text.op("MATCH")(phrase)))
    return Entity.search_text.like(pattern, escape=escape)


# -- filters as sets of entity ids -------------------------------------------------------------
#
# A filter over search rows is answered best as a set of entity ids built from the search index:
# counting such a set never touches the wide entities table, and the page query can pick the
# cheaper of two plans. Within a parameter (AND) the statement matching the fewest entities
# drives and the others are probed per id; their sizes are counted once per catalog generation.

IdSet = Select[Any] | CompoundSelect[Any]
Sizes = dict[Statement, int]
SCAN_IN_ORDER_ABOVE = 2000


def _statement_ids(key: str, values: tuple[str, ...] | None) -> Select[Any] | None:
    """Ids matching one statement; None when it matches every entity."""
    column = _COLUMN_KEYS.get(key)
    if column is not None:
        return None if values is None else select(Entity.id).where(column.in_(values))
    if key == "relations" or key.startswith("relations."):
        return select(Entity.id).where(_statement(key, values))
    return search_ids(key, values)


def _probe(key: str, values: tuple[str, ...] | None, entity_id: Any) -> ColumnElement[bool]:
    """Whether the entity ``entity_id`` (a column of the driving query) matches a statement."""
    column = _COLUMN_KEYS.get(key)
    if column is not None:
        other = aliased(Entity)
        return exists().where(other.id == entity_id, getattr(other, column.key).in_(values or ()))
    if key == "relations" or key.startswith("relations."):
        other = aliased(Entity)
        return exists().where(other.id == entity_id, _statement_on(other, key, values))
    rows = aliased(EntitySearch)
    return exists().where(rows.entity_id == entity_id, _search_condition(rows, key, values))


def _statement_on(entity: Any, key: str, values: tuple[str, ...] | None) -> ColumnElement[bool]:
    relation_type = key.removeprefix("relations.")
    sources = select(EntityRelation.source_ref).where(EntityRelation.type_key == relation_type)
    if key == "relations":
        sources = select(EntityRelation.source_ref)
    if values is not None:
        sources = sources.where(EntityRelation.target_ref.in_(values))
    condition: ColumnElement[bool] = entity.ref.in_(sources)
    return condition


def _group_ids(group: list[Statement], sizes: Sizes | None = None) -> Select[Any] | None:
    statements = [(k, v) for k, v in group if _statement_ids(k, v) is not None]
    if not statements:
        return None
    if sizes:
        statements.sort(key=lambda statement: sizes.get(statement, 0))
    (key, values), *others = statements
    driver = _statement_ids(key, values)
    assert driver is not None
    if not others:
        return driver
    entity_id = driver.selected_columns[0]
    return driver.where(*(_probe(k, v, entity_id) for k, v in others))


def statement_sizes(session: Session, query: EntityQuery, cache: GenerationCache | None) -> Sizes:
    """How many entities each statement of a multi-statement parameter matches (cached)."""
    sizes: Sizes = {}
    for group in query.filters:
        if len(group) < 2:
            continue
        for statement in group:
            ids = _statement_ids(*statement)
            if ids is None or statement in sizes:
                continue

            def count(ids: Select[Any] = ids) -> int:
                counted = select(func.count()).select_from(ids.subquery())
                return session.connection().execute(counted).scalar() or 0

            key = ("statement-size", statement)
            sizes[statement] = cache.get_or_compute(session, key, count) if cache else count()
    return sizes


def _operand(ids: IdSet) -> Select[Any]:
    """A set usable inside another UNION/INTERSECT (SQLite refuses parenthesised compounds)."""
    if isinstance(ids, CompoundSelect):
        inner = ids.subquery()
        return select(inner.c[0])
    return ids


def _is_direct(query: EntityQuery) -> bool:
    """Whether the filter is a plain condition on indexed entity columns (kind, name, ...)."""
    if query.term and query.term.strip():
        return False
    return len(query.filters) <= 1 and all(
        key in _COLUMN_KEYS for group in query.filters for key, _ in group
    )


def matching_ids(query: EntityQuery, dialect: str, sizes: Sizes | None = None) -> IdSet | None:
    """The ids the filter and full-text term select; None when they select every entity."""
    groups = [_group_ids(group, sizes) for group in query.filters]
    filtered: IdSet | None = None
    if groups and all(group is not None for group in groups):
        present = [group for group in groups if group is not None]
        filtered = present[0] if len(present) == 1 else union(*map(_operand, present))
    if not (query.term and query.term.strip()):
        return filtered
    term = select(Entity.id).where(full_text_condition(query.term, query.term_fields, dialect))
    return term if filtered is None else intersect(_operand(filtered), term)


# -- ordering and cursors ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Order:
    field: str | None  # None: by ref
    descending: bool = False

    def expression(self) -> Any:
        if self.field is None:
            return Entity.ref
        column = _COLUMN_KEYS.get(self.field)
        if column is not None:
            return column
        return (
            select(func.min(EntitySearch.value))
            .where(EntitySearch.entity_id == Entity.id, EntitySearch.key == self.field)
            .correlate(Entity)
            .scalar_subquery()
        )


def parse_order_field(params: Sequence[str]) -> Order:
    """``orderField=<field>[,asc|desc]``; the first one counts, as in Backstage."""
    if not params:
        return Order(None)
    field, _, direction = params[0].partition(",")
    direction = direction.strip().lower() or "asc"
    if direction not in ("asc", "desc"):
        raise InputError("Invalid order field order, must be asc or desc")
    field = field.strip().lower()
    if not field:
        raise InputError("Invalid order field, the field name is empty")
    return Order(field, direction == "desc")


def parse_legacy_order(params: Sequence[str]) -> Order:
    """``order=asc:<field>`` of the deprecated ``GET /entities``."""
    if not params:
        return Order(None)
    direction, colon, field = params[0].partition(":")
    if not colon or direction not in ("asc", "desc") or not field:
        raise InputError(
            f"Invalid order parameter '{params[0]}', expected asc:<field> or desc:<field>"
        )
    return Order(field.lower(), direction == "desc")


def _ordered(query: Select[*Row], order: Order, backwards: bool) -> Select[*Row]:
    descending = order.descending != backwards
    expression = order.expression()
    if order.field is None or order.field in _COLUMN_KEYS:  # never NULL: the index gives the order
        tiebreak = Entity.id.desc() if descending else Entity.id.asc()
        primary = expression.desc() if descending else expression.asc()
        return query.order_by(primary) if order.field is None else query.order_by(primary, tiebreak)
    # Entities without the field sort last whichever way, as in Backstage.
    nulls = expression.is_(None)
    primary = expression.desc() if descending else expression.asc()
    tiebreak = Entity.id.desc() if descending else Entity.id.asc()
    return query.order_by(nulls.asc() if not backwards else nulls.desc(), primary, tiebreak)


def _after(order: Order, position: list[Any], backwards: bool) -> ColumnElement[bool]:
    """Rows strictly after ``position`` (sort value[, id]) in the direction of travel."""
    descending = order.descending != backwards
    expression = order.expression()
    if order.field is None:
        after: ColumnElement[bool] = (
            expression < position[0] if descending else expression > position[0]
        )
        return after
    value, last_id = position
    beyond_id = Entity.id < last_id if descending else Entity.id > last_id
    if value is None:
        return (
            and_(expression.is_(None), beyond_id)
            if not backwards
            else or_(expression.is_not(None), and_(expression.is_(None), beyond_id))
        )
    beyond_value = expression < value if descending else expression > value
    same = and_(expression == value, beyond_id)
    if backwards:
        return or_(beyond_value, same)
    return or_(beyond_value, same, expression.is_(None))


def encode_cursor(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(data)).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = orjson.loads(base64.urlsafe_b64decode(padded))
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        raise InputError(
            "Malformed cursor: not one this server issued; start again without it"
        ) from None
    if not isinstance(data, dict) or "p" not in data:
        raise InputError("Malformed cursor: not one this server issued; start again without it")
    return data


# -- queries -------------------------------------------------------------------------------------


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


def _with_relations(statement: Select[*Row]) -> Select[*Row]:
    return statement.select_from(ENTITIES_WITH_RELATIONS)


@dataclass(slots=True)
class Page:
    rows: list[EntityRow]
    total: int | None
    next_cursor: str | None
    prev_cursor: str | None


@dataclass(slots=True)
class EntityQuery:
    filters: FilterGroups
    order: Order
    term: str | None = None
    term_fields: tuple[str, ...] | None = None

    def condition(
        self, dialect: str = "sqlite", *, scan_in_order: bool = False, sizes: Sizes | None = None
    ) -> ColumnElement[bool]:
        """The WHERE clause for the page query.

        ``scan_in_order``: many entities match, so walk the ORDER BY index and test each entity
        (indexed probes) until the page is full; otherwise build the small matching set from
        its most selective statement and sort it.
        """
        if _is_direct(self):
            return filter_condition(self.filters)
        if scan_in_order:
            return self._probes(dialect)
        ids = matching_ids(self, dialect, sizes)
        return true() if ids is None else Entity.id.in_(ids)

    def _probes(self, dialect: str) -> ColumnElement[bool]:
        condition = (
            or_(
                *(
                    and_(
                        *(
                            filter_condition([[(key, values)]])
                            if key in _COLUMN_KEYS
                            else _probe(key, values, Entity.id)
                            for key, values in group
                        )
                    )
                    for group in self.filters
                )
            )
            if self.filters
            else true()
        )
        if self.term and self.term.strip():
            condition = and_(condition, full_text_condition(self.term, self.term_fields, dialect))
        return condition

    def cache_key(self) -> tuple[Any, ...]:
        filters = tuple(tuple(group) for group in self.filters)
        return ("count", filters, (self.term or "").strip().lower(), self.term_fields)

    def to_cursor(self, position: list[Any], *, backwards: bool, total: int | None) -> str:
        return encode_cursor(
            {
                "f": [
                    [[k, list(v) if v is not None else None] for k, v in g] for g in self.filters
                ],
                "o": [self.order.field, self.order.descending],
                "q": self.term,
                "qf": list(self.term_fields) if self.term_fields else None,
                "p": position,
                "b": backwards,
                "t": total,
            }
        )

    @classmethod
    def from_cursor(cls, data: dict[str, Any]) -> EntityQuery:
        try:
            filters = [[(k, tuple(v) if v is not None else None) for k, v in g] for g in data["f"]]
            order = Order(data["o"][0], bool(data["o"][1]))
            fields = tuple(data["qf"]) if data.get("qf") else None
            return cls(filters, order, data.get("q"), fields)
        except (KeyError, TypeError, ValueError, IndexError):
            raise InputError(
                "Malformed cursor: not one this server issued; start again without it"
            ) from None


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
        page_ids = page_ids.where(_after(query.order, cursor["p"], backwards))
    page_ids = _ordered(page_ids, query.order, backwards).limit(limit + 1)
    if cursor is None and offset:
        page_ids = page_ids.offset(offset)
    statement = _ordered(
        _with_relations(select(*ROW_COLUMNS)).where(Entity.id.in_(page_ids.scalar_subquery())),
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
        if _is_direct(query):
            statement = select(func.count()).select_from(Entity).where(query.condition(dialect))
        else:
            ids = matching_ids(query, dialect, statement_sizes(session, query, cache))
            source = ids.subquery() if ids is not None else Entity.__table__
            statement = select(func.count()).select_from(source)
        return session.connection().execute(statement).scalar() or 0

    return cache.get_or_compute(session, query.cache_key(), count) if cache else count()


def list_entities_page(
    session: Session, filters: FilterGroups, order: Order, *, offset: int, limit: int | None
) -> list[EntityRow]:
    """Rows for the deprecated ``GET /entities``: offset pagination, ordered by ref by default."""
    statement = _with_relations(select(*ROW_COLUMNS)).where(filter_condition(filters))
    statement = _ordered(statement, order, False)
    if offset:
        statement = statement.offset(offset)
    if limit is not None:
        statement = statement.limit(limit)
    return [(r[0], r[1], r[2], r[3]) for r in session.connection().execute(statement)]


def facets(
    session: Session,
    names: Sequence[str],
    filters: FilterGroups,
    cache: GenerationCache | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Counts of entities per value of each facet, most common first."""
    result: dict[str, list[dict[str, Any]]] = {}
    for name in names:
        key = ("facet", name.lower(), tuple(tuple(group) for group in filters))

        def compute(name: str = name) -> list[dict[str, Any]]:
            return _facet(session, name.lower(), filters)

        result[name] = cache.get_or_compute(session, key, compute) if cache else compute()
    return result


def _facet(session: Session, key: str, filters: FilterGroups) -> list[dict[str, Any]]:
    condition = filter_condition(filters)
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
        if filters:
            statement = statement.where(
                EntitySearch.entity_id.in_(select(Entity.id).where(condition))
            )
    found = [(value, int(count)) for value, count in session.execute(statement)]
    found.sort(key=lambda item: (-item[1], str(item[0]).lower()))
    return [{"value": value, "count": count} for value, count in found]


def entities_by_refs(
    session: Session, refs: Sequence[str], filters: FilterGroups
) -> dict[str, EntityRow]:
    """Stored rows per lower-cased ref, for the refs that exist and match the filter."""
    keys = list({ref.lower() for ref in refs if isinstance(ref, str)})
    found: dict[str, EntityRow] = {}
    condition = filter_condition(filters)
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        statement = _with_relations(select(*ROW_COLUMNS)).where(Entity.ref.in_(chunk), condition)
        for row in session.connection().execute(statement):
            found[row[1]] = (row[0], row[1], row[2], row[3])
    return found


def error_summary(session: Session) -> list[tuple[str | None, int]]:
    """Ingestion errors per location (or provider), for overviews."""
    rows = session.execute(
        select(IngestionError.location_id, func.count()).group_by(IngestionError.location_id)
    ).all()
    return [(location_id, int(count)) for location_id, count in rows]


def entity_row(
    session: Session, ref: str | None = None, *, uid: str | None = None
) -> EntityRow | None:
    """One entity's row by ref (lower-cased) or by uid."""
    condition = Entity.ref == ref if uid is None else Entity.uid == uid
    statement = _with_relations(select(*ROW_COLUMNS)).where(condition)
    row = session.connection().execute(statement).first()
    return (row[0], row[1], row[2], row[3]) if row is not None else None
