"""One by-query request (filter, order, full-text term) and the plan that answers it.

A filter over search rows is answered best as a set of entity ids built from the search index
(see ``filters``); :class:`EntityQuery` picks between that set and probing entities in sort
order, and carries itself from page to page in its cursors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, intersect, or_, select, true, union
from sqlalchemy.orm import Session

from pavedroad.catalog.models import Entity
from pavedroad.catalog.queries.filters import (
    COLUMN_KEYS,
    FilterGroups,
    IdSet,
    Sizes,
    filter_condition,
    full_text_condition,
    group_ids,
    operand,
    probe,
    statement_ids,
)
from pavedroad.catalog.queries.ordering import Order, encode_cursor
from pavedroad.catalog.queries.restriction import Restriction, restriction_key
from pavedroad.catalog.read_cache import GenerationCache
from pavedroad.core.errors import InputError


@dataclass(slots=True)
class EntityQuery:
    filters: FilterGroups
    order: Order
    term: str | None = None
    term_fields: tuple[str, ...] | None = None
    restriction: Restriction | None = None  # never in cursors: it comes with each request

    def condition(
        self, dialect: str = "sqlite", *, scan_in_order: bool = False, sizes: Sizes | None = None
    ) -> ColumnElement[bool]:
        """The WHERE clause for the page query.

        ``scan_in_order``: many entities match, so walk the ORDER BY index and test each entity
        (indexed probes) until the page is full; otherwise build the small matching set from
        its most selective statement and sort it.
        """
        if is_direct(self):
            return self._restricted(filter_condition(self.filters))
        if scan_in_order:
            return self._restricted(self._probes(dialect))
        ids = matching_ids(self, dialect, sizes)
        return true() if ids is None else Entity.id.in_(ids)

    def _restricted(self, condition: ColumnElement[bool]) -> ColumnElement[bool]:
        return (
            condition if self.restriction is None else and_(condition, self.restriction.condition)
        )

    def _probes(self, dialect: str) -> ColumnElement[bool]:
        condition = (
            or_(
                *(
                    and_(
                        *(
                            filter_condition([[(key, values)]])
                            if key in COLUMN_KEYS
                            else probe(key, values, Entity.id)
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
        term = (self.term or "").strip().lower()
        return ("count", filters, term, self.term_fields, restriction_key(self.restriction))

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
    def from_cursor(
        cls, data: dict[str, Any], restriction: Restriction | None = None
    ) -> EntityQuery:
        try:
            filters = [[(k, tuple(v) if v is not None else None) for k, v in g] for g in data["f"]]
            order = Order(data["o"][0], bool(data["o"][1]))
            fields = tuple(data["qf"]) if data.get("qf") else None
            return cls(filters, order, data.get("q"), fields, restriction)
        except (KeyError, TypeError, ValueError, IndexError):
            raise InputError(
                "Malformed cursor: not one this server issued; start again without it"
            ) from None


def statement_sizes(session: Session, query: EntityQuery, cache: GenerationCache | None) -> Sizes:
    """How many entities each statement of a multi-statement parameter matches (cached)."""
    sizes: Sizes = {}
    for group in query.filters:
        if len(group) < 2:
            continue
        for statement in group:
            ids = statement_ids(*statement)
            if ids is None or statement in sizes:
                continue

            def count(ids: Select[Any] = ids) -> int:
                counted = select(func.count()).select_from(ids.subquery())
                return session.connection().execute(counted).scalar() or 0

            key = ("statement-size", statement)
            sizes[statement] = cache.get_or_compute(session, key, count) if cache else count()
    return sizes


def is_direct(query: EntityQuery) -> bool:
    """Whether the filter is a plain condition on indexed entity columns (kind, name, ...)."""
    if query.term and query.term.strip():
        return False
    return len(query.filters) <= 1 and all(
        key in COLUMN_KEYS for group in query.filters for key, _ in group
    )


def matching_ids(query: EntityQuery, dialect: str, sizes: Sizes | None = None) -> IdSet | None:
    """The ids the filter and full-text term select; None when they select every entity."""
    groups = [group_ids(group, sizes) for group in query.filters]
    filtered: IdSet | None = None
    if groups and all(group is not None for group in groups):
        present = [group for group in groups if group is not None]
        filtered = present[0] if len(present) == 1 else union(*map(operand, present))
    if query.term and query.term.strip():
        term = select(Entity.id).where(full_text_condition(query.term, query.term_fields, dialect))
        filtered = term if filtered is None else intersect(operand(filtered), term)
    if query.restriction is None:
        return filtered
    visible = query.restriction.ids()
    return visible if filtered is None else intersect(operand(filtered), visible)
