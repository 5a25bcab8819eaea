"""Backstage's filter language: parsing ``filter`` parameters and turning them into conditions.

Each ``filter`` parameter is a comma-separated list of ``key=value`` (or bare ``key``, an
existence check) statements that are ANDed; several ``filter`` parameters are ORed. Keys are
dotted paths (``spec.type``, ``metadata.tags.java``, ``relations.ownedBy``); matching is
case-insensitive. ``kind``, ``metadata.name``, ``metadata.namespace`` and ``metadata.uid`` are
answered from indexed columns, ``relations.*`` from the relations table, everything else from the
search rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

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
    or_,
    select,
    table,
    true,
)
from sqlalchemy.orm import aliased

from pavedroad.catalog.models import Entity, EntityRelation, EntitySearch
from pavedroad.catalog.text_search import FTS_TABLE
from pavedroad.core.errors import InputError

Statement = tuple[str, tuple[str, ...] | None]
FilterGroups = list[list[Statement]]

COLUMN_KEYS = {
    "kind": Entity.kind_key,
    "metadata.name": Entity.name_key,
    "metadata.namespace": Entity.namespace_key,
    "metadata.uid": Entity.uid,
}


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
    column = COLUMN_KEYS.get(key)
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


def statement_ids(key: str, values: tuple[str, ...] | None) -> Select[Any] | None:
    """Ids matching one statement; None when it matches every entity."""
    column = COLUMN_KEYS.get(key)
    if column is not None:
        return None if values is None else select(Entity.id).where(column.in_(values))
    if key == "relations" or key.startswith("relations."):
        return select(Entity.id).where(_statement(key, values))
    return search_ids(key, values)


def probe(key: str, values: tuple[str, ...] | None, entity_id: Any) -> ColumnElement[bool]:
    """Whether the entity ``entity_id`` (a column of the driving query) matches a statement."""
    column = COLUMN_KEYS.get(key)
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


def group_ids(group: list[Statement], sizes: Sizes | None = None) -> Select[Any] | None:
    statements = [(k, v) for k, v in group if statement_ids(k, v) is not None]
    if not statements:
        return None
    if sizes:
        statements.sort(key=lambda statement: sizes.get(statement, 0))
    (key, values), *others = statements
    driver = statement_ids(key, values)
    assert driver is not None
    if not others:
        return driver
    entity_id = driver.selected_columns[0]
    return driver.where(*(probe(k, v, entity_id) for k, v in others))


def operand(ids: IdSet) -> Select[Any]:
    """A set usable inside another UNION/INTERSECT (SQLite refuses parenthesised compounds)."""
    if isinstance(ids, CompoundSelect):
        inner = ids.subquery()
        return select(inner.c[0])
    return ids
