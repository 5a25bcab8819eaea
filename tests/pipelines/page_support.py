"""Pipeline runs written straight into the database, as the engine leaves them, for tests of the
pages (and the browser tests and screenshots): a run, its steps with results, log and
artifacts."""

from __future__ import annotations

import hashlib
import itertools
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from pavedroad.pipelines.models import PipelineArtifact, PipelineLogChunk, PipelineRun, PipelineStep

_numbers = itertools.count(1)
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

TESTS_FAILED = {
    "passed": 41,
    "failed": 1,
    "skipped": 2,
    "errors": 0,
    "total": 44,
    "failures": [
        {
            "name": "test_refund_is_rounded",
            "classname": "tests.test_refunds",
            "message": "AssertionError: 10.01 != 10.0",
            "text": "Traceback (most recent call last):\n  ...\nAssertionError: 10.01 != 10.0",
        }
    ],
}
COVERAGE = {"line_rate": 0.873, "lines_covered": 873, "lines_valid": 1000, "branch_rate": 0.7}


@dataclass
class StepSpec:
    stage: str
    name: str
    status: str = "succeeded"
    seconds: float | None = 2.0
    log: list[str] = field(default_factory=list)
    summary: str = ""
    exit_code: int | None = None
    details: dict[str, Any] = field(default_factory=dict)
    artifacts: list[tuple[str, str, int]] = field(default_factory=list)  # kind, path, size


def add_run(
    session: Session,
    component_ref: str | None,
    *,
    status: str = "succeeded",
    branch: str = "main",
    steps: list[StepSpec] | None = None,
    seconds: float | None = 60.0,
    started: datetime | None = None,
    repository: str | None = None,
    problems: list[dict[str, Any]] | None = None,
    trigger: str = "push",
    number: int | None = None,
) -> PipelineRun:
    """A run as the engine leaves it (``seconds`` None: still going); flushed, not committed."""
    number = number or next(_numbers)
    start = started or T0 + timedelta(minutes=number)
    name = (component_ref or "x/unknown").rsplit("/", 1)[-1]
    run = PipelineRun(
        id=str(uuid.uuid4()),
        number=number,
        repository=repository or f"file:///srv/git/{name}.git",
        component_ref=component_ref,
        commit=hashlib.sha1(f"{name}-{number}-{start}".encode()).hexdigest(),
        branch=branch,
        trigger=trigger,
        triggered_by="user:default/ada",
        status=status,
        definition=None,
        problems=problems or [],
        changed_paths=None,
        attempt=1,
        cancel_requested=False,
        created_at=start - timedelta(seconds=1),
        started_at=None if status in ("queued", "rejected") else start,
        finished_at=(
            start + timedelta(seconds=seconds)
            if seconds is not None and status not in ("queued", "running")
            else None
        ),
        error=None,
    )
    session.add(run)
    session.flush()
    moment = start
    for position, spec in enumerate(steps or []):
        step = PipelineStep(
            run_id=run.id,
            step_id=f"{spec.stage}.{spec.name}",
            stage=spec.stage,
            name=spec.name,
            position=position,
            status=spec.status,
            attempt=1,
            exit_code=spec.exit_code,
            summary=spec.summary,
            details=spec.details,
            started_at=None if spec.status in ("pending", "skipped") else moment,
            finished_at=(
                moment + timedelta(seconds=spec.seconds)
                if spec.seconds is not None and spec.status not in ("pending", "running")
                else None
            ),
            log_bytes=sum(len(line) for line in spec.log),
        )
        session.add(step)
        session.flush()
        for line in spec.log:
            add_log(session, step.id, line)
        for kind, path, size in spec.artifacts:
            session.add(
                PipelineArtifact(
                    step_id=step.id,
                    kind=kind,
                    path=path,
                    stored=f"{run.id}/{path}",
                    size=size,
                    created_at=moment,
                )
            )
        moment += timedelta(seconds=spec.seconds or 0)
    session.flush()
    return run


def add_log(session: Session, step_pk: int, text: str) -> int:
    chunk = PipelineLogChunk(step_id=step_pk, at=datetime.now(UTC), text=text)
    session.add(chunk)
    session.flush()
    return chunk.id


def failing_steps() -> list[StepSpec]:
    """A Python service's pipeline whose unit tests fail."""
    return [
        StepSpec("build", "install", log=["pip install -e .\n", "Successfully installed\n"]),
        StepSpec(
            "test",
            "unit",
            status="failed",
            seconds=31.4,
            exit_code=1,
            summary="1 of 44 tests failed",
            log=["pytest -q\n", "F" + "." * 40 + "ss\n", "FAILED tests/test_refunds.py\n"],
            details={"tests": TESTS_FAILED, "coverage": COVERAGE},
            artifacts=[("junit", "reports/junit.xml", 2048), ("coverage", "coverage.xml", 4096)],
        ),
        StepSpec("test", "lint", log=["ruff check .\n", "All checks passed!\n"]),
        StepSpec("deploy", "staging", status="skipped", seconds=None, summary="needs test.unit"),
    ]
