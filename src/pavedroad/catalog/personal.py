"""What one person starred and recently visited in the catalog."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from pavedroad.audit import service as audit
from pavedroad.catalog.models import EntityStar, EntityVisit
from pavedroad.core.actors import Actor
from pavedroad.core.db import upsert

RECENT_LIMIT = 10


def star(session: Session, entity_ref: str, *, actor: Actor) -> None:
    if is_starred(session, actor.ref, entity_ref):
        return
    values = {"user_ref": actor.ref, "entity_ref": entity_ref, "starred_at": datetime.now(UTC)}
    upsert(session, EntityStar, values, keys=("user_ref", "entity_ref"))
    audit.record(session, actor=actor, event="catalog.entity.starred", target=entity_ref)


def unstar(session: Session, entity_ref: str, *, actor: Actor) -> None:
    session.execute(
        delete(EntityStar).where(
            EntityStar.user_ref == actor.ref, EntityStar.entity_ref == entity_ref
        )
    )
    audit.record(session, actor=actor, event="catalog.entity.unstarred", target=entity_ref)


def is_starred(session: Session, user_ref: str, entity_ref: str) -> bool:
    return (
        session.scalar(
            select(EntityStar.entity_ref).where(
                EntityStar.user_ref == user_ref, EntityStar.entity_ref == entity_ref
            )
        )
        is not None
    )


def starred(session: Session, user_ref: str) -> Sequence[str]:
    return session.scalars(
        select(EntityStar.entity_ref)
        .where(EntityStar.user_ref == user_ref)
        .order_by(EntityStar.starred_at.desc())
    ).all()


def record_visit(session: Session, user_ref: str, entity_ref: str) -> None:
    """Remember that ``user_ref`` opened ``entity_ref`` now (one row per pair, kept current)."""
    values = {"user_ref": user_ref, "entity_ref": entity_ref, "visited_at": datetime.now(UTC)}
    upsert(session, EntityVisit, values, keys=("user_ref", "entity_ref"), update=("visited_at",))


def recent(session: Session, user_ref: str, limit: int = RECENT_LIMIT) -> Sequence[str]:
    return session.scalars(
        select(EntityVisit.entity_ref)
        .where(EntityVisit.user_ref == user_ref)
        .order_by(EntityVisit.visited_at.desc())
        .limit(limit)
    ).all()
