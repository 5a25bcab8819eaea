"""The built-in step types: ``tests`` and ``build``, and the places the security and
deployment capabilities fill (``sbom``, ``sast``, ``secrets-scan``, ``vuln-scan``, ``dast``,
``deploy``). A placeholder says plainly that nothing was scanned or deployed.

A step type may also say which reports and artifacts it leaves (``reports(step)``,
``artifacts(step)``); the engine collects those as it collects a step's own ``reports:``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pavedroad.config import Settings
from pavedroad.core.plugins import hookimpl
from pavedroad.pipelines.hooks import StepContext, StepOutcome, StepType
from pavedroad.pipelines.schemas import Reports, Step

# Step types another capability provides, until it does; the security capability's (sbom,
# sast, secrets-scan, vuln-scan, dast, security-gate) are in pavedroad.security, and the
# deployments' (deploy) in pavedroad.deploy.step.
PLACEHOLDERS: dict[str, str] = {}


def string_list(value: Any) -> tuple[str, ...]:
    """A ``with`` setting that may be one string or a list of them, as a tuple."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple):
        return tuple(str(item) for item in value)
    return ()


@dataclass(frozen=True, slots=True)
class TestsStep:
    """Runs the repository's tests (``make test``) and collects its JUnit and Cobertura files."""

    name: str = "tests"
    description: str = "Run the tests; collect JUnit results and Cobertura coverage."

    @property
    def with_schema(self) -> Mapping[str, Any]:
        return {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "command": {"type": "string", "default": "make test"},
                "junit": {"type": "string", "default": "reports/junit.xml"},
                "coverage": {"type": "string", "default": "reports/coverage.xml"},
            },
        }

    def command(self, step: Step) -> str | None:
        return str(step.with_.get("command") or "make test")

    def reports(self, step: Step) -> Reports:
        return Reports(
            junit=(str(step.with_.get("junit") or "reports/junit.xml"),),
            coverage=(str(step.with_.get("coverage") or "reports/coverage.xml"),),
        )

    def artifacts(self, step: Step) -> tuple[str, ...]:
        return ()

    def execute(self, context: StepContext) -> StepOutcome:  # pragma: no cover - has a command
        raise NotImplementedError("the tests step runs its command")


@dataclass(frozen=True, slots=True)
class BuildStep:
    """Builds the repository (``make build``) and keeps the files it names as artifacts."""

    name: str = "build"
    description: str = "Build; keep the listed files as the run's artifacts."

    @property
    def with_schema(self) -> Mapping[str, Any]:
        return {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "command": {"type": "string", "default": "make build"},
                "artifacts": {"type": "array", "items": {"type": "string"}, "default": []},
            },
        }

    def command(self, step: Step) -> str | None:
        return str(step.with_.get("command") or "make build")

    def reports(self, step: Step) -> Reports:
        return Reports()

    def artifacts(self, step: Step) -> tuple[str, ...]:
        return string_list(step.with_.get("artifacts"))

    def execute(self, context: StepContext) -> StepOutcome:  # pragma: no cover - has a command
        raise NotImplementedError("the build step runs its command")


@dataclass(frozen=True, slots=True)
class PlaceholderStep:
    """A step type another capability provides; until it is installed, the step is skipped
    and says so (it never claims that a scan or a deployment happened)."""

    name: str
    capability: str

    @property
    def description(self) -> str:
        return f"Provided by the {self.capability} capability; skipped until it is installed."

    @property
    def with_schema(self) -> Mapping[str, Any]:
        return {"type": "object"}

    def command(self, step: Step) -> str | None:
        return None

    def execute(self, context: StepContext) -> StepOutcome:
        summary = f"{self.name} is not available yet: the {self.capability} capability provides it"
        context.log(summary)
        return StepOutcome(succeeded=True, skipped=True, summary=summary)


def step_reports(step: Step, step_type: StepType | None) -> Reports:
    """The reports to collect after ``step``: its own and its step type's."""
    extra = getattr(step_type, "reports", None)
    if extra is None:
        return step.reports
    more: Reports = extra(step)
    return Reports(
        junit=(*step.reports.junit, *more.junit),
        coverage=(*step.reports.coverage, *more.coverage),
        sarif=(*step.reports.sarif, *more.sarif),
        cyclonedx=(*step.reports.cyclonedx, *more.cyclonedx),
    )


def step_artifacts(step: Step, step_type: StepType | None) -> tuple[str, ...]:
    """The artifact paths of ``step``: its own and its step type's."""
    extra = getattr(step_type, "artifacts", None)
    return (*step.artifacts, *(extra(step) if extra is not None else ()))


def merge_step_types(groups: Iterable[Sequence[StepType]]) -> dict[str, StepType]:
    """Step types by name from the hook's answers (in registration order): the first real
    implementation of a name wins, and takes the place of a built-in placeholder."""
    found: dict[str, StepType] = {}
    for group in groups:
        for step_type in group:
            known = found.get(step_type.name)
            if known is None or isinstance(known, PlaceholderStep):
                found[step_type.name] = step_type
    return found


class BuiltinStepTypes:
    """Registers the built-in step types through the same hook as plugins."""

    @hookimpl
    def pavedroad_pipeline_step_types(self, settings: Settings) -> Sequence[StepType]:
        placeholders = [PlaceholderStep(name, owner) for name, owner in PLACEHOLDERS.items()]
        return [TestsStep(), BuildStep(), *placeholders]
