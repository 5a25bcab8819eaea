"""Retention: the only way audit rows ever leave the log.

Rows older than the retention period (``audit.retention_days``, at least one day) are deleted
once a day, and the deletion is itself recorded. The database refuses every other delete (and
every update): on PostgreSQL unless the transaction declares itself retention, on SQLite for
rows younger than a day; see the ``audit_events_append_only`` migration.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import cast

from sqlalchemy import CursorResult, delete, text
from sqlalchemy.orm import Session

from pavedroad.audit import service
from pavedroad.audit.models import AuditEvent
from pavedroad.core.actors import Actor
from pavedroad.core.db import is_postgres
from pavedroad.core.errors import InputError

RETENTION = Actor.system("audit-retention")
MINIMUM_DAYS = 1  # what the SQLite trigger lets through: rows at least a day old


def prune_audit_log(
    session: Session,
    *,
    retention_days: int,
    now: datetime | None = None,
    actor: Actor = RETENTION,
) -> int:
    """Delete the events older than ``retention_days`` and record how many went; returns
    that count. The caller commits."""
    if retention_days < MINIMUM_DAYS:
        raise InputError(
            f"Audit retention must be at least {MINIMUM_DAYS} day, not {retention_days}",
            parameter="retention_days",
        )
    cutoff = (now or datetime.now(UTC)).astimezone(UTC) - timedelta(days=retention_days)
    if is_postgres(session):
        # The trigger lets deletes through only in a transaction that says it is retention.
        session.execute(text("SET LOCAL pavedroad.audit_retention = 'on'"))
    statement = delete(AuditEvent).where(AuditEvent.at < cutoff)
    result = cast(
        CursorResult[tuple[()]],
        session.execute(statement, execution_options={"synchronize_session": False}),
    )
    deleted = result.rowcount
    service.record(
        session,
        actor=actor,
        event="audit.retention.pruned",
        target="audit-log",
        resource_type="audit-log",
        details={
            "deleted": deleted,
            "cutoff": cutoff.isoformat(),
            "retention_days": retention_days,
        },
    )
    return deleted
