"""Catalog service functions: the only write path for locations and entities.

Every function takes a session and, when it changes something, a keyword-only ``actor``; none
commits. Registration and refresh read locations breadth first across the whole batch, so that
within one batch a file named directly wins a conflicting ref over a file reached through
Location entities (what Backstage's processing loop also ends up doing).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from pavedroad.audit import service as audit
from pavedroad.catalog.hooks import EntityProvider
from pavedroad.catalog.ingestion import (
    IngestReport,
    Owner,
    Reconciler,
    chunks,
    delete_entities,
    store_errors,
)
from pavedroad.catalog.models import Entity, IngestionError, Location, LocationFile
from pavedroad.catalog.processing import EntityPipeline, ProcessedEntity
from pavedroad.catalog.read_cache import GenerationCache
from pavedroad.catalog.reading import FileProblem, FileResult, read_location_files
from pavedroad.catalog.refs import RefError, normalise_ref
from pavedroad.catalog.sources import (
    LOCATION_TYPES,
    OpenedLocation,
    SourceError,
    normalise_target,
    open_location,
)
from pavedroad.config import Settings
from pavedroad.core.actors import Actor
from pavedroad.core.db import is_postgres
from pavedroad.core.errors import ConflictError, InputError, NotFoundError
from pavedroad.core.prefetch import prefetched

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


@dataclass(slots=True)
class LocationRefresh:
    location: Location
    report: IngestReport
    unreadable: FileProblem | None = None


def location_name(location: Location) -> str:
    return f"{location.type}:{location.target}"


# -- registering and refreshing locations ------------------------------------------------------


def register_locations(
    session: Session,
    catalog: Catalog,
    targets: Sequence[tuple[str, str]],
    *,
    actor: Actor,
    on_file: FileCallback | None = None,
) -> list[LocationRefresh]:
    """Register locations and ingest them; a target that cannot be opened registers nothing."""
    locations = []
    for type_, target in targets:
        type_, target = _checked(type_, target)
        if find_location(session, type_, target) is not None:
            raise ConflictError(f"Location {type_}:{target} already exists")
        opened = _open(catalog, type_, target)
        location = Location(
            id=str(uuid.uuid4()),
            type=type_,
            target=target,
            created_at=datetime.now(UTC),
            created_by=actor.ref,
            status="pending",
        )
        session.add(location)
        locations.append((location, opened))
    session.flush()
    for location, _ in locations:
        audit.record(
            session,
            actor=actor,
            event="catalog.location.registered",
            target=f"location:{location.id}",
            details={"type": location.type, "target": location.target},
        )
    return _ingest_batch(session, catalog, locations, actor=actor, on_file=on_file)


def _checked(type_: str, target: str) -> tuple[str, str]:
    if type_ not in LOCATION_TYPES:
        raise InputError(f'Unknown location type "{type_}"; use one of {", ".join(LOCATION_TYPES)}')
    if not target or not target.strip():
        raise InputError("Location target must not be empty")
    return type_, normalise_target(type_, target.strip())


def _open(catalog: Catalog, type_: str, target: str) -> OpenedLocation:
    try:
        return open_location(type_, target, catalog.settings.catalog, catalog.data_dir)
    except SourceError as error:
        raise InputError(
            f"Cannot read location {type_}:{target}: {error.message}", hint=error.hint
        ) from None


def refresh_locations(
    session: Session,
    catalog: Catalog,
    location_ids: Sequence[str],
    *,
    actor: Actor,
    on_file: FileCallback | None = None,
) -> list[LocationRefresh]:
    """Read locations again; one that cannot be opened keeps its entities and gets an error."""
    batch: list[tuple[Location, OpenedLocation | FileProblem]] = []
    for location_id in location_ids:
        location = get_location(session, location_id)
        try:
            opened: OpenedLocation | FileProblem = open_location(
                location.type, location.target, catalog.settings.catalog, catalog.data_dir
            )
        except SourceError as error:
            opened = FileProblem("location-read-failed", error.message, "read", hint=error.hint)
        batch.append((location, opened))
    return _ingest_batch(session, catalog, batch, actor=actor, on_file=on_file)


def refresh_due_locations(
    session: Session, catalog: Catalog, *, actor: Actor
) -> list[LocationRefresh]:
    """Refresh every location whose turn has come.

    On PostgreSQL the due locations are claimed with ``FOR UPDATE SKIP LOCKED``, so several
    server processes or replicas never read the same location at the same time; on SQLite the
    writer lock taken at the start of the transaction serialises them.
    """
    now = datetime.now(UTC)
    due = (
        select(Location.id)
        .where((Location.next_refresh_at.is_(None)) | (Location.next_refresh_at <= now))
        .order_by(Location.created_at)
    )
    if is_postgres(session):
        due = due.with_for_update(skip_locked=True)
    ids = session.scalars(due).all()
    return refresh_locations(session, catalog, ids, actor=actor) if ids else []


def _ingest_batch(
    session: Session,
    catalog: Catalog,
    batch: Sequence[tuple[Location, OpenedLocation | FileProblem]],
    *,
    actor: Actor,
    on_file: FileCallback | None = None,
) -> list[LocationRefresh]:
    names = _location_names(session)
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


def _location_names(session: Session) -> dict[str, str]:
    return {
        id_: f"{type_}:{target}"
        for id_, type_, target in session.execute(
            select(Location.id, Location.type, Location.target)
        )
    }


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


# -- dry runs and validation -------------------------------------------------------------------


@dataclass(slots=True)
class DryRun:
    entities: list[ProcessedEntity]
    problems: list[FileProblem]
    files: list[FileResult]


def dry_run_location(session: Session, catalog: Catalog, type_: str, target: str) -> DryRun:
    """What registering would ingest, and every problem it would store; writes nothing."""
    type_, target = _checked(type_, target)
    opened = _open(catalog, type_, target)
    files = list(
        read_location_files(
            opened.tree,
            opened.entry_paths,
            catalog.pipeline,
            origin=f"{type_}:{target}",
            max_depth=catalog.settings.catalog.max_location_depth,
        )
    )
    entities = [e for f in files for e in f.entities]
    problems = [p for f in files for p in f.problems]
    taken = _refs_in_catalog(session, [e.ref for e in entities])
    for processed in entities:
        if processed.ref in taken:
            problems.append(
                FileProblem(
                    "conflict",
                    f"{processed.ref} is already in the catalog from {taken[processed.ref]}",
                    "conflict",
                    entity_ref=processed.ref,
                    hint="rename one of the two entities, or unregister the other location",
                )
            )
    return DryRun(entities, problems, files)


def _refs_in_catalog(session: Session, refs: list[str]) -> dict[str, str]:
    names = _location_names(session)
    found: dict[str, str] = {}
    for chunk in chunks(refs):
        for ref, location_id, provider in session.execute(
            select(Entity.ref, Entity.location_id, Entity.provider).where(Entity.ref.in_(chunk))
        ):
            found[ref] = names.get(location_id or "", f"provider {provider}")
    return found


# -- reading locations ---------------------------------------------------------------------------


def find_location(session: Session, type_: str, target: str) -> Location | None:
    return session.scalar(select(Location).where(Location.type == type_, Location.target == target))


def get_location(session: Session, location_id: str) -> Location:
    location = session.get(Location, location_id)
    if location is None:
        raise NotFoundError(f"Found no location with ID {location_id}")
    return location


def list_locations(session: Session) -> Sequence[Location]:
    return session.scalars(select(Location).order_by(Location.created_at, Location.id)).all()


def location_of_entity(session: Session, ref: str) -> Location:
    entity = get_entity_row(session, ref)
    if entity.location_id is None:
        raise NotFoundError(f"Entity {ref} comes from provider {entity.provider}, not a location")
    return get_location(session, entity.location_id)


def unregister_location(session: Session, location_id: str, *, actor: Actor) -> int:
    """Remove a location and every entity it brought in; returns how many entities went."""
    location = get_location(session, location_id)
    rows = session.execute(
        select(Entity.id, Entity.ref).where(Entity.location_id == location_id)
    ).all()
    refs = [ref for _, ref in rows]
    delete_entities(session, [id_ for id_, _ in rows])
    audit.record_many(
        session,
        actor=actor,
        event="catalog.entity.deleted",
        items=[
            (ref, {"reason": "its location was unregistered", "location": location_name(location)})
            for ref in refs
        ],
    )
    audit.record(
        session,
        actor=actor,
        event="catalog.location.unregistered",
        target=f"location:{location.id}",
        details={"type": location.type, "target": location.target, "entities": len(refs)},
    )
    session.delete(location)
    return len(refs)


# -- entities ------------------------------------------------------------------------------------


def get_entity_row(session: Session, ref: str) -> Entity:
    try:
        key = normalise_ref(ref)
    except RefError as error:
        raise InputError(str(error)) from None
    entity = session.scalar(select(Entity).where(Entity.ref == key))
    if entity is None:
        raise NotFoundError(f"No entity named {key}")
    return entity


def delete_entity(session: Session, uid: str, *, actor: Actor) -> None:
    """Delete one entity; if its location still holds it, the next refresh brings it back."""
    entity = session.scalar(select(Entity).where(Entity.uid == uid))
    if entity is None:
        return
    audit.record(
        session,
        actor=actor,
        event="catalog.entity.deleted",
        target=entity.ref,
        details={"reason": "deleted by request", "uid": uid},
    )
    delete_entities(session, [entity.id])


def refresh_entity(
    session: Session, catalog: Catalog, ref: str, *, actor: Actor
) -> LocationRefresh | None:
    """Read the location (or provider) an entity comes from again."""
    entity = get_entity_row(session, ref)
    if entity.location_id is not None:
        return refresh_locations(session, catalog, [entity.location_id], actor=actor)[0]
    if entity.provider is not None:
        refresh_provider(session, catalog, entity.provider, actor=actor)
    return None


# -- providers -----------------------------------------------------------------------------------


def provider_by_name(catalog: Catalog, name: str) -> EntityProvider:
    for provider in catalog.providers:
        if provider.name == name:
            return provider
    raise NotFoundError(
        f"No entity provider named {name}; installed: "
        f"{', '.join(p.name for p in catalog.providers) or 'none'}"
    )


def refresh_provider(
    session: Session, catalog: Catalog, name: str, *, actor: Actor
) -> IngestReport:
    """Replace a provider's entities with its current snapshot, or keep all if it is invalid."""
    provider = provider_by_name(catalog, name)
    owner = Owner(provider=name)
    problems: list[FileProblem] = []
    processed: list[ProcessedEntity] = []
    try:
        snapshot = list(provider.read())
    except Exception as error:  # a plugin's failure must not take the catalog down
        snapshot = []
        problems.append(
            FileProblem("provider-read-failed", f"provider {name} failed: {error}", "read")
        )
    for index, document in enumerate(snapshot):
        outcome = catalog.pipeline.process(
            document,
            index,
            read_placeholder=None,
            annotations={
                "backstage.io/managed-by-location": f"provider:{name}",
                "backstage.io/managed-by-origin-location": f"provider:{name}",
            },
        )
        problems.extend(
            FileProblem(
                p.category,
                p.message,
                "validation",
                document_index=index,
                entity_ref=outcome.ref,
                field=p.field_path if p.path else None,
                hint=p.hint,
            )
            for p in outcome.problems
        )
        if outcome.entity is not None:
            processed.append(outcome.entity)
    reconciler = Reconciler(session, owner, actor=actor, owner_names=_location_names(session))
    if problems:
        return reconciler.refuse(problems)
    for entity in processed:
        reconciler.add_entity(entity, None)
    report = reconciler.finish()
    audit.record(
        session,
        actor=actor,
        event="catalog.provider.refreshed",
        target=f"provider:{name}",
        details={"created": report.created, "updated": report.updated, "deleted": report.deleted},
    )
    return report


# -- errors --------------------------------------------------------------------------------------


def list_errors(
    session: Session, *, location_id: str | None = None, entity_ref: str | None = None
) -> Sequence[IngestionError]:
    query = select(IngestionError).order_by(
        IngestionError.location_id, IngestionError.file, IngestionError.id
    )
    if location_id is not None:
        query = query.where(IngestionError.location_id == location_id)
    if entity_ref is not None:
        query = query.where(IngestionError.entity_ref == entity_ref.lower())
    return session.scalars(query).all()


def count_entities(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Entity)) or 0


def iter_location_ids(session: Session) -> Iterator[str]:
    yield from session.scalars(select(Location.id).order_by(Location.created_at))


def touch_location(session: Session, location_id: str) -> None:
    session.execute(update(Location).where(Location.id == location_id).values(next_refresh_at=None))


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
