"""Pipeline runs in the database: the run (queued until a worker claims it under a lease), its
steps with their status and results, their log in chunks, their artifacts; the repositories
watched for new commits and the webhook deliveries already seen."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pavedroad.core.db import Base


class PipelineRun(Base):
    """One run: ``queued`` → ``running`` → ``succeeded`` | ``failed`` | ``cancelled``, or
    ``rejected`` when its pipeline file is invalid (``problems`` says why; nothing ran)."""

    __tablename__ = "pipeline_runs"
    __table_args__ = (
        Index("ix_pipeline_runs_status_created_at", "status", "created_at"),
        Index("ix_pipeline_runs_component_ref_created_at", "component_ref", "created_at"),
        Index("ix_pipeline_runs_repository_created_at", "repository", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    number: Mapped[int] = mapped_column(Integer)  # per repository, for people: "run #42"
    repository: Mapped[str] = mapped_column(String(2048))
    component_ref: Mapped[str | None] = mapped_column(String(400))
    commit: Mapped[str] = mapped_column(String(64))
    branch: Mapped[str] = mapped_column(String(255))
    trigger: Mapped[str] = mapped_column(String(32))  # push, pull_request, poll, manual, api
    triggered_by: Mapped[str] = mapped_column(String(400))
    status: Mapped[str] = mapped_column(String(16))
    definition: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # Pipeline.to_json()
    problems: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    changed_paths: Mapped[list[str] | None] = mapped_column(JSON)
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    error: Mapped[str | None] = mapped_column(Text)
    external: Mapped[str | None] = mapped_column(String(32))  # argo, github-actions: reported back


class PipelineStep(Base):
    """A step of a run: ``pending`` → ``running`` → ``succeeded`` | ``failed`` | ``skipped`` |
    ``cancelled``; its results are kept as soon as it ends, whatever happens to the run."""

    __tablename__ = "pipeline_steps"
    __table_args__ = (Index("ix_pipeline_steps_run_id_position", "run_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("pipeline_runs.id", ondelete="CASCADE"))
    step_id: Mapped[str] = mapped_column(String(255))  # Step.id: "<stage>.<name>"
    stage: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(128))
    position: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    exit_code: Mapped[int | None] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # tests, coverage...
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    log_bytes: Mapped[int] = mapped_column(Integer, default=0)


class PipelineLogChunk(Base):
    """A piece of a step's output, in order by id (appended while the step runs)."""

    __tablename__ = "pipeline_log_chunks"
    __table_args__ = (Index("ix_pipeline_log_chunks_step_id_id", "step_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("pipeline_steps.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    text: Mapped[str] = mapped_column(Text)


class PipelineArtifact(Base):
    """A file a step left (a report or a declared artifact), kept in the artifact store."""

    __tablename__ = "pipeline_artifacts"
    __table_args__ = (Index("ix_pipeline_artifacts_step_id", "step_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("pipeline_steps.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # junit, coverage, sarif, cyclonedx, file
    path: Mapped[str] = mapped_column(String(2048))  # as in the workspace
    stored: Mapped[str] = mapped_column(String(2048))  # relative to the artifact store
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class WatchedRepository(Base):
    """A repository polled for new commits, with the last commit seen per branch."""

    __tablename__ = "pipeline_repositories"

    url: Mapped[str] = mapped_column(String(2048), primary_key=True)
    component_ref: Mapped[str | None] = mapped_column(String(400))
    heads: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # branch -> commit
    checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    error: Mapped[str | None] = mapped_column(Text)


class WebhookDelivery(Base):
    """A webhook delivery already accepted: a replay of the same delivery is refused."""

    __tablename__ = "pipeline_webhook_deliveries"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)  # provider:delivery-id
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
