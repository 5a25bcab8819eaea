"""Reading the audit log: filtered, newest first, a page at a time or every row for an export.

Pages are cut by id, not by offset: a cursor says "older than event 812" (or "newer than"), so
events recorded while someone pages through stay off the pages they already saw, and none is
skipped or shown twice.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from pavedroad.audit.filters import AuditFilter, FilterError
from pavedroad.audit.models import AuditEvent

EXPORT_BATCH = 1000


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a page starts: the events older (or newer) than the event ``id``."""

    id: int
    newer: bool = False

    def encode(self) -> str:
        text = f"{'n' if self.newer else 'o'}{self.id}"
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str) -> Cursor:
        try:
            text = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError):
            text = ""
        if len(text) < 2 or text[0] not in "on" or not text[1:].isdigit():
            raise FilterError("cursor", "it is not a cursor this server handed out")
        return cls(int(text[1:]), newer=text[0] == "n")


@dataclass(frozen=True, slots=True)
class AuditPage:
    """One page of events, newest first, with the cursors of the pages beside it."""

    events: list[AuditEvent]
    older: Cursor | None
    newer: Cursor | None


def filtered(query: AuditFilter) -> Select[AuditEvent]:
    """The events ``query`` matches, unordered."""
    statement = select(AuditEvent)
    column_filters = (
        (AuditEvent.actor, query.actor),
        (AuditEvent.event, query.action),
        (AuditEvent.target, query.resource),
        (AuditEvent.resource_type, query.resource_type),
        (AuditEvent.result, query.result),
    )
    for column, value in column_filters:
        if value is not None:
            statement = statement.where(column == value)
    if query.action_prefix is not None:
        prefix = AuditEvent.event.startswith(query.action_prefix, autoescape=True)
        statement = statement.where(prefix)
    if query.since is not None:
        statement = statement.where(AuditEvent.at >= query.since)
    if query.until is not None:
        statement = statement.where(AuditEvent.at < query.until)
    for path, expected in query.details:
        # JSON element access: ->> on PostgreSQL, JSON_EXTRACT on SQLite, both compared as text.
        element = AuditEvent.details[path[0] if len(path) == 1 else path]
        statement = statement.where(element.as_string() == expected)
    return statement


def search_events(
    session: Session, query: AuditFilter, *, limit: int, cursor: Cursor | None = None
) -> AuditPage:
    """One page of at most ``limit`` events matching ``query``, newest first."""
    statement = filtered(query)
    if cursor is not None and cursor.newer:
        statement = statement.where(AuditEvent.id > cursor.id).order_by(AuditEvent.id.asc())
    else:
        if cursor is not None:
            statement = statement.where(AuditEvent.id < cursor.id)
        statement = statement.order_by(AuditEvent.id.desc())
    found = list(session.scalars(statement.limit(limit + 1)))
    more, events = len(found) > limit, found[:limit]
    if cursor is not None and cursor.newer:
        events.reverse()
        return AuditPage(events, _older(events, cursor), _newer(events) if more else None)
    newer = _newer(events, cursor) if cursor is not None else None
    return AuditPage(events, _older(events) if more else None, newer)


def _older(events: list[AuditEvent], came_from: Cursor | None = None) -> Cursor | None:
    if events:
        return Cursor(events[-1].id)
    return Cursor(came_from.id + 1) if came_from is not None else None


def _newer(events: list[AuditEvent], came_from: Cursor | None = None) -> Cursor | None:
    if events:
        return Cursor(events[0].id, newer=True)
    return Cursor(came_from.id - 1, newer=True) if came_from is not None else None


def iter_events(
    session: Session, query: AuditFilter, *, batch: int = EXPORT_BATCH
) -> Iterator[AuditEvent]:
    """Every event ``query`` matches, newest first, read ``batch`` rows at a time."""
    statement = filtered(query).order_by(AuditEvent.id.desc()).limit(batch)
    before: int | None = None
    while True:
        page = statement if before is None else statement.where(AuditEvent.id < before)
        events = list(session.scalars(page))
        yield from events
        if len(events) < batch:
            return
        before = events[-1].id
        session.expunge_all()  # an export of millions of rows holds one batch at a time
