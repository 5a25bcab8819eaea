"""Importing OSV records: incremental (a record is rewritten only when its ``modified`` time
moved on), idempotent, and one transaction — the caller commits, so an import that fails half
way leaves the advisories exactly as they were."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from pavedroad.audit import service as audit
from pavedroad.core.actors import Actor
from pavedroad.core.db import chunks
from pavedroad.security.advisories.models import Advisory, AdvisoryAlias, AdvisoryPackage
from pavedroad.security.advisories.records import AdvisoryRecord, RecordError, parse_record
from pavedroad.security.advisories.sources import UnreadableRecordError, read_records


@dataclass(slots=True)
class ImportReport:
    """What an import did, record by record counted, with every refusal and left-out entry."""

    read: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    withdrawn: int = 0
    refused: list[tuple[str, str]] = field(default_factory=list)  # (source, why)
    changed: list[str] = field(default_factory=list)  # ids added or updated
    notes: list[tuple[str, str]] = field(default_factory=list)  # (record id, what was left out)

    def as_dict(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "withdrawn": self.withdrawn,
            "refused": [{"source": s, "problem": p} for s, p in self.refused],
            "notes": [{"advisory": a, "note": n} for a, n in self.notes],
        }


def import_advisories(
    session: Session,
    path: Path,
    *,
    actor: Actor,
    on_record: Callable[[], None] | None = None,
) -> ImportReport:
    """Import every OSV record under ``path`` (zip, directory or file)."""
    report = ImportReport()
    stored = {
        row.id: _aware(row.modified)
        for row in session.execute(select(Advisory.id, Advisory.modified))
    }
    newest: dict[str, tuple[str, AdvisoryRecord]] = {}
    for source, document in read_records(path):
        report.read += 1
        if on_record is not None:
            on_record()
        record = _parsed(source, document, report)
        if record is None:
            continue
        seen = newest.get(record.id)
        if seen is None or seen[1].modified < record.modified:
            newest[record.id] = (source, record)
    changed = []
    for source, record in newest.values():
        report.notes.extend((record.id, note) for note in record.notes)
        report.withdrawn += record.withdrawn is not None
        before = stored.get(record.id)
        if before is not None and before >= record.modified:
            report.unchanged += 1
            continue
        report.updated += before is not None
        report.added += before is None
        changed.append((source, record))
    report.changed = [record.id for _, record in changed]
    _write(session, changed, replaced=[r.id for _, r in changed if r.id in stored])
    audit.record(
        session,
        actor=actor,
        event="security.advisories.imported",
        target=f"advisories:{path.name}",
        resource_type="advisories",
        details={k: v for k, v in report.as_dict().items() if k not in ("refused", "notes")}
        | {"refused": len(report.refused), "source": str(path)},
    )
    return report


def _parsed(source: str, document: Any, report: ImportReport) -> AdvisoryRecord | None:
    if isinstance(document, UnreadableRecordError):
        report.refused.append((source, str(document)))
        return None
    try:
        return parse_record(document)
    except RecordError as error:
        report.refused.append((source, str(error)))
        return None


def _write(
    session: Session, changed: list[tuple[str, AdvisoryRecord]], replaced: list[str]
) -> None:
    for ids in chunks(replaced, 500):
        session.execute(delete(AdvisoryAlias).where(AdvisoryAlias.advisory_id.in_(ids)))
        session.execute(delete(AdvisoryPackage).where(AdvisoryPackage.advisory_id.in_(ids)))
        session.execute(delete(Advisory).where(Advisory.id.in_(ids)))
    now = datetime.now(UTC)
    advisories: list[dict[str, Any]] = []
    packages: list[dict[str, Any]] = []
    aliases: list[dict[str, Any]] = []
    for source, record in changed:
        advisories.append(
            {
                "id": record.id,
                "modified": record.modified,
                "published": record.published,
                "withdrawn": record.withdrawn,
                "summary": record.summary,
                "details": record.details,
                "severity": record.severity,
                "score": record.score,
                "vector": record.vector,
                "source": source,
                "imported_at": now,
                "record": record.raw,
            }
        )
        for package in record.packages:
            packages.append(
                {
                    "advisory_id": record.id,
                    "ecosystem": package.ecosystem,
                    "name": package.name,
                    "purl": package.purl,
                    "ranges": package.ranges,
                    "versions": package.versions,
                }
            )
        aliases.extend(
            {"alias": alias, "advisory_id": record.id}
            for alias in dict.fromkeys(record.aliases)
            if alias != record.id
        )
    for table, rows in (
        (Advisory, advisories),
        (AdvisoryPackage, packages),
        (AdvisoryAlias, aliases),
    ):
        for batch in chunks(rows, 1000):
            session.execute(insert(table), batch)


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive times; every stored time is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
