"""A dry run: the template rendered into a scratch folder and shown, nothing published or
registered, nothing stored (a dry run is not a task)."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pavedroad.core.actors import Actor
from pavedroad.scaffolder import service

if TYPE_CHECKING:
    from pavedroad.runtime import Runtime
    from pavedroad.scaffolder.engine import RunResult


class CollectedEvents:
    """A dry run's log, kept in memory."""

    def __init__(self) -> None:
        self.lines: list[dict[str, Any]] = []

    def log(self, step_id: str | None, message: str) -> None:
        self.lines.append({"stepId": step_id, "message": message})

    def step(self, step_id: str, name: str, status: str) -> None:
        self.lines.append({"stepId": step_id, "message": f"{name}: {status}", "status": status})


@dataclass
class DryRun:
    result: RunResult
    files: list[dict[str, Any]]
    log: list[dict[str, Any]] = field(default_factory=list)


def dry_run(
    runtime: Runtime,
    template_ref: str,
    values: Mapping[str, Any],
    *,
    actor: Actor,
    secrets: Mapping[str, str] | None = None,
) -> DryRun:
    from pavedroad.scaffolder import engine

    source, parameters, form_secrets = service.prepare(runtime, template_ref, values)
    events = CollectedEvents()
    with tempfile.TemporaryDirectory(prefix="pavedroad-dry-run-") as scratch:
        result = engine.run_template(
            runtime,
            source,
            parameters,
            workspace=Path(scratch),
            user=service.template_user(runtime, actor.ref),
            actor=actor,
            secrets={**form_secrets, **(secrets or {})},
            dry_run=True,
            events=events,
        )
        files = engine.dry_run_files(Path(scratch))
    return DryRun(result, files, events.lines)
