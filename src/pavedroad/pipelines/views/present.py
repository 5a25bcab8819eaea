"""How runs read on pages: durations, status colours, stages with their steps, test results
and coverage gathered from the steps, and the failing step people look at first."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pavedroad.pipelines.models import PipelineArtifact, PipelineLogChunk, PipelineRun, PipelineStep
from pavedroad.pipelines.queries import LIVE, RunDetail

BADGE_CLASSES = {
    "succeeded": "badge-success",
    "failed": "badge-danger",
    "rejected": "badge-danger",
    "cancelled": "badge-warning",
    "running": "badge-accent",
    "queued": "",
    "pending": "",
    "skipped": "",
}
STATUSES = ("queued", "running", "succeeded", "failed", "cancelled", "rejected")


def aware(moment: datetime | None) -> datetime | None:
    """SQLite hands timestamps back without their zone; they were written in UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def seconds(started: datetime | None, finished: datetime | None, *, live: bool = False) -> float:
    """Seconds from start to finish; while still going (``live``), to now; 0 if not started."""
    start = aware(started)
    end = aware(finished) or (datetime.now(UTC) if live else None)
    if start is None or end is None:
        return 0.0
    return max(0.0, (end - start).total_seconds())


def human_duration(value: float) -> str:
    """``4.2 s``, ``3 min 12 s``, ``1 h 4 min``."""
    if value < 60:
        return f"{value:.1f} s"
    whole = round(value)
    if whole < 3600:
        return f"{whole // 60} min {whole % 60} s"
    return f"{whole // 3600} h {whole % 3600 // 60} min"


def run_duration(run: PipelineRun) -> str:
    if run.started_at is None:
        return ""
    return human_duration(seconds(run.started_at, run.finished_at, live=run.status in LIVE))


def step_duration(step: PipelineStep) -> str:
    if step.started_at is None:
        return ""
    return human_duration(seconds(step.started_at, step.finished_at, live=step.status == "running"))


@dataclass(slots=True)
class StepView:
    step: PipelineStep
    chunks: list[PipelineLogChunk]
    artifacts: list[PipelineArtifact]

    @property
    def duration(self) -> str:
        return step_duration(self.step)

    @property
    def tests(self) -> dict[str, Any] | None:
        found = self.step.details.get("tests") if isinstance(self.step.details, dict) else None
        return found if isinstance(found, dict) else None

    @property
    def coverage(self) -> dict[str, Any] | None:
        found = self.step.details.get("coverage") if isinstance(self.step.details, dict) else None
        return found if isinstance(found, dict) else None


@dataclass(slots=True)
class TestSummary:
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    errors: int = 0
    total: int = 0
    failures: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (step, failure)


@dataclass(slots=True)
class RunView:
    """A run as its page shows it."""

    run: PipelineRun
    steps: list[StepView]
    last_chunk: int

    @property
    def live(self) -> bool:
        return self.run.status in LIVE

    @property
    def duration(self) -> str:
        return run_duration(self.run)

    @property
    def stages(self) -> list[tuple[str, list[StepView]]]:
        """Stages in pipeline order, each with its steps."""
        grouped: dict[str, list[StepView]] = {}
        for view in self.steps:
            grouped.setdefault(view.step.stage, []).append(view)
        return list(grouped.items())

    @property
    def failing(self) -> StepView | None:
        return next((view for view in self.steps if view.step.status == "failed"), None)

    @property
    def logs_in_order(self) -> list[StepView]:
        """The failing step's log first, then the others in pipeline order."""
        failing = self.failing
        rest = [view for view in self.steps if view is not failing]
        return [failing, *rest] if failing is not None else rest

    @property
    def tests(self) -> TestSummary | None:
        found = [view for view in self.steps if view.tests is not None]
        if not found:
            return None
        summary = TestSummary()
        for view in found:
            tests = view.tests or {}
            summary.passed += int(tests.get("passed") or 0)
            summary.failed += int(tests.get("failed") or 0)
            summary.skipped += int(tests.get("skipped") or 0)
            summary.errors += int(tests.get("errors") or 0)
            summary.total += int(tests.get("total") or 0)
            for failure in tests.get("failures") or []:
                if isinstance(failure, dict):
                    summary.failures.append((view.step.name, failure))
        return summary

    @property
    def coverage(self) -> list[tuple[StepView, float]]:
        """(step, line rate) of every step that reported coverage."""
        rates = []
        for view in self.steps:
            coverage = view.coverage or {}
            rate = coverage.get("line_rate")
            if isinstance(rate, int | float):
                rates.append((view, float(rate)))
        return rates

    @property
    def artifacts(self) -> list[tuple[StepView, PipelineArtifact]]:
        return [(view, artifact) for view in self.steps for artifact in view.artifacts]


def run_view(detail: RunDetail) -> RunView:
    steps = [
        StepView(step, detail.logs.get(step.id, []), detail.artifacts.get(step.id, []))
        for step in detail.steps
    ]
    return RunView(detail.run, steps, detail.last_chunk)


def short_commit(commit: str) -> str:
    return commit[:10]
