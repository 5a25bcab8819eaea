"""Keeping each entity's ``relations`` JSON in step with the relations table (Backstage's
"stitching").

An entity's relations include those other entities produce (``ownerOf`` comes from what the
group owns). Whenever relation rows are written or removed, the entities on both ends are
"affected" and their stored JSON is recomputed in SQL, in the same transaction; reads then
serve entity and relations with no join and no per-row Python.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from pavedroad.catalog.models import EntityRelation
from pavedroad.core.db import is_postgres

CHUNK = 500
# One set-based upsert per chunk: aggregate the chunk's relations once and write a row per
# existing entity among the refs; an entity without relations gets [].
_AGGREGATE = {
    "sqlite": """
        INSERT INTO stitched_relations (entity_id, relations)
        SELECT entities.id, coalesce((
            SELECT json_group_array(json_object('type', type, 'targetRef', target_ref))
            FROM (SELECT DISTINCT type, target_ref FROM relations
                  WHERE source_ref = entities.ref ORDER BY type, target_ref)
        ), '[]')
        FROM entities WHERE entities.ref IN (SELECT value FROM json_each(:refs))
        ON CONFLICT (entity_id) DO UPDATE SET relations = excluded.relations
    """,
    "postgresql": """
        INSERT INTO stitched_relations (entity_id, relations)
        SELECT entities.id, coalesce(grouped.relations, '[]')
        FROM entities
        LEFT JOIN (
            SELECT source_ref,
                   json_agg(json_build_object('type', type, 'targetRef', target_ref)
                            ORDER BY type, target_ref)::text AS relations
            FROM (SELECT DISTINCT source_ref, type, target_ref FROM relations
                  WHERE source_ref = ANY(CAST(:refs AS text[]))) AS distinct_relations
            GROUP BY source_ref
        ) AS grouped ON grouped.source_ref = entities.ref
        WHERE entities.ref = ANY(CAST(:refs AS text[]))
        ON CONFLICT (entity_id) DO UPDATE SET relations = EXCLUDED.relations
    """,
}


def ends_of_relations_from(session: Session, entity_ids: Sequence[int]) -> set[str]:
    """Refs at either end of the relations these entities produced (read before removing them)."""
    affected: set[str] = set()
    for start in range(0, len(entity_ids), CHUNK):
        chunk = list(entity_ids[start : start + CHUNK])
        for source, target in session.execute(
            select(EntityRelation.source_ref, EntityRelation.target_ref).where(
                EntityRelation.originating_entity_id.in_(chunk)
            )
        ):
            affected.add(source)
            affected.add(target)
    return affected


def restitch(session: Session, refs: Iterable[str], chunk_size: int = 5000) -> None:
    """Recompute the stored relations of every existing entity among ``refs``."""
    ordered = sorted(set(refs))
    statement = text(_AGGREGATE["postgresql" if is_postgres(session) else "sqlite"])
    for start in range(0, len(ordered), chunk_size):
        chunk = ordered[start : start + chunk_size]
        refs_param: object = chunk if is_postgres(session) else json.dumps(chunk)
        session.execute(statement, {"refs": refs_param})
