"""The index behind the full-text filter: FTS5 trigrams on SQLite, pg_trgm on PostgreSQL.

The migration creates the objects (they differ per database, so they are not ORM models).

Both answer ``LIKE '%term%'`` from an index for terms of three characters or more, so the
filter does not scan 100,000 rows. SQLite keeps the text in a separate FTS5 table whose rowid
is the entity id; PostgreSQL indexes ``entities.search_text`` with a trigram GIN index.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from pavedroad.core.db import is_postgres

FTS_TABLE = "entity_fts"
TRGM_INDEX = "ix_entities_search_text_trgm"


def write(session: Session, rows: Sequence[tuple[int, str]]) -> None:
    """Index ``(entity id, text)`` rows; PostgreSQL indexes the column itself."""
    if rows and not is_postgres(session):
        raw = session.connection().connection.driver_connection
        cursor = raw.cursor()  # type: ignore[union-attr]
        try:
            cursor.executemany(f"INSERT INTO {FTS_TABLE} (rowid, text) VALUES (?, ?)", rows)
        finally:
            cursor.close()


def forget(session: Session, entity_ids: Sequence[int]) -> None:
    if entity_ids and not is_postgres(session):
        for start in range(0, len(entity_ids), 500):
            chunk = list(entity_ids[start : start + 500])
            marks = ", ".join("?" for _ in chunk)
            session.connection().exec_driver_sql(
                f"DELETE FROM {FTS_TABLE} WHERE rowid IN ({marks})", tuple(chunk)
            )
