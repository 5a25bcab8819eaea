"""The append-only audit log: who did what to which thing, when, from where, and how it ended.

Rows are only ever inserted, in the same transaction as the change they record; database
triggers refuse updates, and deletes of rows younger than the retention allows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from pavedroad.core.db import Base


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_target_at", "target", "at"),
        Index("ix_audit_events_event_at", "event", "at"),
        Index("ix_audit_events_actor_at", "actor", "at"),
        Index("ix_audit_events_result_at", "result", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(255))  # an entity ref, service:... or system:...
    event: Mapped[str] = mapped_column(String(128))  # the action: catalog.location.registered
    resource_type: Mapped[str] = mapped_column(String(64), default="", server_default="")
    target: Mapped[str] = mapped_column(String(512))  # the resource's ref
    result: Mapped[str] = mapped_column(String(16), default="success", server_default="success")
    client_ip: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # the metadata
