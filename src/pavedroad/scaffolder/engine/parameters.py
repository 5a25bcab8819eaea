"""A template's parameters: the form pages of ``spec.parameters``, checked as Backstage's form
checks them (JSON Schema draft 7, as react-jsonschema-form), defaults filled in, and the fields
that hold secrets set apart (``ui:field: Secret``) or masked (``ui:widget: password``)."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft7Validator, ValidationError

from pavedroad.catalog.problems import describe

_BRANCHES = ("oneOf", "anyOf", "allOf")


@dataclass(frozen=True)
class ParameterProblem:
    """One field of the form that is not right: which, and what to do about it."""

    field: str
    message: str


def parameter_steps(entity: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``spec.parameters`` as a list of JSON Schema objects, one per form page."""
    parameters = (entity.get("spec") or {}).get("parameters")
    if isinstance(parameters, Mapping):
        return [dict(parameters)]
    if isinstance(parameters, list):
        return [dict(page) for page in parameters if isinstance(page, Mapping)]
    return []


def field_schemas(entity: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every top-level field a page declares, also those shown only under a condition
    (``dependencies``, ``if``/``then``/``else``, ``oneOf``…)."""
    for page in parameter_steps(entity):
        yield from _fields_of(page)


def _fields_of(schema: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, field_schema in (schema.get("properties") or {}).items():
        if isinstance(field_schema, Mapping):
            yield name, dict(field_schema)
    branches: list[Any] = [schema.get(key) for key in ("then", "else")]
    for key in _BRANCHES:
        branches.extend(schema.get(key) or [])
    for dependency in (schema.get("dependencies") or {}).values():
        branches.append(dependency)
    for branch in branches:
        if isinstance(branch, Mapping):
            yield from _fields_of(branch)


def declared_fields(entity: Mapping[str, Any]) -> set[str] | None:
    """Names ``parameters.x`` may have; None when the pages do not say (then any name may)."""
    names = {name for name, _ in field_schemas(entity)}
    pages = parameter_steps(entity)
    if not names and any("$ref" in page or "properties" not in page for page in pages):
        return None
    return names


def secret_fields(entity: Mapping[str, Any]) -> set[str]:
    """Fields whose values are masked in stored parameters and logs."""
    return {
        name
        for name, schema in field_schemas(entity)
        if schema.get("ui:field") == "Secret" or schema.get("ui:widget") == "password"
    }


def secret_form_fields(entity: Mapping[str, Any]) -> set[str]:
    """Fields whose values are secrets (``ui:field: Secret``): read as ``secrets.x`` only."""
    return {name for name, schema in field_schemas(entity) if schema.get("ui:field") == "Secret"}


def split_secrets(
    entity: Mapping[str, Any], values: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(parameters, secrets)``: ``ui:field: Secret`` values are read as ``secrets.x`` only."""
    secret = secret_form_fields(entity)
    parameters = {key: value for key, value in values.items() if key not in secret}
    secrets = {key: value for key, value in values.items() if key in secret}
    return parameters, secrets


def apply_defaults(entity: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` with every ``default`` of the pages filled in where nothing was given."""
    completed = copy.deepcopy(dict(values))
    for page in parameter_steps(entity):
        _fill(page, completed)
    return completed


def _fill(schema: Mapping[str, Any], values: dict[str, Any]) -> None:
    for name, field_schema in (schema.get("properties") or {}).items():
        if not isinstance(field_schema, Mapping):
            continue
        if name not in values and "default" in field_schema:
            values[name] = copy.deepcopy(field_schema["default"])
        if isinstance(values.get(name), dict) and field_schema.get("properties"):
            _fill(field_schema, values[name])
    for key, dependency in (schema.get("dependencies") or {}).items():
        if key in values and isinstance(dependency, Mapping):
            _fill(dependency, values)
            for branch in dependency.get("oneOf") or []:
                if isinstance(branch, Mapping) and _matches(branch, key, values):
                    _fill(branch, values)


def _matches(branch: Mapping[str, Any], key: str, values: Mapping[str, Any]) -> bool:
    """Whether the ``oneOf`` branch of a dependency is the one for the value of ``key``."""
    condition = (branch.get("properties") or {}).get(key)
    if not isinstance(condition, Mapping):
        return False
    return not list(Draft7Validator(condition).iter_errors(values[key]))


def validate_parameters(
    entity: Mapping[str, Any], values: Mapping[str, Any]
) -> list[ParameterProblem]:
    """Every problem of ``values`` against every page, in page order; empty when valid."""
    problems: list[ParameterProblem] = []
    seen: set[tuple[str, str]] = set()
    for page in parameter_steps(entity):
        validator = Draft7Validator(page, format_checker=Draft7Validator.FORMAT_CHECKER)
        for error in sorted(validator.iter_errors(dict(values)), key=lambda e: list(e.path)):
            for problem in _problems(error, page):
                if (problem.field, problem.message) not in seen:
                    seen.add((problem.field, problem.message))
                    problems.append(problem)
    return problems


def _problems(error: ValidationError, page: Mapping[str, Any]) -> list[ParameterProblem]:
    if error.validator in ("required", "dependencies") and isinstance(error.instance, dict):
        names: Any = error.validator_value
        if error.validator == "dependencies":
            names = _dependency_names(error)
        base = _dotted(list(error.absolute_path))
        return [
            ParameterProblem(
                f"{base}.{name}" if base else name,
                f"{_title(page, name)} is required: fill it in",
            )
            for name in names
            if isinstance(name, str) and name not in error.instance
        ] or [ParameterProblem(base or "<form>", error.message)]
    field = _dotted(list(error.absolute_path)) or "<form>"
    return [ParameterProblem(field, _message(error, page, field))]


def _dependency_names(error: ValidationError) -> list[str]:
    required: list[str] = []
    rules: Any = error.validator_value
    for dependency in (rules or {}).values():
        if isinstance(dependency, list):
            required.extend(dependency)
    return required


_MESSAGES: dict[str, Callable[[str, Any, Any], str]] = {
    "type": lambda name, value, rule: f"{name} must be {_a(rule)}, found {describe(value)}",
    "enum": lambda name, value, rule: (
        f"{name} must be one of {', '.join(map(str, rule))}; found {describe(value)}"
    ),
    "const": lambda name, value, rule: f"{name} must be {rule!r}",
    "pattern": lambda name, value, rule: (
        f"{name} {describe(value)} does not match the pattern {rule}"
    ),
    "minLength": lambda name, value, rule: f"{name} must have at least {rule} characters",
    "maxLength": lambda name, value, rule: f"{name} must have at most {rule} characters",
    "minimum": lambda name, value, rule: f"{name} must be {rule} or more, found {value}",
    "maximum": lambda name, value, rule: f"{name} must be {rule} or less, found {value}",
    "exclusiveMinimum": lambda name, value, rule: f"{name} must be more than {rule}",
    "exclusiveMaximum": lambda name, value, rule: f"{name} must be less than {rule}",
    "minItems": lambda name, value, rule: f"{name} needs at least {rule} item(s)",
    "maxItems": lambda name, value, rule: f"{name} takes at most {rule} item(s)",
    "uniqueItems": lambda name, value, rule: f"{name} must not repeat items",
    "format": lambda name, value, rule: f"{name} must be a valid {rule}, found {describe(value)}",
}


def _message(error: ValidationError, page: Mapping[str, Any], field: str) -> str:
    name = _title(page, field.split(".")[0].split("[")[0])
    rule: Any = error.validator_value
    explain = _MESSAGES.get(str(error.validator))
    text = explain(name, error.instance, rule) if explain else f"{name}: {error.message}"
    help_text = _field(page, field).get("ui:help") or _field(page, field).get("description")
    if error.validator == "pattern" and help_text:
        text += f" ({help_text})"
    return text


def _field(page: Mapping[str, Any], field: str) -> Mapping[str, Any]:
    found = (page.get("properties") or {}).get(field.split(".")[0].split("[")[0])
    return found if isinstance(found, Mapping) else {}


def _title(page: Mapping[str, Any], name: str) -> str:
    title = _field(page, name).get("title")
    return f"{title} ({name})" if isinstance(title, str) and title else name


def _a(kind: Any) -> str:
    kinds = kind if isinstance(kind, list) else [kind]
    words = [f"an {k}" if str(k)[0] in "aeio" else f"a {k}" for k in kinds]
    return " or ".join(words)


def _dotted(path: list[str | int]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
