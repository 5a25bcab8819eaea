"""Security results in the database: each scan a pipeline ran (or failed to run), the findings
it made, the exceptions people granted, and the gate's decision per run."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from pavedroad.core.db import Base


class SecurityScan(Base):
    """One scanner step of a run: ``succeeded`` with its findings, or ``failed`` with why (a
    scan that did not run is never the same as a scan that found nothing)."""

    __tablename__ = "security_scans"
    __table_args__ = (
        Index("ix_security_scans_run_id", "run_id"),
        Index("ix_security_scans_component_ref_created_at", "component_ref", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str | None] = mapped_column(String(36))
    step_id: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))  # sast, secret, vulnerability, dast
    component_ref: Mapped[str | None] = mapped_column(String(400))
    commit: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # succeeded, failed
    error: Mapped[str | None] = mapped_column(Text)
    finding_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SecurityFinding(Base):
    """A finding of a scan, as :class:`pavedroad.security.findings.Finding` describes it."""

    __tablename__ = "security_findings"
    __table_args__ = (
        Index("ix_security_findings_scan_id", "scan_id"),
        Index("ix_security_findings_component_ref_severity", "component_ref", "severity"),
        Index("ix_security_findings_rule", "rule"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scan_id: Mapped[int] = mapped_column(ForeignKey("security_scans.id", ondelete="CASCADE"))
    component_ref: Mapped[str | None] = mapped_column(String(400))
    tool: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    rule: Mapped[str] = mapped_column(String(255))
    severity: Mapped[str] = mapped_column(String(16))
    fingerprint: Mapped[str] = mapped_column(String(64))
    finding: Mapped[dict[str, Any]] = mapped_column(JSON)  # Finding.to_json()
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SecurityException(Base):
    """An accepted finding of one component: a rule (all its findings there) or one finding
    (by fingerprint), until ``expires_at``, for a stated reason."""

    __tablename__ = "security_exceptions"
    __table_args__ = (Index("ix_security_exceptions_component_ref", "component_ref"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    component_ref: Mapped[str] = mapped_column(String(400))
    rule: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(400))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class GateDecision(Base):
    """The gate's verdict on a run's findings: what blocked (with where and the fix), and
    what an exception let through."""

    __tablename__ = "security_gate_decisions"
    __table_args__ = (
        Index("ix_security_gate_decisions_component_ref_commit", "component_ref", "commit"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str | None] = mapped_column(String(36), index=True)
    component_ref: Mapped[str | None] = mapped_column(String(400))
    commit: Mapped[str | None] = mapped_column(String(64))
    blocked: Mapped[bool] = mapped_column(Boolean)
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    excepted: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SecurityAlert(Base):
    """A newly imported advisory that affects a component already scanned: found from its
    latest SBOM without rescanning, shown to its owners and sent to the alert webhooks once."""

    __tablename__ = "security_alerts"
    __table_args__ = (
        UniqueConstraint(
            "component_ref",
            "advisory_id",
            "package",
            "version",
            name="uq_security_alerts_component_advisory_package",
        ),
        Index("ix_security_alerts_component_ref_created_at", "component_ref", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    component_ref: Mapped[str] = mapped_column(String(400))
    advisory_id: Mapped[str] = mapped_column(String(128))
    package: Mapped[str] = mapped_column(String(512))
    version: Mapped[str] = mapped_column(String(256))
    severity: Mapped[str | None] = mapped_column(String(16))
    fixed: Mapped[str | None] = mapped_column(String(256))
    summary: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    notified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
