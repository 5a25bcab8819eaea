"""A pipeline file as written, checked field by field: stages and steps with where each is.

The golden pipeline and a repository's file are read into these the same way; merging and
resolution (``merging.py``, ``resolution.py``) work on them before a :class:`Pipeline` is built.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pavedroad.catalog.descriptors import Positions
from pavedroad.pipelines.schemas import PipelineProblem

Path = tuple[str | int, ...]


def path_text(path: Path) -> str:
    """``("stages", 1, "steps", 0, "timeout")`` -> ``stages[1].steps[0].timeout``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


@dataclass(slots=True)
class Located:
    """One file's text and positions, making problems that name the line of a field."""

    file: str
    positions: Positions | None
    problems: list[PipelineProblem] = field(default_factory=list)

    def problem(self, path: Path, message: str, hint: str = "") -> None:
        position = self.positions.locate(0, path) if self.positions is not None else None
        self.problems.append(
            PipelineProblem(
                message,
                file=self.file,
                line=position[0] if position else None,
                column=position[1] if position else None,
                path=path_text(path),
                hint=hint,
            )
        )


@dataclass(slots=True)
class StepSpec:
    name: str
    path: Path
    source: Located
    given: frozenset[str]  # the keys written, so a mandatory stage's step can override some
    run: str | None = None
    uses: str | None = None
    with_: dict[str, Any] = field(default_factory=dict)
    needs: list[tuple[str, Path]] = field(default_factory=list)
    condition: str | None = None
    timeout_seconds: int | None = None
    retries: int = 0
    env: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    reports: dict[str, tuple[str, ...]] = field(default_factory=dict)
    artifacts: tuple[str, ...] = ()
    line: int | None = None


@dataclass(slots=True)
class StageSpec:
    name: str
    path: Path
    source: Located
    given: frozenset[str]
    steps: list[StepSpec] = field(default_factory=list)
    parallel: bool = False
    condition: str | None = None
    skip: bool = False
    mandatory: bool = False


@dataclass(slots=True)
class FileSpec:
    source: Located
    stages: list[StageSpec]
    env: dict[str, str] = field(default_factory=dict)
    extends: str | None = None
