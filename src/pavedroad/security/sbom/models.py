"""Stored SBOMs: one per component and commit scanned (the CycloneDX document as made), and its
packages as rows, indexed for "which components ship package X at version Y".

``latest`` marks each component's most recently stored SBOM (a partial unique index keeps it to
one), so organisation-wide questions read only the current SBOM of every component.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from pavedroad.core.db import Base


class Sbom(Base):
    __tablename__ = "sboms"
    __table_args__ = (
        Index("ix_sboms_component_ref_created_at", "component_ref", "created_at"),
        Index(
            "uq_sboms_latest_component_ref",
            "component_ref",
            unique=True,
            sqlite_where=text("latest"),
            postgresql_where=text("latest"),
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    component_ref: Mapped[str] = mapped_column(String(400))
    commit: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    run_id: Mapped[str | None] = mapped_column(String(36), index=True)  # the pipeline run
    created_by: Mapped[str] = mapped_column(String(400))
    latest: Mapped[bool] = mapped_column(Boolean, default=True)
    package_count: Mapped[int] = mapped_column(Integer)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)


class SbomPackage(Base):
    """A package an SBOM lists, by ecosystem and normalised name (the key advisories use)."""

    __tablename__ = "sbom_packages"
    __table_args__ = (
        Index("ix_sbom_packages_ecosystem_name_version", "ecosystem", "name", "version"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sbom_id: Mapped[str] = mapped_column(ForeignKey("sboms.id", ondelete="CASCADE"), index=True)
    ecosystem: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(512))
    version: Mapped[str] = mapped_column(String(256))
    purl: Mapped[str] = mapped_column(String(1024))
    direct: Mapped[bool | None] = mapped_column(Boolean)  # None: the lockfile does not say
