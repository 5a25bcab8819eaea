"""Writing what a location or provider holds into the catalog, in the caller's transaction.

The rules that make the catalog trustworthy live here:

- a refused file changes nothing: its entities, and everything reached through it before, stay
  as they were until the file is fixed;
- an entity that moved to another file of the same location keeps its uid (a move, not an
  orphan and a new entity);
- a ref already owned by another location or provider stays there; the newcomer gets a stored
  conflict error naming both;
- entities that vanished from their location are deleted, and each deletion is recorded.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from pavedroad.audit import service as audit
from pavedroad.catalog import text_search
from pavedroad.catalog.entity_removal import delete_derived, delete_entities
from pavedroad.catalog.ingestion_errors import store_errors
from pavedroad.catalog.models import Entity, EntityRelation, EntitySearch, IngestionError
from pavedroad.catalog.planner_statistics import REPLAN_AFTER, refresh_planner_statistics
from pavedroad.catalog.processing import ProcessedEntity, content_hash
from pavedroad.catalog.read_cache import mark_changed
from pavedroad.catalog.reading import FileProblem, FileResult
from pavedroad.catalog.search_index import full_text, search_rows
from pavedroad.catalog.stitching import restitch
from pavedroad.core.actors import Actor
from pavedroad.core.db import allocate_ids, bulk_insert, chunks
from pavedroad.core.telemetry import CATALOG_INGEST_ERRORS, CATALOG_INGESTED

BATCH_SIZE = 2000
ENTITY_COLUMNS = (
    "uid",
    "ref",
    "kind_key",
    "namespace_key",
    "name_key",
    "location_id",
    "provider",
    "source_path",
    "body",
    "content_hash",
    "search_text",
    "created_at",
    "updated_at",
)


def _search_order(row: tuple[int, str, str | None, str | None, bool]) -> tuple[str, str, int]:
    return row[1], row[2] or "", row[0]


@dataclass(frozen=True, slots=True)
class Owner:
    """What an entity comes from: a registered location or a provider."""

    location_id: str | None = None
    provider: str | None = None

    @property
    def label(self) -> str:
        return f"location {self.location_id}" if self.location_id else f"provider {self.provider}"

    def where(self) -> Any:
        if self.location_id is not None:
            return Entity.location_id == self.location_id
        return Entity.provider == self.provider


@dataclass(slots=True)
class _Existing:
    id: int
    uid: str
    content_hash: str
    source_path: str | None


@dataclass(slots=True)
class IngestReport:
    files: int = 0
    failed_files: list[str] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    moved: int = 0
    unchanged: int = 0
    deleted: int = 0
    conflicts: int = 0
    errors: list[FileProblem] = field(default_factory=list)
    entity_refs: list[str] = field(default_factory=list)

    @property
    def entities(self) -> int:
        return self.created + self.updated + self.unchanged


class Reconciler:
    """Brings one owner's entities in line with what was just read, batch by batch."""

    def __init__(
        self, session: Session, owner: Owner, *, actor: Actor, owner_names: dict[str, str]
    ) -> None:
        self.session = session
        self.owner = owner
        self.actor = actor
        self.now = datetime.now(UTC)
        self.report = IngestReport()
        self._owner_names = owner_names
        self._existing = self._load_existing()
        self._claimed: dict[str, str | None] = {}
        self._pending: list[tuple[ProcessedEntity, str | None]] = []
        self._affected: set[str] = set()  # refs whose stored relations must be recomputed

    def _load_existing(self) -> dict[str, _Existing]:
        rows = self.session.execute(
            select(
                Entity.ref, Entity.id, Entity.uid, Entity.content_hash, Entity.source_path
            ).where(self.owner.where())
        )
        return {ref: _Existing(id_, uid, hash_, source) for ref, id_, uid, hash_, source in rows}

    # -- feeding ---------------------------------------------------------------------------------

    def add_file(self, result: FileResult) -> None:
        self.report.files += 1
        if result.failed:
            self.report.failed_files.append(result.path)
            self._add_problems(result.problems)
            return
        for processed in result.entities:
            self.add_entity(processed, result.path)

    def add_entity(self, processed: ProcessedEntity, path: str | None) -> None:
        if processed.ref in self._claimed:
            first = self._claimed[processed.ref]
            self._conflict(processed, path, f"{first} of this {self.owner.label.split()[0]}")
            return
        self._claimed[processed.ref] = path
        self._pending.append((processed, path))
        if len(self._pending) >= BATCH_SIZE:
            self.flush()

    def _add_problems(self, problems: Iterable[FileProblem]) -> None:
        for problem in problems:
            self.report.errors.append(problem)
            CATALOG_INGEST_ERRORS.labels(problem.category).inc()

    def _conflict(self, processed: ProcessedEntity, path: str | None, holder: str) -> None:
        self.report.conflicts += 1
        self._add_problems(
            [
                FileProblem(
                    "conflict",
                    f"{processed.ref} is already in the catalog from {holder}; "
                    f"the copy in {path or self.owner.label} is ignored",
                    "conflict",
                    file=path,
                    document_index=processed.document_index,
                    entity_ref=processed.ref,
                    hint="rename one of the two entities, or unregister the location that should "
                    "not define it",
                )
            ]
        )

    # -- writing ---------------------------------------------------------------------------------

    def flush(self) -> None:
        pending, self._pending = self._pending, []
        if not pending:
            return
        taken = self._owned_elsewhere([p.ref for p, _ in pending if p.ref not in self._existing])
        inserts: list[tuple[ProcessedEntity, str | None, str]] = []
        updates: list[tuple[ProcessedEntity, str | None, str, _Existing]] = []
        for processed, path in pending:
            holder = taken.get(processed.ref)
            if holder is not None:
                del self._claimed[processed.ref]
                self._conflict(processed, path, holder)
                continue
            self.report.entity_refs.append(processed.ref)
            digest = content_hash(processed.entity)
            existing = self._existing.get(processed.ref)
            if existing is None:
                inserts.append((processed, path, digest))
            elif existing.content_hash != digest or existing.source_path != path:
                updates.append((processed, path, digest, existing))
            else:
                self.report.unchanged += 1
        self._insert(inserts)
        self._update(updates)

    def _owned_elsewhere(self, refs: list[str]) -> dict[str, str]:
        holders: dict[str, str] = {}
        for chunk in chunks(refs):
            rows = self.session.execute(
                select(Entity.ref, Entity.location_id, Entity.provider, Entity.source_path).where(
                    Entity.ref.in_(chunk)
                )
            )
            for ref, location_id, provider, source in rows:
                if location_id is not None:
                    name = self._owner_names.get(location_id, f"location {location_id}")
                    holders[ref] = f"{name}" + (f" ({source})" if source else "")
                else:
                    holders[ref] = f"provider {provider}"
        return holders

    def _row(
        self, processed: ProcessedEntity, path: str | None, digest: str, uid: str
    ) -> dict[str, Any]:
        entity = processed.entity
        metadata = entity["metadata"]
        metadata["uid"] = uid
        metadata["etag"] = digest
        return {
            "uid": uid,
            "ref": processed.ref,
            "kind_key": entity["kind"].lower(),
            "namespace_key": metadata["namespace"].lower(),
            "name_key": metadata["name"].lower(),
            "location_id": self.owner.location_id,
            "provider": self.owner.provider,
            "source_path": path,
            "body": orjson.dumps(entity, option=orjson.OPT_NON_STR_KEYS).decode(),
            "content_hash": digest,
            "search_text": full_text(entity),
            "created_at": self.now,
            "updated_at": self.now,
        }

    def _insert(self, inserts: list[tuple[ProcessedEntity, str | None, str]]) -> None:
        if not inserts:
            return
        ids = allocate_ids(self.session, Entity.__tablename__, len(inserts))
        rows = [self._row(p, path, digest, str(uuid.uuid4())) for p, path, digest in inserts]
        bulk_insert(
            self.session,
            Entity.__tablename__,
            ("id", *ENTITY_COLUMNS),
            [
                (id_, *(row[column] for column in ENTITY_COLUMNS))
                for id_, row in zip(ids, rows, strict=True)
            ],
        )
        self._write_derived(
            [
                (id_, p, row["search_text"])
                for id_, (p, _, _), row in zip(ids, inserts, rows, strict=True)
            ]
        )
        self.report.created += len(inserts)
        CATALOG_INGESTED.inc(len(inserts))

    def _update(self, updates: list[tuple[ProcessedEntity, str | None, str, _Existing]]) -> None:
        if not updates:
            return
        moves = []
        written = []
        for processed, path, digest, existing in updates:
            row = self._row(processed, path, digest, existing.uid)
            del row["created_at"]
            self.session.execute(update(Entity).where(Entity.id == existing.id).values(**row))
            written.append((existing.id, processed, row["search_text"]))
            if existing.source_path != path:
                moves.append((processed.ref, {"from": existing.source_path, "to": path}))
        self._affected |= delete_derived(
            self.session, [existing.id for _, _, _, existing in updates]
        )
        self._write_derived(written)
        self.report.updated += len(updates)
        self.report.moved += len(moves)
        audit.record_many(self.session, actor=self.actor, event="catalog.entity.moved", items=moves)
        CATALOG_INGESTED.inc(len(updates))

    def _write_derived(self, written: list[tuple[int, ProcessedEntity, str]]) -> None:
        """Search rows, relations and full-text entries of entities just written."""
        for _, processed, _ in written:
            self._affected.add(processed.ref)
            self._affected.update(relation.target for relation in processed.relations)
        search = [
            (entity_id, key, value, original, in_array)
            for entity_id, processed, _ in written
            for key, value, original, in_array in search_rows(processed.entity)
        ]
        # Inserting in index order keeps the (key, value) index's pages hot: several times
        # faster than arrival order once the table no longer fits the cache.
        search.sort(key=_search_order)
        bulk_insert(
            self.session,
            EntitySearch.__tablename__,
            ("entity_id", "key", "value", "original_value", "in_array"),
            search,
        )
        bulk_insert(
            self.session,
            EntityRelation.__tablename__,
            ("originating_entity_id", "source_ref", "type", "type_key", "target_ref"),
            (
                (entity_id, relation.source, relation.type, relation.type.lower(), relation.target)
                for entity_id, processed, _ in written
                for relation in processed.relations
            ),
        )
        text_search.write(self.session, [(entity_id, text) for entity_id, _, text in written])

    # -- finishing -------------------------------------------------------------------------------

    def finish(self, kept_paths: set[str | None] | None = None) -> IngestReport:
        """Delete what vanished (except what ``kept_paths`` protect) and store the errors."""
        self.flush()
        kept_paths = kept_paths or set()
        orphans = [
            (ref, existing)
            for ref, existing in self._existing.items()
            if ref not in self._claimed and existing.source_path not in kept_paths
        ]
        self._affected |= delete_entities(
            self.session, [existing.id for _, existing in orphans], restitch_now=False
        )
        audit.record_many(
            self.session,
            actor=self.actor,
            event="catalog.entity.deleted",
            items=[
                (
                    ref,
                    {
                        "reason": "no longer in its location",
                        "owner": self.owner.label,
                        "file": existing.source_path,
                        "uid": existing.uid,
                    },
                )
                for ref, existing in orphans
            ],
        )
        self.report.deleted = len(orphans)
        if self._affected:
            restitch(self.session, self._affected)
        if self.report.created or self.report.updated:
            mark_changed(self.session)
        if self.report.created + self.report.updated + self.report.deleted >= REPLAN_AFTER:
            refresh_planner_statistics(self.session)
        self._replace_errors()
        return self.report

    def refuse(self, problems: Iterable[FileProblem]) -> IngestReport:
        """Keep everything as it was and store ``problems`` (a refused provider snapshot)."""
        self._claimed = dict.fromkeys(self._existing)
        self._add_problems(problems)
        return self.finish()

    def kept_count(self, kept_paths: set[str | None]) -> int:
        return sum(
            1
            for ref, e in self._existing.items()
            if ref not in self._claimed and e.source_path in kept_paths
        )

    def _replace_errors(self) -> None:
        condition = (
            IngestionError.location_id == self.owner.location_id
            if self.owner.location_id is not None
            else IngestionError.provider == self.owner.provider
        )
        self.session.execute(delete(IngestionError).where(condition))
        store_errors(self.session, self.owner, self.report.errors, self.now)
