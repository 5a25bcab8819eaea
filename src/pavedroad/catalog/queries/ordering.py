"""Ordering a page of entities (``orderField`` and the deprecated ``order``) and the opaque
cursors that carry a position in that order from one page to the next."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVarTuple

import orjson
from sqlalchemy import ColumnElement, Select, and_, func, or_, select

from pavedroad.catalog.models import Entity, EntitySearch
from pavedroad.catalog.queries.filters import COLUMN_KEYS
from pavedroad.core.errors import InputError

Row = TypeVarTuple("Row")


@dataclass(frozen=True, slots=True)
class Order:
    field: str | None  # None: by ref
    descending: bool = False

    def expression(self) -> Any:
        if self.field is None:
            return Entity.ref
        column = COLUMN_KEYS.get(self.field)
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


def ordered(query: Select[*Row], order: Order, backwards: bool) -> Select[*Row]:
    descending = order.descending != backwards
    expression = order.expression()
    if order.field is None or order.field in COLUMN_KEYS:  # never NULL: the index gives the order
        tiebreak = Entity.id.desc() if descending else Entity.id.asc()
        primary = expression.desc() if descending else expression.asc()
        return query.order_by(primary) if order.field is None else query.order_by(primary, tiebreak)
    # Entities without the field sort last whichever way, as in Backstage.
    nulls = expression.is_(None)
    primary = expression.desc() if descending else expression.asc()
    tiebreak = Entity.id.desc() if descending else Entity.id.asc()
    return query.order_by(nulls.asc() if not backwards else nulls.desc(), primary, tiebreak)


def after(order: Order, position: list[Any], backwards: bool) -> ColumnElement[bool]:
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
