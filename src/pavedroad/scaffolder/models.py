"""A template run is a task row with its events: what was asked, by whom, how far it got."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pavedroad.core.db import Base


class ScaffolderTask(Base):
    """One run of a template: ``open`` → ``processing`` → ``completed`` | ``failed`` |
    ``cancelled``. Parameters are stored with secret fields masked."""

    __tablename__ = "scaffolder_tasks"
    __table_args__ = (
        Index("ix_scaffolder_tasks_status_created_at", "status", "created_at"),
        Index("ix_scaffolder_tasks_created_by_created_at", "created_by", "created_at"),
        Index("ix_scaffolder_tasks_template_ref_created_at", "template_ref", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    template_ref: Mapped[str] = mapped_column(String(400))
    template_version: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(16))
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    output: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(400))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ScaffolderTaskEvent(Base):
    """A line of a task's log, or a step starting or ending (``kind``), in order by id."""

    __tablename__ = "scaffolder_task_events"
    __table_args__ = (Index("ix_scaffolder_task_events_task_id_id", "task_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    task_id: Mapped[str] = mapped_column(ForeignKey("scaffolder_tasks.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    step_id: Mapped[str | None] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))  # log, step, completion
    status: Mapped[str | None] = mapped_column(String(16))  # a step's: processing, completed...
    message: Mapped[str] = mapped_column(Text)
