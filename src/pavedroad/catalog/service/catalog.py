"""What every catalog service shares: the installation's :class:`Catalog`, what a location
refresh reports, and how locations are named in messages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pavedroad.catalog.hooks import EntityProvider
from pavedroad.catalog.ingestion import IngestReport
from pavedroad.catalog.models import Location
from pavedroad.catalog.processing import EntityPipeline
from pavedroad.catalog.read_cache import GenerationCache
from pavedroad.catalog.reading import FileProblem, FileResult
from pavedroad.config import Settings

FileCallback = Callable[[FileResult], None]
"""Called after each file a location led to has been read (for progress bars)."""


@dataclass(slots=True)
class Catalog:
    """What catalog services need from the installation: settings, processors, providers."""

    settings: Settings
    pipeline: EntityPipeline
    providers: list[EntityProvider] = field(default_factory=list)
    cache: GenerationCache = field(default_factory=GenerationCache)

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir

    @property
    def pasted_folder(self) -> Path:
        """Where descriptors pasted into the portal are kept, one file per registration."""
        return self.settings.data_dir / "registered"


@dataclass(slots=True)
class LocationRefresh:
    location: Location
    report: IngestReport
    unreadable: FileProblem | None = None


def location_name(location: Location) -> str:
    return f"{location.type}:{location.target}"


def location_names(session: Session) -> dict[str, str]:
    return {
        id_: f"{type_}:{target}"
        for id_, type_, target in session.execute(
            select(Location.id, Location.type, Location.target)
        )
    }


def summarize(report: IngestReport) -> dict[str, Any]:
    return {
        "files": report.files,
        "created": report.created,
        "updated": report.updated,
        "moved": report.moved,
        "unchanged": report.unchanged,
        "deleted": report.deleted,
        "conflicts": report.conflicts,
        "errors": len(report.errors),
    }
