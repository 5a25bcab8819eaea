"""A template's parameter schema as HTML form fields, and form input back as typed values.

Covers what templates use in practice: strings (text, textarea, password, patterns), numbers,
booleans, enums (with ``enumNames``), arrays of enums (checkboxes), and the pickers people
expect: EntityNamePicker, OwnerPicker and EntityPicker (a list to choose from, from the catalog),
RepoUrlPicker (``host?owner=..&repo=..``). ``dependencies`` with ``oneOf`` show the fields of the
branch the current values select.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

PICKERS = {"OwnerPicker", "EntityPicker", "MyGroupsPicker", "OwnedEntityPicker"}


@dataclass(frozen=True, slots=True)
class Choice:
    value: str
    label: str


@dataclass(slots=True)
class FormField:
    name: str
    label: str
    widget: str  # text, textarea, password, number, checkbox, select, checkboxes, picker, repo-url
    required: bool
    value: Any
    help: str = ""
    description: str = ""
    pattern: str | None = None
    choices: list[Choice] = field(default_factory=list)
    picker_kinds: tuple[str, ...] = ()
    autofocus: bool = False
    error: str | None = None
    placeholder: str = ""

    @property
    def input_id(self) -> str:
        return f"param-{self.name}"


def visible_properties(schema: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """The step's properties plus those its ``dependencies`` add for the current values."""
    properties = dict(schema.get("properties") or {})
    for depends_on, rule in (schema.get("dependencies") or {}).items():
        if not isinstance(rule, Mapping) or depends_on not in values:
            continue
        for branch in rule.get("oneOf") or [rule]:
            condition = (branch.get("properties") or {}).get(depends_on, {})
            wanted = condition.get("enum") or (
                [condition["const"]] if "const" in condition else None
            )
            if wanted is None or values.get(depends_on) in wanted:
                for name, spec in (branch.get("properties") or {}).items():
                    if name != depends_on:
                        properties.setdefault(name, spec)
    return properties


def required_of(schema: Mapping[str, Any], values: Mapping[str, Any]) -> set[str]:
    required = set(schema.get("required") or [])
    for depends_on, rule in (schema.get("dependencies") or {}).items():
        if isinstance(rule, Mapping) and depends_on in values:
            for branch in rule.get("oneOf") or [rule]:
                condition = (branch.get("properties") or {}).get(depends_on, {})
                wanted = condition.get("enum")
                if wanted is None or values.get(depends_on) in wanted:
                    required.update(branch.get("required") or [])
    return required


def fields_of(
    schema: Mapping[str, Any],
    values: Mapping[str, Any],
    errors: Mapping[str, str],
    choices: Mapping[str, list[Choice]],
) -> list[FormField]:
    """The form fields of one page; ``choices`` holds picker options by field name."""
    required = required_of(schema, values)
    fields = []
    for name, spec in visible_properties(schema, values).items():
        if isinstance(spec, Mapping) and spec.get("ui:widget") != "hidden":
            fields.append(_field(name, spec, values, required, errors, choices.get(name, [])))
    return fields


def _field(
    name: str,
    spec: Mapping[str, Any],
    values: Mapping[str, Any],
    required: set[str],
    errors: Mapping[str, str],
    picked: list[Choice],
) -> FormField:
    options = spec.get("ui:options") or {}
    made = FormField(
        name=name,
        label=str(spec.get("title") or name),
        widget=_widget(spec),
        required=name in required,
        value=values.get(name, spec.get("default", "")),
        help=str(spec.get("ui:help") or ""),
        description=str(spec.get("description") or ""),
        pattern=spec.get("pattern") if isinstance(spec.get("pattern"), str) else None,
        autofocus=bool(spec.get("ui:autofocus")),
        error=errors.get(name),
        placeholder=str(options.get("placeholder") or spec.get("ui:placeholder") or ""),
    )
    if made.widget in ("select", "checkboxes"):
        made.choices = _enum_choices(spec if made.widget == "select" else spec.get("items") or {})
    if made.widget == "picker":
        made.choices = picked
        made.picker_kinds = _picker_kinds(spec)
    if made.widget == "repo-url" and not made.placeholder:
        hosts = options.get("allowedHosts") or ["github.com"]
        made.placeholder = f"{hosts[0]}?owner=your-team&repo=your-repo"
    return made


def _widget(spec: Mapping[str, Any]) -> str:
    picker = spec.get("ui:field")
    if picker in PICKERS:
        return "picker"
    if picker == "RepoUrlPicker":
        return "repo-url"
    if picker == "Secret" or spec.get("ui:widget") == "password":
        return "password"
    if spec.get("ui:widget") == "textarea":
        return "textarea"
    kind = spec.get("type")
    if "enum" in spec:
        return "select"
    if kind == "boolean":
        return "checkbox"
    if kind in ("integer", "number"):
        return "number"
    if kind == "array" and isinstance(spec.get("items"), Mapping) and "enum" in spec["items"]:
        return "checkboxes"
    return "text"


def _enum_choices(spec: Mapping[str, Any]) -> list[Choice]:
    values = list(spec.get("enum") or [])
    names = list(spec.get("enumNames") or [])
    return [
        Choice(str(value), str(names[index]) if index < len(names) else str(value))
        for index, value in enumerate(values)
    ]


def _picker_kinds(spec: Mapping[str, Any]) -> tuple[str, ...]:
    options = spec.get("ui:options") or {}
    if spec.get("ui:field") in ("OwnerPicker", "MyGroupsPicker"):
        allowed = options.get("allowedKinds") or ["Group", "User"]
    else:
        allowed = options.get("allowedKinds") or []
    catalog_filter = options.get("catalogFilter") or {}
    if isinstance(catalog_filter, Mapping) and catalog_filter.get("kind"):
        kind = catalog_filter["kind"]
        allowed = kind if isinstance(kind, list) else [kind]
    return tuple(str(kind).lower() for kind in allowed)


def typed_values(
    schema: Mapping[str, Any], form: Mapping[str, Any], values: Mapping[str, Any]
) -> dict[str, Any]:
    """The submitted fields of one page as the schema's types (unparseable numbers stay text,
    so the validator names them); fields left empty are left out."""
    typed: dict[str, Any] = {}
    for name, spec in visible_properties(schema, {**values, **_raw(form)}).items():
        if not isinstance(spec, Mapping):
            continue
        kind = spec.get("type")
        if kind == "boolean":
            typed[name] = form.get(name) in ("on", "true", "1")
            continue
        if kind == "array":
            picked = _all(form, name)
            if picked:
                typed[name] = picked
            continue
        raw = form.get(name)
        if not isinstance(raw, str) or raw.strip() == "":
            continue
        typed[name] = _number(raw.strip(), kind) if kind in ("integer", "number") else raw
    return typed


def _raw(form: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in form.items() if isinstance(value, str)}


def _all(form: Any, name: str) -> list[str]:
    getter = getattr(form, "getlist", None)
    found: Sequence[Any] = getter(name) if getter else form.get(name) or []
    return [str(value) for value in found if str(value)]


def _number(raw: str, kind: Any) -> int | float | str:
    try:
        return int(raw) if kind == "integer" else float(raw)
    except ValueError:
        return raw
