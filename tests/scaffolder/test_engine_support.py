"""What the engine and action tests share: templates written into a folder, runs collected.

No tests here; the other modules import from it (a ``test_`` name keeps it among the files
this part of the suite owns).
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from pavedroad.config import Settings
from pavedroad.core.actors import Actor
from pavedroad.runtime import Runtime, build_runtime
from pavedroad.scaffolder import engine
from pavedroad.scaffolder.hooks import TemplateUser

TESTER = Actor(ref="user:default/tester")
USER = TemplateUser("user:default/tester", {"kind": "User", "metadata": {"name": "tester"}})


@dataclass
class Events:
    """A run's events, kept for the test to read."""

    lines: list[tuple[str | None, str]] = field(default_factory=list)
    statuses: list[tuple[str, str]] = field(default_factory=list)

    def log(self, step_id: str | None, message: str) -> None:
        self.lines.append((step_id, message))

    def step(self, step_id: str, name: str, status: str) -> None:
        self.statuses.append((step_id, status))

    def text(self) -> str:
        return "\n".join(message for _, message in self.lines)


def template(
    steps: list[dict[str, Any]],
    *,
    parameters: Any = None,
    output: Mapping[str, Any] | None = None,
    name: str = "example",
) -> dict[str, Any]:
    spec: dict[str, Any] = {"type": "service", "owner": "team-a", "steps": steps}
    if parameters is not None:
        spec["parameters"] = parameters
    if output is not None:
        spec["output"] = dict(output)
    return {
        "apiVersion": "scaffolder.backstage.io/v1beta3",
        "kind": "Template",
        "metadata": {"name": name},
        "spec": spec,
    }


def write_template(folder: Path, entity: Mapping[str, Any], files: Mapping[str, str] = {}) -> Path:
    """A template folder: ``template.yaml`` plus ``files`` (path → text) next to it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "template.yaml").write_text(yaml.safe_dump(dict(entity), sort_keys=False))
    for path, text in files.items():
        target = folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text))
    return folder


@dataclass
class Run:
    result: engine.RunResult
    events: Events

    @property
    def statuses(self) -> dict[str, str]:
        return {step.id: step.status for step in self.result.steps}

    def read(self, path: str) -> str:
        return (self.result.workspace / path).read_text()


def run(
    runtime: Runtime,
    folder: Path,
    values: Mapping[str, Any] | None = None,
    *,
    workspace: Path | None = None,
    secrets: Mapping[str, str] | None = None,
    dry_run: bool = False,
) -> Run:
    source = engine.template_from_directory(folder)
    events = Events()
    result = engine.run_template(
        runtime,
        source,
        engine.apply_defaults(source.entity, values or {}),
        workspace=workspace or folder.parent / "workspace",
        user=USER,
        actor=TESTER,
        secrets=secrets or {},
        dry_run=dry_run,
        task_id="task-1",
        events=events,
    )
    return Run(result, events)


def one_step(action: str, step_input: Mapping[str, Any], step_id: str = "act") -> dict[str, Any]:
    return {"id": step_id, "name": step_id, "action": action, "input": dict(step_input)}


@pytest.fixture
def offline_runtime(tmp_path: Path) -> Iterator[Runtime]:
    """A runtime for tests that never touch the database (its file is never even created)."""
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=f"sqlite:///{tmp_path / 'unused.db'}",
        log_format="console",
        credentials_file=tmp_path / "credentials.json",
    )
    built = build_runtime(settings, load_entry_points=False)
    yield built
    built.close()
