"""The artifact store: reports and declared artifacts a step leaves, copied out of the
workspace into ``resolved_artifacts_dir / run id / step id`` (with a row each), test results and
coverage read from them, and everything older than ``artifact_retention_days`` removed."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from pavedroad.config import Settings
from pavedroad.pipelines import reports
from pavedroad.pipelines.models import PipelineArtifact
from pavedroad.pipelines.schemas import Reports


@dataclass(slots=True)
class Collected:
    """What collecting a step's files found: details for the step row, notes for its log."""

    details: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    artifacts: list[PipelineArtifact] = field(default_factory=list)


def _matches(workspace: Path, pattern: str) -> list[Path]:
    """Files under ``workspace`` that ``pattern`` names; nothing outside it, whatever the
    pattern says (``..``, absolute paths, symbolic links out)."""
    if not pattern or Path(pattern).is_absolute() or ".." in Path(pattern).parts:
        return []
    root = workspace.resolve()
    found = []
    for path in sorted(workspace.glob(pattern)):
        resolved = path.resolve()
        if path.is_file() and resolved.is_relative_to(root):
            found.append(path)
    return found


def collect(
    settings: Settings,
    *,
    run_id: str,
    step_id: str,
    step_pk: int,
    workspace: Path,
    wanted: Reports,
    artifact_patterns: tuple[str, ...],
) -> Collected:
    """Copy the step's reports and artifacts into the store and read its JUnit and Cobertura
    files. A pattern that matches nothing, or a report that does not parse, is a note."""
    collected = Collected()
    store = settings.resolved_artifacts_dir / run_id / step_id
    now = datetime.now(UTC)
    kinds: list[tuple[str, tuple[str, ...]]] = [
        ("junit", wanted.junit),
        ("coverage", wanted.coverage),
        ("sarif", wanted.sarif),
        ("cyclonedx", wanted.cyclonedx),
        ("file", artifact_patterns),
    ]
    tests: list[dict[str, Any]] = []
    coverage: list[dict[str, Any]] = []
    for kind, patterns in kinds:
        for pattern in patterns:
            files = _matches(workspace, pattern)
            if not files:
                what = "artifact" if kind == "file" else f"{kind} report"
                collected.notes.append(f"no {what} found at {pattern}")
            for path in files:
                relative = path.relative_to(workspace).as_posix()
                target = store / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)
                collected.artifacts.append(
                    PipelineArtifact(
                        step_id=step_pk,
                        kind=kind,
                        path=relative,
                        stored=target.relative_to(settings.resolved_artifacts_dir).as_posix(),
                        size=target.stat().st_size,
                        created_at=now,
                    )
                )
                try:
                    if kind == "junit":
                        tests.append(reports.parse_junit(target))
                    elif kind == "coverage":
                        coverage.append(reports.parse_cobertura(target))
                except reports.ReportError as error:
                    collected.notes.append(f"{kind} report {relative} was not read: {error}")
    if tests:
        collected.details["tests"] = reports.merge_tests(tests)
    if coverage:
        collected.details["coverage"] = reports.merge_coverage(coverage)
    return collected


def prune_expired(session: Session, settings: Settings, *, now: datetime | None = None) -> int:
    """Remove artifacts older than the retention period: their files and their rows."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=settings.pipelines.artifact_retention_days)
    store = settings.resolved_artifacts_dir
    expired = session.execute(
        select(PipelineArtifact.id, PipelineArtifact.stored).where(
            PipelineArtifact.created_at < cutoff
        )
    ).all()
    folders: set[Path] = set()
    for _, stored in expired:
        path = store / stored
        path.unlink(missing_ok=True)
        folders.update(parent for parent in path.parents if parent.is_relative_to(store))
    for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
        if folder != store and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    ids = [artifact_id for artifact_id, _ in expired]
    for start in range(0, len(ids), 500):
        session.execute(
            delete(PipelineArtifact).where(PipelineArtifact.id.in_(ids[start : start + 500]))
        )
    return len(ids)


def artifacts_of_step(session: Session, step_pk: int) -> list[PipelineArtifact]:
    return list(
        session.scalars(
            select(PipelineArtifact)
            .where(PipelineArtifact.step_id == step_pk)
            .order_by(PipelineArtifact.id)
        )
    )
