"""Which entities the asker may see, when the permission policy does not let them see all.

The policy's condition arrives as a SQL condition on entities; every list, count and facet
applies it in the database, so pages, totals and facet counts never show what is hidden and
pagination stays right. ``key`` tells caches apart: two askers with the same key see the same.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, select

from pavedroad.catalog.models import Entity


@dataclass(frozen=True, slots=True)
class Restriction:
    condition: ColumnElement[bool]
    key: Hashable

    def ids(self) -> Select[Any]:
        return select(Entity.id).where(self.condition)


def restriction_key(restriction: Restriction | None) -> Hashable:
    return None if restriction is None else restriction.key
