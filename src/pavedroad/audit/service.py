"""Writing and reading audit events. Every mutating service records here, in its own transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from pavedroad.audit.models import AuditEvent
from pavedroad.core.actors import Actor
from pavedroad.core.telemetry import redact


def record(
    session: Session,
    *,
    actor: Actor,
    event: str,
    target: str,
    details: dict[str, Any] | None = None,
) -> None:
    """Append one event, e.g. ``catalog.location.registered`` on ``location:<id>``."""
    session.add(
        AuditEvent(
            at=datetime.now(UTC),
            actor=actor.ref,
            event=event,
            target=target,
            details=redact(details or {}),
        )
    )


def record_many(
    session: Session, *, actor: Actor, event: str, items: Iterable[tuple[str, dict[str, Any]]]
) -> None:
    """Append one event per (target, details) pair in a single statement."""
    now = datetime.now(UTC)
    rows = [
        {
            "at": now,
            "actor": actor.ref,
            "event": event,
            "target": target,
            "details": redact(details),
        }
        for target, details in items
    ]
    if rows:
        session.execute(insert(AuditEvent), rows)


def list_events(
    session: Session, *, target: str | None = None, event: str | None = None, limit: int = 100
) -> Sequence[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if target is not None:
        query = query.where(AuditEvent.target == target)
    if event is not None:
        query = query.where(AuditEvent.event == event)
    return session.scalars(query).all()
