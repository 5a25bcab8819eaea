"""Storing the problems found while ingesting a location or provider, for the error pages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import insert
from sqlalchemy.orm import Session

from pavedroad.catalog.models import IngestionError
from pavedroad.catalog.reading import FileProblem

if TYPE_CHECKING:  # ingestion imports this module to store its errors
    from pavedroad.catalog.ingestion import Owner


def store_errors(
    session: Session, owner: Owner, problems: Sequence[FileProblem], now: datetime
) -> None:
    rows = [
        {
            "location_id": owner.location_id,
            "provider": owner.provider,
            "file": p.file,
            "document_index": p.document_index,
            "line": p.line,
            "column": p.column,
            "entity_ref": p.entity_ref,
            "field": p.field,
            "category": p.category,
            "message": p.message,
            "hint": p.hint,
            "stage": p.stage,
            "created_at": now,
        }
        for p in problems
    ]
    if rows:
        session.execute(insert(IngestionError), rows)
