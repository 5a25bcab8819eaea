"""Keeping the database's query planner informed after large changes to the catalog."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from pavedroad.core.db import is_postgres

REPLAN_AFTER = 10_000


def refresh_planner_statistics(session: Session) -> None:
    """After a large change, tell the database's query planner what the tables now hold, so
    that the next filter is planned for 100,000 entities and not for the empty catalog."""
    if is_postgres(session):
        session.execute(text("ANALYZE entities, entity_search, relations, stitched_relations"))
    else:
        session.connection().exec_driver_sql("PRAGMA analysis_limit=1000")
        session.connection().exec_driver_sql("PRAGMA optimize")
