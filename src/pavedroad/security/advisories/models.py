"""Advisories in the database: the OSV record, the packages it affects (by ecosystem and
normalised name, the key every match looks up) and its aliases (CVE ids and the like)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pavedroad.core.db import Base


class Advisory(Base):
    """One OSV record as last imported; ``withdrawn`` ones are kept but never match."""

    __tablename__ = "advisories"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    modified: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    published: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    withdrawn: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    summary: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[str] = mapped_column(Text, default="")
    severity: Mapped[str | None] = mapped_column(String(16))
    score: Mapped[float | None] = mapped_column(Float)
    vector: Mapped[str | None] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(2048))  # the file or archive member it came from
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    record: Mapped[dict[str, Any]] = mapped_column(JSON)


class AdvisoryPackage(Base):
    """A package an advisory affects, with its OSV ranges and explicit versions."""

    __tablename__ = "advisory_packages"
    __table_args__ = (Index("ix_advisory_packages_ecosystem_name", "ecosystem", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    advisory_id: Mapped[str] = mapped_column(
        ForeignKey("advisories.id", ondelete="CASCADE"), index=True
    )
    ecosystem: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(512))
    purl: Mapped[str | None] = mapped_column(String(1024))
    ranges: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    versions: Mapped[list[str]] = mapped_column(JSON)


class AdvisoryAlias(Base):
    """Another id of an advisory (``CVE-2021-44228`` for ``GHSA-jfh8-c2jp-5v3q``)."""

    __tablename__ = "advisory_aliases"

    alias: Mapped[str] = mapped_column(String(128), primary_key=True)
    advisory_id: Mapped[str] = mapped_column(
        ForeignKey("advisories.id", ondelete="CASCADE"), primary_key=True, index=True
    )
