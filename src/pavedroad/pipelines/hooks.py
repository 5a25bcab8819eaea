"""The pipelines' extension points: step types (``uses: sbom``), executors (where steps run)
and secrets providers (what ``secrets:`` references resolve to). Built-ins use them too."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from pavedroad.config import Settings
from pavedroad.core.plugins import hookspec
from pavedroad.pipelines.schemas import Step


@dataclass(slots=True)
class StepContext:
    """What a step gets: its workspace (a clone at the run's commit), environment, and where
    its output goes. ``log`` writes (already masked, capped) output lines; ``is_cancelled``
    says the run was cancelled or timed out."""

    run_id: str
    step: Step
    workspace: Path
    env: dict[str, str]
    repository: str
    commit: str
    branch: str
    component_ref: str | None
    log: Callable[[str], None]
    runtime: Any  # pavedroad.runtime.Runtime
    is_cancelled: Callable[[], bool] = field(default=lambda: False)


@dataclass(frozen=True, slots=True)
class StepOutcome:
    succeeded: bool
    exit_code: int | None = None
    skipped: bool = False  # nothing to do here (a step type not available): not a failure
    summary: str = ""  # one line for the run page ("12 passed, 1 failed")
    details: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class StepType(Protocol):
    """A built-in step (``uses: tests``): what it does, given its ``with`` settings."""

    @property
    def name(self) -> str: ...

    @property
    def description(self) -> str: ...

    @property
    def with_schema(self) -> Mapping[str, Any]:
        """JSON Schema of the step's ``with`` mapping, checked when the file is validated."""
        ...

    def command(self, step: Step) -> str | None:
        """A shell command the executor runs for this step, or None to call :meth:`execute`."""
        ...

    def execute(self, context: StepContext) -> StepOutcome: ...


@runtime_checkable
class Executor(Protocol):
    """Runs one shell step: a process (group) in the workspace, killed at the timeout."""

    @property
    def name(self) -> str: ...

    def run(self, context: StepContext, command: str, *, timeout_seconds: int) -> StepOutcome: ...


@runtime_checkable
class SecretsProvider(Protocol):
    """Resolves a secret reference (``secrets: {TOKEN: pypi-token}``) for a run, or None."""

    @property
    def name(self) -> str: ...

    def resolve(self, reference: str, *, component_ref: str | None) -> str | None: ...


@hookspec
def pavedroad_pipeline_step_types(settings: Settings) -> Sequence[StepType]:  # type: ignore[empty-body]
    """Step types this plugin contributes."""


@hookspec
def pavedroad_pipeline_executors(settings: Settings) -> Sequence[Executor]:  # type: ignore[empty-body]
    """Executors this plugin contributes (settings.pipelines.executor names the one used)."""


@hookspec
def pavedroad_pipeline_secrets(settings: Settings) -> Sequence[SecretsProvider]:  # type: ignore[empty-body]
    """Secrets providers, consulted in order."""
