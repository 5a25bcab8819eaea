"""A pipeline as it runs: the repository's file merged with the golden pipeline, every value
resolved. The parser builds these; the queue stores them as JSON; the executor runs them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Reports:
    """Report files a step writes, collected by path after it runs (globs allowed)."""

    junit: tuple[str, ...] = ()
    coverage: tuple[str, ...] = ()  # Cobertura XML
    sarif: tuple[str, ...] = ()
    cyclonedx: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Step:
    """One unit of work: a shell command (``run``) or a step type (``uses``) with ``with``."""

    id: str  # unique in the pipeline: "<stage>.<name>"
    stage: str
    name: str
    run: str | None = None
    uses: str | None = None
    with_: dict[str, Any] = field(default_factory=dict)
    needs: tuple[str, ...] = ()  # step ids that must succeed first
    condition: str | None = None  # the `if` expression, checked when the step is due
    timeout_seconds: int = 600
    retries: int = 0
    env: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)  # env name -> secret reference
    reports: Reports = field(default_factory=Reports)
    artifacts: tuple[str, ...] = ()
    line: int | None = None  # where it is written, for messages


@dataclass(frozen=True, slots=True)
class Stage:
    name: str
    steps: tuple[Step, ...]
    mandatory: bool = False
    parallel: bool = False


@dataclass(frozen=True, slots=True)
class Pipeline:
    stages: tuple[Stage, ...]
    env: dict[str, str] = field(default_factory=dict)
    extends: str | None = None
    source: str = ".pavedroad/pipeline.yaml"  # or "golden" when the repository has no file

    @property
    def steps(self) -> tuple[Step, ...]:
        return tuple(step for stage in self.stages for step in stage.steps)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Pipeline:
        stages = []
        for stage in data["stages"]:
            steps = []
            for step in stage["steps"]:
                reports = Reports(**{k: tuple(v) for k, v in step["reports"].items()})
                steps.append(
                    Step(
                        **{
                            **step,
                            "needs": tuple(step["needs"]),
                            "artifacts": tuple(step["artifacts"]),
                            "reports": reports,
                        }
                    )
                )
            stages.append(Stage(stage["name"], tuple(steps), stage["mandatory"], stage["parallel"]))
        return cls(tuple(stages), data["env"], data["extends"], data["source"])


@dataclass(frozen=True, slots=True)
class PipelineProblem:
    """What is wrong with a pipeline file, where, and how to fix it."""

    message: str
    file: str = ".pavedroad/pipeline.yaml"
    line: int | None = None
    column: int | None = None
    path: str = ""  # stages[1].steps[0].timeout
    hint: str = ""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column or 1}" if self.line else self.file
        field_path = f" {self.path}:" if self.path else ""
        hint = f" — {self.hint}" if self.hint else ""
        return f"{where}:{field_path} {self.message}{hint}"
