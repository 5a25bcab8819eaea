"""Running a template: its steps in order, each step's log and status reported as it goes,
stopping at the first failure (no later step runs), then ``spec.output`` rendered."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pavedroad.core.actors import Actor
from pavedroad.scaffolder.engine.checks import template_issues
from pavedroad.scaffolder.engine.environment import template_environment
from pavedroad.scaffolder.engine.rendering import LEFT_OUT, ExpressionError, render_value
from pavedroad.scaffolder.engine.results import RunEvents, RunResult, StepResult
from pavedroad.scaffolder.engine.sources import TemplateSource
from pavedroad.scaffolder.engine.state import MaskedEvents, RunState
from pavedroad.scaffolder.engine.steps import is_truthy, run_step
from pavedroad.scaffolder.hooks import TemplateUser

if TYPE_CHECKING:
    from pavedroad.runtime import Runtime


def run_template(
    runtime: Runtime,
    source: TemplateSource,
    values: Mapping[str, Any],
    *,
    workspace: Path,
    user: TemplateUser,
    actor: Actor,
    secrets: Mapping[str, str] = {},
    dry_run: bool = False,
    task_id: str = "",
    events: RunEvents | None = None,
    is_cancelled: Callable[[], bool] = lambda: False,
) -> RunResult:
    """Run ``source`` with ``values`` (parameters, defaults applied) in ``workspace``."""
    workspace.mkdir(parents=True, exist_ok=True)
    masked = MaskedEvents(events, secrets)
    spec = source.entity.get("spec") or {}
    issues = template_issues(source.entity, runtime.scaffolder_actions)
    if issues:
        error = "the template cannot run: " + "; ".join(str(issue) for issue in issues)
        masked.log(None, error)
        return RunResult("failed", [], {}, error, workspace)
    state = RunState(
        runtime=runtime,
        source=source,
        values=values,
        workspace=workspace,
        user=user,
        actor=actor,
        secrets=secrets,
        dry_run=dry_run,
        task_id=task_id,
        events=masked,
        is_cancelled=is_cancelled,
        environment=template_environment(
            allowed_hosts=tuple(runtime.settings.scaffolder.allowed_hosts)
        ),
    )
    steps = list(spec.get("steps") or [])
    masked.log(None, f"Starting up task with {len(steps)} steps")
    results: list[StepResult] = []
    for step in steps:
        if is_cancelled():
            return RunResult(
                "cancelled", results, {}, f"cancelled before step '{step['id']}'", workspace
            )
        result = run_step(state, step)
        results.append(result)
        if result.status in ("failed", "cancelled"):
            error = result.error or f"cancelled during step '{result.id}'"
            return RunResult(result.status, results, {}, error, workspace)
    try:
        output = render_output(state, spec.get("output"))
    except ExpressionError as error:
        message = masked.mask(f"spec.output: {error}")
        masked.log(None, message)
        return RunResult("failed", results, {}, message, workspace)
    return RunResult("completed", results, output, None, workspace)


def render_output(state: RunState, output: Any) -> dict[str, Any]:
    """``spec.output`` rendered without secrets. Links and texts whose ``if`` is false are left
    out (Backstage leaves that to its page; doing it here keeps every client simple)."""
    if not isinstance(output, Mapping):
        return {}
    context = state.context()
    rendered: dict[str, Any] = {}
    for key, value in output.items():
        if key in ("links", "text") and isinstance(value, list):
            entries = (_entry(state, entry, context) for entry in value)
            rendered[key] = [entry for entry in entries if entry is not LEFT_OUT]
            continue
        item = render_value(state.environment, value, context)
        if item is not LEFT_OUT:
            rendered[key] = item
    return rendered


def _entry(state: RunState, entry: Any, context: Mapping[str, Any]) -> Any:
    """One link or text, or LEFT_OUT when its ``if`` is false (or renders to nothing)."""
    if not isinstance(entry, Mapping):
        return render_value(state.environment, entry, context)
    if "if" in entry:
        condition = entry["if"]
        if isinstance(condition, str):
            condition = render_value(state.environment, condition, context)
        if not is_truthy(condition):
            return LEFT_OUT
    shown = {k: v for k, v in entry.items() if k != "if"}
    return render_value(state.environment, shown, context)
