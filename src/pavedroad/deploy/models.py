"""Deployments in the database: each deploy (and rollback) of a component's version to an
environment with its outcome and evidence, the environment's current state (one row per
component and environment, locked while a deploy runs, so deploys to one environment are
serialised), and the samples health analysis took."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pavedroad.core.db import Base


class Deployment(Base):
    """One deploy: ``queued`` → ``deploying`` → ``analysing`` → ``succeeded``, or ``failed``
    (with ``error``), ``rolled_back`` (a breach: ``evidence`` says which check, its samples,
    threshold, baseline and window), ``refused`` (freeze, gate, version unknown) or
    ``cancelled``. A rollback is a deployment too (``kind`` rollback, ``rollback_of``)."""

    __tablename__ = "deployments"
    __table_args__ = (
        Index(
            "ix_deployments_component_environment_created",
            "component_ref",
            "environment",
            "created_at",
        ),
        Index("ix_deployments_status", "status"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    component_ref: Mapped[str] = mapped_column(String(400))
    environment: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(255))  # what people call it: 1.4.0, a tag
    commit: Mapped[str | None] = mapped_column(String(64))
    artifact: Mapped[str | None] = mapped_column(String(2048))  # what was deployed (path, image)
    kind: Mapped[str] = mapped_column(String(16), default="deploy")  # deploy, rollback, redeploy
    trigger: Mapped[str] = mapped_column(String(32))  # manual, pipeline, promotion, automatic
    triggered_by: Mapped[str] = mapped_column(String(400))
    run_id: Mapped[str | None] = mapped_column(String(36))  # the pipeline run that deployed it
    rollback_of: Mapped[str | None] = mapped_column(ForeignKey("deployments.id"))
    previous_id: Mapped[str | None] = mapped_column(String(36))  # what ran before it there
    target: Mapped[str] = mapped_column(String(32))  # process, gitops, kubernetes
    status: Mapped[str] = mapped_column(String(16))
    mode: Mapped[str] = mapped_column(String(16), default="enforce")  # analysis: enforce, shadow
    error: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    target_state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # pid, port, sha...
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deployed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class EnvironmentState(Base):
    """What runs in one environment of one component now, and whether a deploy holds it."""

    __tablename__ = "deployment_environments"

    component_ref: Mapped[str] = mapped_column(String(400), primary_key=True)
    environment: Mapped[str] = mapped_column(String(64), primary_key=True)
    current_id: Mapped[str | None] = mapped_column(String(36))  # the live deployment
    last_good_id: Mapped[str | None] = mapped_column(String(36))  # what a rollback goes to
    busy_with: Mapped[str | None] = mapped_column(String(36))  # the deploy holding it
    healthy: Mapped[bool | None] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AnalysisSample(Base):
    """One sample of a deploy's health analysis: each check's value, threshold and verdict."""

    __tablename__ = "deployment_samples"
    __table_args__ = (Index("ix_deployment_samples_deployment_id_at", "deployment_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    deployment_id: Mapped[str] = mapped_column(ForeignKey("deployments.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    checks: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # name, value, threshold, ok
    verdict: Mapped[str] = mapped_column(String(16))  # ok, bad, no-data, error
