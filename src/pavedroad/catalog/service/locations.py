"""Registering, refreshing, reading and unregistering locations, and dry runs of a registration."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pavedroad.audit import service as audit
from pavedroad.catalog.entity_removal import delete_entities
from pavedroad.catalog.models import Entity, Location
from pavedroad.catalog.processing import ProcessedEntity
from pavedroad.catalog.reading import FileProblem, FileResult, read_location_files
from pavedroad.catalog.service.catalog import (
    Catalog,
    FileCallback,
    LocationRefresh,
    location_name,
    location_names,
)
from pavedroad.catalog.service.location_batches import ingest_batch
from pavedroad.catalog.sources import (
    LOCATION_TYPES,
    OpenedLocation,
    SourceError,
    normalise_target,
    open_location,
)
from pavedroad.core.actors import Actor
from pavedroad.core.db import chunks, is_postgres
from pavedroad.core.errors import ConflictError, InputError, NotFoundError

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
    return ingest_batch(session, catalog, locations, actor=actor, on_file=on_file)


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
    return ingest_batch(session, catalog, batch, actor=actor, on_file=on_file)


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
    names = location_names(session)
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


def forget_pasted_descriptor(catalog: Catalog, location_type: str, target: str) -> None:
    """Delete the kept copy of a pasted descriptor once its location is unregistered.

    Only files the portal wrote (under ``pasted_folder``) are touched; call it after the
    unregistering transaction committed, so a failed unregister keeps the file.
    """
    if location_type != "file":
        return
    path = Path(target)
    if path.parent.resolve() == catalog.pasted_folder.resolve():
        path.unlink(missing_ok=True)


def iter_location_ids(session: Session) -> Iterator[str]:
    yield from session.scalars(select(Location.id).order_by(Location.created_at))


def touch_location(session: Session, location_id: str) -> None:
    session.execute(update(Location).where(Location.id == location_id).values(next_refresh_at=None))
