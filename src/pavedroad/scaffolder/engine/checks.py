"""What is wrong with a template before it runs: steps that name no action or an unknown one,
steps without an id or with the id of another, parameter pages that are not JSON Schema.

Registration refuses a template for the problems marked ``blocks_registration`` (see
``registration``); a run refuses it for all of them.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft7Validator, SchemaError

from pavedroad.catalog.problems import Path, dotted
from pavedroad.scaffolder.hooks import ScaffolderAction

UNKNOWN_ACTION = "scaffolder:unknown-action"
INVALID_PARAMETERS = "scaffolder:invalid-parameter-schema"
STEP_ID = "scaffolder:step-id"


@dataclass(frozen=True)
class TemplateIssue:
    category: str
    path: Path
    message: str
    hint: str = ""
    blocks_registration: bool = False

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


def check_template(entity: Mapping[str, Any], actions: Mapping[str, ScaffolderAction]) -> list[str]:
    """Every problem of the template, each naming the step or field."""
    return [str(issue) for issue in template_issues(entity, actions)]


def template_issues(entity: Mapping[str, Any], action_ids: Collection[str]) -> list[TemplateIssue]:
    spec = entity.get("spec")
    if not isinstance(spec, Mapping):
        return [TemplateIssue("schema", ("spec",), "the template has no spec")]
    return [*_step_issues(spec.get("steps"), action_ids), *_parameter_issues(spec)]


def _step_issues(steps: Any, action_ids: Collection[str]) -> Iterator[TemplateIssue]:
    if not isinstance(steps, list):
        yield TemplateIssue("schema", ("spec", "steps"), "spec.steps must be a list of steps")
        return
    first_of: dict[str, int] = {}
    for index, step in enumerate(steps):
        path: Path = ("spec", "steps", index)
        if not isinstance(step, Mapping):
            yield TemplateIssue("schema", path, f"{dotted(path)} must be a mapping")
            continue
        yield from _id_issues(step, index, first_of)
        action = step.get("action")
        where = _named(path, step)
        if not isinstance(action, str) or not action:
            yield TemplateIssue(
                "schema",
                (*path, "action"),
                f"{where} has no action",
                'e.g. "action: fetch:template"',
            )
        elif action not in action_ids:
            yield TemplateIssue(
                UNKNOWN_ACTION,
                (*path, "action"),
                f"{where} uses the unknown action {action!r}",
                _close_actions(action, action_ids),
                blocks_registration=True,
            )


def _id_issues(
    step: Mapping[str, Any], index: int, first_of: dict[str, int]
) -> Iterator[TemplateIssue]:
    path: Path = ("spec", "steps", index, "id")
    step_id = step.get("id")
    if not isinstance(step_id, str) or not step_id:
        yield TemplateIssue(
            STEP_ID, path, f"spec.steps[{index}] has no id", 'give it one, e.g. "id: fetch"'
        )
    elif step_id in first_of:
        yield TemplateIssue(
            STEP_ID,
            path,
            f"spec.steps[{index}] has the id {step_id!r} of spec.steps[{first_of[step_id]}]",
            "give every step its own id; later steps read outputs by id",
        )
    else:
        first_of[step_id] = index


def _named(path: Path, step: Mapping[str, Any]) -> str:
    step_id = step.get("id")
    return f"{dotted(path)} ({step_id})" if isinstance(step_id, str) and step_id else dotted(path)


def _close_actions(action: str, action_ids: Collection[str]) -> str:
    close = difflib.get_close_matches(action, sorted(action_ids), n=3, cutoff=0.5)
    if not close:
        family = action.split(":")[0]
        close = [a for a in sorted(action_ids) if a.split(":")[0] == family][:5]
    if close:
        return f"did you mean {', '.join(close)}?"
    return f"installed actions: {', '.join(sorted(action_ids))}"


def _parameter_issues(spec: Mapping[str, Any]) -> Iterator[TemplateIssue]:
    parameters = spec.get("parameters")
    if parameters is None:
        return
    if not isinstance(parameters, Mapping | list):
        yield TemplateIssue(
            INVALID_PARAMETERS,
            ("spec", "parameters"),
            "spec.parameters must be a JSON Schema object or a list of them (one per form page)",
            blocks_registration=True,
        )
        return
    pages = [parameters] if isinstance(parameters, Mapping) else parameters
    for index, page in enumerate(pages):
        path: Path = (
            ("spec", "parameters")
            if isinstance(parameters, Mapping)
            else (
                "spec",
                "parameters",
                index,
            )
        )
        if not isinstance(page, Mapping):
            yield TemplateIssue(
                INVALID_PARAMETERS,
                path,
                f"{dotted(path)} must be a JSON Schema object",
                blocks_registration=True,
            )
            continue
        try:
            Draft7Validator.check_schema(page)
        except SchemaError as error:
            where: Path = (*path, *error.absolute_path)
            yield TemplateIssue(
                INVALID_PARAMETERS,
                where,
                f"{dotted(where)} is not valid JSON Schema: {error.message}",
                "see https://json-schema.org/understanding-json-schema/ (draft 7)",
                blocks_registration=True,
            )
