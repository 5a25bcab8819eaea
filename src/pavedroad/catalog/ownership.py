"""Who a user is in the catalog and what they own through their groups."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import orjson
from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from pavedroad.catalog.models import Entity, EntityRelation
from pavedroad.catalog.queries import FilterGroups, Restriction
from pavedroad.catalog.queries.filters import filter_condition


@dataclass(frozen=True, slots=True)
class Person:
    ref: str
    display_name: str
    email: str | None
    groups: list[str]

    @property
    def ownership_refs(self) -> list[str]:
        """The refs whose ownership counts as the person's: themselves and their groups."""
        return [self.ref, *self.groups]


def person(session: Session, user_ref: str) -> Person | None:
    """The User entity behind ``user_ref`` with the groups it is a member of."""
    body = session.scalar(select(Entity.body).where(Entity.ref == user_ref))
    if body is None:
        return None
    entity = orjson.loads(body)
    profile = (entity.get("spec") or {}).get("profile") or {}
    groups = sorted(
        set(
            session.scalars(
                select(EntityRelation.target_ref).where(
                    EntityRelation.source_ref == user_ref, EntityRelation.type == "memberOf"
                )
            )
        )
    )
    name = (
        profile.get("displayName") or entity["metadata"].get("title") or entity["metadata"]["name"]
    )
    return Person(user_ref, str(name), profile.get("email"), groups)


def owned_components(
    session: Session, owner_refs: Sequence[str], *, restriction: Restriction | None = None
) -> list[tuple[str, str]]:
    """``(ref, entity JSON text)`` of the components owned by any of ``owner_refs`` (a person
    and their groups), that the viewer may see, in ref order."""
    owned: FilterGroups = [
        [("kind", ("component",)), ("relations.ownedby", tuple(r.lower() for r in owner_refs))]
    ]
    condition = filter_condition(owned)
    if restriction is not None:
        condition = and_(condition, restriction.condition)
    rows = session.execute(select(Entity.ref, Entity.body).where(condition).order_by(Entity.ref))
    return [(ref, body) for ref, body in rows]
