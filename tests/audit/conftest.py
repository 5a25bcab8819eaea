"""What the audit tests share: events written as services write them, or dated in the past."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from pavedroad.audit import service
from pavedroad.audit.models import AuditEvent
from pavedroad.core.actors import Actor

ANN = Actor("user:default/ann")
BOB = Actor("user:default/bob")


def deployment(
    session: Session,
    environment: str = "production",
    *,
    actor: Actor = ANN,
    service_name: str = "checkout",
) -> None:
    """A deployment as the deployment capability will record it."""
    service.record(
        session,
        actor=actor,
        event="deployment.trigger",
        target=f"component:default/{service_name}",
        details={"environment": environment, "version": "1.4.2"},
    )


def failed_sign_in(session: Session, username: str = "bob", ip: str = "203.0.113.9") -> None:
    """A failed sign-in as the identity capability records it."""
    service.record(
        session,
        actor=Actor("user:default/anonymous"),
        event="auth.failed",
        target=f"account:{username}",
        resource_type="identity-account",
        result="failed",
        details={"method": "local", "reason": "bad-password", "ip_address": ip},
    )


def dated_event(session: Session, age: timedelta, **fields: Any) -> AuditEvent:
    """An event recorded ``age`` ago (rows are only ever inserted, so tests date them at once)."""
    values: dict[str, Any] = {
        "actor": ANN.ref,
        "event": "catalog.entity.starred",
        "resource_type": "catalog-entity",
        "target": "component:default/checkout",
        "result": "success",
        "details": {},
        **fields,
    }
    event = AuditEvent(at=datetime.now(UTC) - age, **values)
    session.add(event)
    session.flush()
    return event


def many_events(session: Session, count: int, event: str = "catalog.entity.starred") -> None:
    service.record_many(
        session,
        actor=ANN,
        event=event,
        items=[(f"component:default/c{index}", {"index": index}) for index in range(count)],
    )
