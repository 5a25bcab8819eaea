"""Ingesting a batch of locations breadth first: every location's files at one depth are read
before any location goes deeper, so that within one batch a file named directly wins a
conflicting ref over a file reached through Location entities (what Backstage's processing loop
also ends up doing)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from pavedroad.audit import service as audit
from pavedroad.catalog.ingestion import IngestReport, Owner, Reconciler
from pavedroad.catalog.ingestion_errors import store_errors
from pavedroad.catalog.models import IngestionError, Location, LocationFile
from pavedroad.catalog.reading import FileProblem, FileResult, read_location_files
from pavedroad.catalog.service.catalog import (
    Catalog,
    FileCallback,
    LocationRefresh,
    location_name,
    location_names,
)
from pavedroad.catalog.sources import OpenedLocation
from pavedroad.core.actors import Actor
from pavedroad.core.db import chunks
from pavedroad.core.prefetch import prefetched


def ingest_batch(
    session: Session,
    catalog: Catalog,
    batch: Sequence[tuple[Location, OpenedLocation | FileProblem]],
    *,
    actor: Actor,
    on_file: FileCallback | None = None,
) -> list[LocationRefresh]:
    names = location_names(session)
    runs = []
    results = []
    for location, opened in batch:
        if isinstance(opened, FileProblem):
            results.append(_mark_unreadable(session, location, opened))
            continue
        run = _LocationRun(
            session, catalog, location, opened, actor=actor, names=names, on_file=on_file
        )
        runs.append(run)
    depth = 0
    while any(not run.done for run in runs):
        for run in runs:
            run.ingest_depth(depth)
        depth += 1
    results.extend(run.finish() for run in runs)
    return results


@dataclass(frozen=True, slots=True)
class _FileSeen:
    path: str
    parent: str | None
    failed: bool
    entity_count: int


class _LocationRun:
    """One location's part of a batch: reads its files depth by depth into a reconciler."""

    def __init__(
        self,
        session: Session,
        catalog: Catalog,
        location: Location,
        opened: OpenedLocation,
        *,
        actor: Actor,
        names: dict[str, str],
        on_file: FileCallback | None,
    ) -> None:
        self.session = session
        self.on_file = on_file
        self.catalog = catalog
        self.location = location
        self.opened = opened
        self.reconciler = Reconciler(
            session, Owner(location_id=location.id), actor=actor, owner_names=names
        )
        # Files are read and validated on another thread while earlier ones are written.
        self.files = prefetched(
            read_location_files(
                opened.tree,
                opened.entry_paths,
                catalog.pipeline,
                origin=location_name(location),
                max_depth=catalog.settings.catalog.max_location_depth,
            ),
            # Enough files to cover a write batch: the reader keeps going while one is written.
            depth=64,
        )
        self.seen: list[_FileSeen] = []
        self._next: FileResult | None = None
        self.done = False

    def ingest_depth(self, depth: int) -> None:
        while not self.done:
            if self._next is None:
                self._next = next(self.files, None)
                if self._next is None:
                    self.done = True
                    return
            if self._next.depth > depth:
                return
            result, self._next = self._next, None
            # Only a summary is kept: holding every file's entities would hold the whole
            # location in memory.
            self.seen.append(
                _FileSeen(result.path, result.parent, result.failed, len(result.entities))
            )
            self.reconciler.add_file(result)
            if self.on_file is not None:
                self.on_file(result)
        self.reconciler.flush()

    def finish(self) -> LocationRefresh:
        self.reconciler.flush()
        previous = dict(
            self.session.execute(
                select(LocationFile.path, LocationFile.parent_path).where(
                    LocationFile.location_id == self.location.id
                )
            ).all()
        )
        visited = {result.path for result in self.seen}
        failed = {result.path for result in self.seen if result.failed}
        kept = _kept_paths(previous, failed, visited)
        report = self.reconciler.finish(kept)
        self._store_files(previous, kept)
        _mark_refreshed(self.catalog, self.location, report, self.reconciler.kept_count(kept))
        self.location.revision = self.opened.revision
        audit.record(
            self.session,
            actor=self.reconciler.actor,
            event="catalog.location.refreshed",
            target=f"location:{self.location.id}",
            details={
                "created": report.created,
                "updated": report.updated,
                "moved": report.moved,
                "deleted": report.deleted,
                "errors": len(report.errors),
                "failed_files": report.failed_files[:20],
            },
        )
        return LocationRefresh(self.location, report)

    def _store_files(self, previous: dict[str, str | None], kept: set[str | None]) -> None:
        self.session.execute(
            delete(LocationFile).where(LocationFile.location_id == self.location.id)
        )
        counts = {seen.path: seen.entity_count for seen in self.seen}
        rows = [
            {
                "location_id": self.location.id,
                "path": seen.path,
                "parent_path": seen.parent,
                "status": "failed" if seen.failed else "ok",
                "entity_count": seen.entity_count,
            }
            for seen in self.seen
        ]
        rows += [
            {
                "location_id": self.location.id,
                "path": path,
                "parent_path": previous.get(path),
                "status": "kept",
                "entity_count": 0,
            }
            for path in kept
            if path is not None and path not in counts and path in previous
        ]
        for chunk in chunks(rows):
            self.session.execute(insert(LocationFile), list(chunk))


def _kept_paths(
    previous: dict[str, str | None], failed: set[str], visited: set[str]
) -> set[str | None]:
    """Files whose entities stay: refused files, and what was reached through them before."""
    kept: set[str | None] = set(failed)
    changed = True
    while changed:
        changed = False
        for path, parent in previous.items():
            if path not in kept and path not in visited and parent in kept:
                kept.add(path)
                changed = True
    return kept


def _mark_refreshed(catalog: Catalog, location: Location, report: IngestReport, kept: int) -> None:
    now = datetime.now(UTC)
    location.refreshed_at = now
    location.next_refresh_at = now + timedelta(
        seconds=catalog.settings.catalog.refresh_interval_seconds
    )
    location.entity_count = report.entities + kept
    location.error_count = len(report.errors)
    location.status = (
        "ok" if not report.errors else ("failed" if not report.entities else "partial")
    )


def _mark_unreadable(session: Session, location: Location, problem: FileProblem) -> LocationRefresh:
    session.execute(delete(IngestionError).where(IngestionError.location_id == location.id))
    now = datetime.now(UTC)
    store_errors(session, Owner(location_id=location.id), [problem], now)
    location.status = "failed"
    location.error_count = 1
    location.refreshed_at = now
    return LocationRefresh(location, IngestReport(errors=[problem]), unreadable=problem)
