"""A person's identity from the catalog: their User entity, their groups and, through parent
groups, every group whose ownership counts as theirs."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from pavedroad.catalog import ownership
from pavedroad.catalog.models import EntityRelation
from pavedroad.identity.schemas import Identity

MAX_GROUP_DEPTH = 32  # deeper than any real organisation; stops a cycle of parents


def resolve_identity(session: Session, user_ref: str) -> Identity:
    """The identity of ``user_ref``; a ref with no User entity owns only what names it."""
    user_ref = user_ref.lower()
    person = ownership.person(session, user_ref)
    if person is None:
        name = user_ref.split("/")[-1]
        return Identity(user_ref, name, None, (), (user_ref,), False)
    groups = tuple(person.groups)
    ancestors = _ancestor_groups(session, list(groups))
    refs = (user_ref, *groups, *sorted(ancestors - set(groups)))
    return Identity(user_ref, person.display_name, person.email, groups, refs, True)


def _ancestor_groups(session: Session, groups: list[str]) -> set[str]:
    """``groups`` and every group above them (one query per level of the hierarchy)."""
    found = set(groups)
    frontier = groups
    for _ in range(MAX_GROUP_DEPTH):
        if not frontier:
            break
        parents = session.scalars(
            select(EntityRelation.target_ref).where(
                EntityRelation.source_ref.in_(frontier), EntityRelation.type == "childOf"
            )
        ).all()
        frontier = [parent for parent in parents if parent not in found]
        found.update(frontier)
    return found
