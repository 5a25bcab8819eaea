"""Running one step: its ``if``, the dry-run rules, ``each``, input rendered and checked against
the action's schema, the action itself, and what it outputs (``steps.<id>.output``)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from jsonschema import Draft7Validator, ValidationError

from pavedroad.core.errors import PavedroadError
from pavedroad.scaffolder.engine.rendering import LEFT_OUT, ExpressionError, render_value
from pavedroad.scaffolder.engine.results import StepResult
from pavedroad.scaffolder.engine.state import RunState
from pavedroad.scaffolder.hooks import ActionContext, ScaffolderAction

EXAMPLE = "<example>"


class Cancelled(Exception):  # noqa: N818 - a signal, not a failure
    """The run was asked to stop."""


class StepFailed(Exception):  # noqa: N818 - carries the message shown for the step
    pass


def run_step(state: RunState, step: Mapping[str, Any]) -> StepResult:
    step_id, action_id = str(step["id"]), str(step["action"])
    name = str(step.get("name") or step_id)
    result = StepResult(step_id, name, action_id, "processing")
    state.events.step(step_id, name, "processing")
    state.events.log(step_id, f"Beginning step {name}")
    try:
        result.status = _execute(state, step, state.runtime.scaffolder_actions[action_id], result)
    except Cancelled:
        result.status = "cancelled"
        state.events.log(step_id, f"Step {step_id} has been cancelled.")
    except Exception as error:  # whatever the action raised ends this step, and the run
        result.status = "failed"
        result.error = state.events.mask(_failure(step_id, action_id, error))
        state.events.log(step_id, result.error)
    state.events.step(step_id, name, result.status)
    return result


def _execute(
    state: RunState, step: Mapping[str, Any], action: ScaffolderAction, result: StepResult
) -> str:
    if not _wanted(state, step):
        state.events.log(result.id, f"Skipping step {result.id} because its if condition was false")
        return "skipped"
    if state.dry_run:
        shown = _input(state, step, state.context(secrets="masked"))
        state.events.log(
            result.id,
            f"Running {action.id} in dry-run mode with inputs (secrets redacted): "
            f"{json.dumps(shown, indent=2, ensure_ascii=False)}",
        )
        if not action.supports_dry_run:
            state.events.log(result.id, f"Skipping because {action.id} does not support dry-run")
            state.outputs[result.id] = example_output(action.output_schema)
            return "skipped"
    iterations = _iterations(state, step)
    inputs = [_input(state, step, state.context(secrets="real", each=each)) for each in iterations]
    for each, given in zip(iterations, inputs, strict=True):
        check_input(action, given, result.id, each)
    for each, given in zip(iterations, inputs, strict=True):
        if each is not None:
            state.events.log(result.id, f"Running step each: {json.dumps(each, default=str)}")
        action.handler(_action_context(state, result, given, each is not None))
        if state.is_cancelled():
            raise Cancelled
    state.outputs[result.id] = result.output
    state.events.log(result.id, f"Finished step {result.name}")
    return "completed"


def _wanted(state: RunState, step: Mapping[str, Any]) -> bool:
    condition = step.get("if", True)
    if condition is False:
        return False
    if not isinstance(condition, str):
        return True
    return is_truthy(_rendered(state, condition, state.context()))


def is_truthy(value: Any) -> bool:
    """Backstage's isTruthy: an array must be non-empty; otherwise JavaScript truthiness
    (so an empty object is true, the string "false" too)."""
    if value is LEFT_OUT or value is None or value is False:
        return False
    if isinstance(value, list):
        return len(value) > 0
    if isinstance(value, Mapping):
        return True
    return bool(value)


def _iterations(state: RunState, step: Mapping[str, Any]) -> list[dict[str, Any] | None]:
    if "each" not in step:
        return [None]
    items = _rendered(state, step["each"], state.context())
    if isinstance(items, list):
        return [{"key": str(index), "value": value} for index, value in enumerate(items)]
    if isinstance(items, Mapping):
        return [{"key": key, "value": value} for key, value in items.items()]
    raise StepFailed(f"each must give a list or an object to go through, got {items!r}")


def _rendered(state: RunState, value: Any, context: Mapping[str, Any]) -> Any:
    return render_value(state.environment, value, context)


def _input(state: RunState, step: Mapping[str, Any], context: Mapping[str, Any]) -> dict[str, Any]:
    given = _rendered(state, step.get("input") or {}, context)
    if given is LEFT_OUT:
        return {}
    if not isinstance(given, dict):
        raise StepFailed(f"input must be a mapping of the action's fields, got {given!r}")
    return given


def check_input(
    action: ScaffolderAction, given: Any, step_id: str, each: Mapping[str, Any] | None
) -> None:
    """Raise naming the step and every field of ``given`` that the action's schema refuses."""
    errors = sorted(Draft7Validator(dict(action.input_schema)).iter_errors(given), key=str)
    if not errors:
        return
    where = f"[{each['key']}]" if each is not None else ""
    described = "; ".join(_input_problem(error) for error in errors)
    raise StepFailed(f"invalid input for {action.id}{where}: {described}")


def _input_problem(error: ValidationError) -> str:
    field = ".".join(str(part) for part in error.absolute_path) or "input"
    rule: Any = error.validator_value
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [n for n in rule if n not in error.instance]
        return ", ".join(f"{field}.{n}" if error.absolute_path else n for n in missing) + (
            " is required" if len(missing) == 1 else " are required"
        )
    if error.validator in ("oneOf", "anyOf"):
        options = [" + ".join(option.get("required", [])) for option in rule or []]
        return f"{field} needs one of: {' or '.join(o for o in options if o)}"
    return f"{field}: {error.message}"


def _action_context(
    state: RunState, result: StepResult, given: dict[str, Any], collect: bool
) -> ActionContext:
    def output(name: str, value: Any) -> None:
        if collect:
            result.output.setdefault(name, []).append(value)
        else:
            result.output[name] = value

    return ActionContext(
        task_id=state.task_id,
        step_id=result.id,
        input=given,
        workspace=state.workspace,
        template_dir=state.source.directory,
        template_ref=state.source.ref,
        dry_run=state.dry_run,
        user=state.user,
        actor=state.actor,
        secrets=state.secrets,
        runtime=state.runtime,
        log=lambda message: state.events.log(result.id, message),
        output=output,
        is_cancelled=state.is_cancelled,
        template_version=state.source.version,
        template_values=state.values,
        template_entity=state.source.entity,
    )


def example_output(schema: Mapping[str, Any]) -> dict[str, Any]:
    """What a step skipped in a dry run outputs: a placeholder for each output it always gives
    (the schema's ``required``), so later steps and links render; optional outputs stay unset."""
    value = _example(schema)
    return value if isinstance(value, dict) else {}


def _example(schema: Mapping[str, Any]) -> Any:
    examples = schema.get("examples")
    if isinstance(examples, list) and examples:
        return examples[0]
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties") or {}
        return {
            key: _example(properties[key])
            for key in schema.get("required") or []
            if isinstance(properties.get(key), Mapping)
        }
    if kind == "array":
        return []
    return {"number": 0, "integer": 0, "boolean": False}.get(str(kind), EXAMPLE)


def _failure(step_id: str, action_id: str, error: Exception) -> str:
    if isinstance(error, ExpressionError | StepFailed):
        return f"step '{step_id}': {error}"
    if isinstance(error, PavedroadError):
        hint = error.details.get("hint")
        return f"step '{step_id}' ({action_id}): {error.message}" + (f" — {hint}" if hint else "")
    return f"step '{step_id}' ({action_id}): {type(error).__name__}: {error}"
