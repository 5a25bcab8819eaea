"""Writing and reading audit events. Every mutating service records here, in its own transaction.

Who acted, what they did to which resource and how it ended come from the caller; where the
request came from (client address, request id) comes from the request being served, so no
service has to pass it along.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from pavedroad.audit.models import AuditEvent
from pavedroad.core.actors import Actor
from pavedroad.core.telemetry import client_ip_var, redact, request_id_var

RESULTS = ("success", "denied", "failed")
# Refs whose prefix names a catalog resource rather than a type of its own.
_CATALOG_PREFIXES = {"location": "catalog-location", "provider": "catalog-provider"}


def is_entity_ref(ref: str) -> bool:
    """Whether ``ref`` is a full catalog entity ref (``kind:namespace/name``), not
    ``system:...``, ``location:<id>`` and the like."""
    kind, colon, rest = ref.partition(":")
    namespace, slash, name = rest.partition("/")
    return bool(colon and slash and kind and namespace and name) and "/" not in kind


def resource_type_of(target: str) -> str:
    """The resource type a target ref implies: ``component:default/x`` is a
    ``catalog-entity``, ``location:<id>`` a ``catalog-location``, ``token:x`` a ``token``;
    a target without a prefix (a request path) implies none."""
    if is_entity_ref(target):
        return "catalog-entity"
    prefix, colon, _ = target.partition(":")
    return _CATALOG_PREFIXES.get(prefix, prefix) if colon else ""


def record(
    session: Session,
    *,
    actor: Actor,
    event: str,
    target: str,
    details: dict[str, Any] | None = None,
    resource_type: str | None = None,
    result: str = "success",
) -> None:
    """Append one event, e.g. ``catalog.location.registered`` on ``location:<id>``."""
    session.add(AuditEvent(**_row(actor, event, target, details or {}, resource_type, result)))


def record_many(
    session: Session,
    *,
    actor: Actor,
    event: str,
    items: Iterable[tuple[str, dict[str, Any]]],
    resource_type: str | None = None,
    result: str = "success",
) -> None:
    """Append one event per (target, details) pair in a single statement."""
    now = datetime.now(UTC)
    rows = [
        _row(actor, event, target, details, resource_type, result, at=now)
        for target, details in items
    ]
    if rows:
        session.execute(insert(AuditEvent), rows)


def _row(
    actor: Actor,
    event: str,
    target: str,
    details: dict[str, Any],
    resource_type: str | None,
    result: str,
    *,
    at: datetime | None = None,
) -> dict[str, Any]:
    if result not in RESULTS:
        raise ValueError(f"audit result must be one of {', '.join(RESULTS)}, not {result!r}")
    return {
        # Always UTC: SQLite stores the wall-clock time without its zone.
        "at": at or datetime.now(UTC),
        "actor": actor.ref,
        "event": event,
        "resource_type": resource_type or resource_type_of(target),
        "target": target,
        "result": result,
        "client_ip": client_ip_var.get(),
        "request_id": request_id_var.get(),
        "details": redact(details),
    }


def list_events(
    session: Session, *, target: str | None = None, event: str | None = None, limit: int = 100
) -> Sequence[AuditEvent]:
    """The newest events, optionally of one target or one action (see :mod:`.queries`
    for every filter)."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if target is not None:
        query = query.where(AuditEvent.target == target)
    if event is not None:
        query = query.where(AuditEvent.event == event)
    return session.scalars(query).all()
