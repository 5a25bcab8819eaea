"""What the definition tests share: settings without a database, and step types as a plugin
would contribute them (the parser is tested against the hook's interface, not our built-ins)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pavedroad.config import Settings
from pavedroad.pipelines.definition import load_pipeline
from pavedroad.pipelines.hooks import StepContext, StepOutcome, StepType
from pavedroad.pipelines.schemas import Pipeline, PipelineProblem, Step


class PluginStepType:
    """A step type as any plugin writes one: a name, a ``with`` schema, a command."""

    def __init__(self, name: str, with_schema: Mapping[str, Any] | None = None) -> None:
        self._name = name
        self._schema = with_schema or {"type": "object"}

    @property
    def name(self) -> str:
        return self._name

    @property
    def description(self) -> str:
        return f"the {self._name} step"

    @property
    def with_schema(self) -> Mapping[str, Any]:
        return self._schema

    def command(self, step: Step) -> str | None:
        return str(step.with_.get("command", f"echo {self._name}"))

    def execute(self, context: StepContext) -> StepOutcome:
        return StepOutcome(succeeded=True)


STEP_TYPES: dict[str, StepType] = {
    name: PluginStepType(name)
    for name in (
        "tests",
        "build",
        "sbom",
        "sast",
        "secrets-scan",
        "vuln-scan",
        "dast",
        "security-gate",
    )
}
STEP_TYPES["deploy"] = PluginStepType(
    "deploy",
    {
        "type": "object",
        "required": ["environment"],
        "additionalProperties": False,
        "properties": {"environment": {"enum": ["dev", "staging", "production"]}},
    },
)


def plain_settings(tmp_path: Path, **pipelines: Any) -> Settings:
    return Settings(data_dir=tmp_path, pipelines=pipelines)


def load(
    text: str | None,
    tmp_path: Path,
    step_types: Mapping[str, StepType] = STEP_TYPES,
    **pipelines: Any,
) -> tuple[Pipeline | None, list[PipelineProblem]]:
    return load_pipeline(
        text, settings=plain_settings(tmp_path, **pipelines), step_types=step_types
    )


def loaded(text: str | None, tmp_path: Path, **pipelines: Any) -> Pipeline:
    """The pipeline of a file that must have no problems."""
    pipeline, problems = load(text, tmp_path, **pipelines)
    assert problems == [], "\n".join(str(p) for p in problems)
    assert pipeline is not None
    return pipeline


def only_problem(text: str | None, tmp_path: Path, **pipelines: Any) -> PipelineProblem:
    pipeline, problems = load(text, tmp_path, **pipelines)
    assert pipeline is None
    assert len(problems) == 1, "\n".join(str(p) for p in problems)
    return problems[0]
