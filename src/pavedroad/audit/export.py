"""Exports: every event a filter matches, as JSON Lines or CSV, for a SIEM or a spreadsheet.

Rows are written as they are read, a batch at a time, so an export of the whole log needs no
more memory than one batch. Taking an export is itself recorded (``audit.exported``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from enum import StrEnum

import orjson
from sqlalchemy.orm import Session

from pavedroad.audit import service
from pavedroad.audit.filters import FilterError, FilterInput
from pavedroad.audit.models import AuditEvent
from pavedroad.audit.schemas import FIELDS, event_json
from pavedroad.core.actors import Actor

CHUNK_CHARACTERS = 64 * 1024  # fewer, larger writes: each one is a hop to the event loop


class ExportFormat(StrEnum):
    jsonl = "jsonl"
    csv = "csv"

    @property
    def media_type(self) -> str:
        return "application/x-ndjson" if self is ExportFormat.jsonl else "text/csv; charset=utf-8"


def export_format(value: str) -> ExportFormat:
    try:
        return ExportFormat(value)
    except ValueError:
        raise FilterError(
            "format", f'"{value}" is not one of {", ".join(f.value for f in ExportFormat)}'
        ) from None


def export_filename(fmt: ExportFormat, now: datetime | None = None) -> str:
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return f"audit-events-{moment:%Y%m%dT%H%M%SZ}.{fmt.value}"


def record_export(session: Session, *, actor: Actor, fmt: ExportFormat, raw: FilterInput) -> None:
    """Write down who took an export of what, before the first row leaves."""
    service.record(
        session,
        actor=actor,
        event="audit.exported",
        target="audit-log",
        resource_type="audit-log",
        details={"format": fmt.value, "filters": raw.as_details()},
    )


def export_text(events: Iterable[AuditEvent], fmt: ExportFormat) -> Iterator[str]:
    """The export's text in chunks of about :data:`CHUNK_CHARACTERS`; CSV starts with its
    header row and holds the metadata as a JSON column."""
    lines = _jsonl_lines(events) if fmt is ExportFormat.jsonl else _csv_lines(events)
    buffer: list[str] = []
    size = 0
    for line in lines:
        buffer.append(line)
        size += len(line)
        if size >= CHUNK_CHARACTERS:
            yield "".join(buffer)
            buffer, size = [], 0
    if buffer:
        yield "".join(buffer)


def _jsonl_lines(events: Iterable[AuditEvent]) -> Iterator[str]:
    for event in events:
        yield orjson.dumps(event_json(event)).decode() + "\n"


def _csv_lines(events: Iterable[AuditEvent]) -> Iterator[str]:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(FIELDS)
    for event in events:
        row = event_json(event)
        row["metadata"] = orjson.dumps(row["metadata"], option=orjson.OPT_SORT_KEYS).decode()
        writer.writerow(["" if row[field] is None else row[field] for field in FIELDS])
        yield out.getvalue()
        out.seek(0)
        out.truncate()
    if out.tell():
        yield out.getvalue()
