"""What a run tells as it goes (:class:`RunEvents`) and what it ends with."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

STEP_STATUSES = ("processing", "completed", "failed", "skipped", "cancelled")


class RunEvents(Protocol):
    """Where a run writes its log and each step's status changes (the task's event table, the
    CLI, a dry run's page)."""

    def log(self, step_id: str | None, message: str) -> None: ...

    def step(self, step_id: str, name: str, status: str) -> None: ...  # processing, completed...


@dataclass
class StepResult:
    id: str
    name: str
    action: str
    status: str  # completed | failed | skipped | cancelled
    output: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


@dataclass
class RunResult:
    status: str  # completed | failed | cancelled
    steps: list[StepResult]
    output: dict[str, Any]  # spec.output rendered: {"links": [...], "text": [...], ...}
    error: str | None  # the failing step and what went wrong
    workspace: Path
