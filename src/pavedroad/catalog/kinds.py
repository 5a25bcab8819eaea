"""The built-in kinds: their apiVersions, required spec fields and the relations they imply.

These are Backstage's kind schemas and its BuiltinKindsEntityProcessor (plus the scaffolder's
Template processor), expressed as data: a spec field has a type, may be required, and may be a
relation field with a default kind for short refs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pavedroad.catalog.hooks import Relation
from pavedroad.catalog.refs import RefError, parse_ref
from pavedroad.catalog.validation import (
    Path,
    Problem,
    describe,
    dotted,
    missing,
    pointer,
    wrong_type,
)
from pavedroad.config import Settings
from pavedroad.core.plugins import hookimpl

BACKSTAGE_API_VERSIONS = ("backstage.io/v1alpha1", "backstage.io/v1beta1")
TEMPLATE_API_VERSIONS = ("scaffolder.backstage.io/v1beta3",)

STRING = "string"
STRINGS = "string[]"
OBJECT = "object"
ARRAY_OR_OBJECT = "array|object"
STEPS = "steps"


@dataclass(frozen=True, slots=True)
class RelationRule:
    """``spec.<field>`` names other entities; each yields ``forward`` here and ``inverse`` there."""

    default_kind: str | None
    forward: str
    inverse: str


@dataclass(frozen=True, slots=True)
class SpecField:
    name: str
    type: str
    required: bool = False
    example: str = ""
    relation: RelationRule | None = None
    choices: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class KindSchema:
    kind: str
    api_versions: tuple[str, ...]
    fields: tuple[SpecField, ...]


OWNED_BY = RelationRule("Group", "ownedBy", "ownerOf")
PART_OF_SYSTEM = RelationRule("System", "partOf", "hasPart")
DEPENDS_ON = RelationRule(None, "dependsOn", "dependencyOf")
DEPENDENCY_OF = RelationRule(None, "dependencyOf", "dependsOn")


def _owner(required: bool = True) -> SpecField:
    return SpecField("owner", STRING, required, '"owner: team-payments"', OWNED_BY)


def _system() -> SpecField:
    return SpecField("system", STRING, example='"system: payments"', relation=PART_OF_SYSTEM)


BUILTIN_SCHEMAS: tuple[KindSchema, ...] = (
    KindSchema(
        "Component",
        BACKSTAGE_API_VERSIONS,
        (
            SpecField("type", STRING, True, '"type: service" (or website, library)'),
            SpecField(
                "lifecycle", STRING, True, '"lifecycle: production" (or experimental, deprecated)'
            ),
            _owner(),
            _system(),
            SpecField(
                "subcomponentOf", STRING, relation=RelationRule("Component", "partOf", "hasPart")
            ),
            SpecField(
                "providesApis",
                STRINGS,
                relation=RelationRule("API", "providesApi", "apiProvidedBy"),
            ),
            SpecField(
                "consumesApis",
                STRINGS,
                relation=RelationRule("API", "consumesApi", "apiConsumedBy"),
            ),
            SpecField("dependsOn", STRINGS, relation=DEPENDS_ON),
            SpecField("dependencyOf", STRINGS, relation=DEPENDENCY_OF),
        ),
    ),
    KindSchema(
        "API",
        BACKSTAGE_API_VERSIONS,
        (
            SpecField("type", STRING, True, '"type: openapi" (or asyncapi, graphql, grpc)'),
            SpecField("lifecycle", STRING, True, '"lifecycle: production"'),
            _owner(),
            SpecField("definition", STRING, True, '"definition: { $text: ./openapi.yaml }"'),
            _system(),
        ),
    ),
    KindSchema(
        "Resource",
        BACKSTAGE_API_VERSIONS,
        (
            SpecField("type", STRING, True, '"type: database"'),
            _owner(),
            SpecField("dependsOn", STRINGS, relation=DEPENDS_ON),
            SpecField("dependencyOf", STRINGS, relation=DEPENDENCY_OF),
            _system(),
        ),
    ),
    KindSchema(
        "System",
        BACKSTAGE_API_VERSIONS,
        (
            _owner(),
            SpecField("domain", STRING, relation=RelationRule("Domain", "partOf", "hasPart")),
            SpecField("type", STRING),
        ),
    ),
    KindSchema(
        "Domain",
        BACKSTAGE_API_VERSIONS,
        (
            _owner(),
            SpecField("subdomainOf", STRING, relation=RelationRule("Domain", "partOf", "hasPart")),
            SpecField("type", STRING),
        ),
    ),
    KindSchema(
        "Group",
        BACKSTAGE_API_VERSIONS,
        (
            SpecField("type", STRING, True, '"type: team"'),
            SpecField("profile", OBJECT),
            SpecField("parent", STRING, relation=RelationRule("Group", "childOf", "parentOf")),
            SpecField(
                "children",
                STRINGS,
                True,
                '"children: []"',
                RelationRule("Group", "parentOf", "childOf"),
            ),
            SpecField("members", STRINGS, relation=RelationRule("User", "hasMember", "memberOf")),
        ),
    ),
    KindSchema(
        "User",
        BACKSTAGE_API_VERSIONS,
        (
            SpecField("profile", OBJECT),
            SpecField(
                "memberOf",
                STRINGS,
                True,
                '"memberOf: [team-payments]"',
                RelationRule("Group", "memberOf", "hasMember"),
            ),
        ),
    ),
    KindSchema(
        "Location",
        BACKSTAGE_API_VERSIONS,
        (
            SpecField("type", STRING),
            SpecField("target", STRING),
            SpecField("targets", STRINGS),
            SpecField("presence", STRING, choices=("required", "optional")),
        ),
    ),
    KindSchema(
        "Template",
        TEMPLATE_API_VERSIONS,
        (
            SpecField("type", STRING, True, '"type: service"'),
            SpecField("steps", STEPS, True, '"steps: [{ id: fetch, action: fetch:template }]"'),
            _owner(required=False),
            SpecField("parameters", ARRAY_OR_OBJECT),
            SpecField("output", OBJECT),
            SpecField("lifecycle", STRING),
        ),
    ),
)

_PROFILE_FIELDS = ("displayName", "email", "picture")


class SchemaProcessor:
    """An :class:`~pavedroad.catalog.hooks.EntityProcessor` driven by :class:`KindSchema` data."""

    def __init__(self, schemas: Sequence[KindSchema]) -> None:
        self._schemas = {schema.kind.lower(): schema for schema in schemas}
        self.kinds = tuple(schema.kind for schema in schemas)

    def schema_for(self, entity: dict[str, Any]) -> KindSchema | None:
        schema = self._schemas.get(str(entity.get("kind", "")).lower())
        if schema is None or entity.get("apiVersion") not in schema.api_versions:
            return None
        return schema

    def validate(self, entity: dict[str, Any]) -> list[Problem] | None:
        schema = self.schema_for(entity)
        if schema is None:
            return None
        spec = entity.get("spec")
        if spec is None:
            return [missing((), "spec", f"add a spec with at least {_required_names(schema)}")]
        if not isinstance(spec, dict):
            return []  # reported by the metadata checks already
        problems: list[Problem] = []
        for spec_field in schema.fields:
            problems.extend(_check_field(schema, spec_field, spec))
        return problems

    def relations(self, entity: dict[str, Any], ref: str) -> Iterable[Relation]:
        schema = self.schema_for(entity)
        spec = entity.get("spec")
        if schema is None or not isinstance(spec, dict):
            return []
        namespace = ref.split(":", 1)[1].split("/", 1)[0]
        found: list[Relation] = []
        for spec_field in schema.fields:
            rule = spec_field.relation
            value = spec.get(spec_field.name)
            if rule is None or value is None:
                continue
            targets = value if isinstance(value, list) else [value]
            for index, target in enumerate(targets):
                try:
                    target_ref = str(
                        parse_ref(
                            target, default_kind=rule.default_kind, default_namespace=namespace
                        )
                    )
                except RefError as error:
                    path: Path = ("spec", spec_field.name)
                    raise RelationRefError(
                        str(error), path + ((index,) if isinstance(value, list) else ()), rule
                    ) from None
                found.append(Relation(ref, rule.forward, target_ref))
                found.append(Relation(target_ref, rule.inverse, ref))
        return found


class RelationRefError(ValueError):
    """A relation field whose value is not a valid ref in its context."""

    def __init__(self, message: str, path: Path, rule: RelationRule) -> None:
        super().__init__(message)
        self.path = path
        self.rule = rule


def _required_names(schema: KindSchema) -> str:
    names = [f"spec.{f.name}" for f in schema.fields if f.required]
    return ", ".join(names) if names else "the fields your kind needs"


def _check_field(schema: KindSchema, spec_field: SpecField, spec: dict[str, Any]) -> list[Problem]:
    path: Path = ("spec", spec_field.name)
    if spec_field.name not in spec:
        if not spec_field.required:
            return []
        problem = missing(("spec",), spec_field.name)
        problem.message = f"spec.{spec_field.name} is required for kind {schema.kind}"
        problem.hint = f"e.g. {spec_field.example}" if spec_field.example else ""
        return [problem]
    value = spec[spec_field.name]
    kind = spec_field.type
    if kind == STRING:
        if not isinstance(value, str):
            return [
                wrong_type(
                    path,
                    "string",
                    value,
                    f"e.g. {spec_field.example}" if spec_field.example else "",
                )
            ]
        if not value and (spec_field.required or spec_field.relation):
            return [_too_short(path, spec_field)]
        if spec_field.choices and value not in spec_field.choices:
            return [
                Problem(
                    f"schema:{pointer(path)} must be equal to one of the allowed values",
                    f"{dotted(path)} must be one of {', '.join(spec_field.choices)}; "
                    f'found "{value}"',
                    path,
                )
            ]
        return []
    if kind == STRINGS:
        return _check_strings(path, value, spec_field)
    if kind == OBJECT:
        return _check_object(path, value, spec_field)
    if kind == ARRAY_OR_OBJECT and not isinstance(value, list | dict):
        return [wrong_type(path, "object", value)]
    if kind == STEPS:
        return _check_steps(path, value)
    return []


def _too_short(path: Path, spec_field: SpecField) -> Problem:
    return Problem(
        f"schema:{pointer(path)} must NOT have fewer than 1 characters",
        f"{dotted(path)} must not be empty",
        path,
        f"e.g. {spec_field.example}" if spec_field.example else "",
    )


def _check_strings(path: Path, value: Any, spec_field: SpecField) -> list[Problem]:
    if not isinstance(value, list):
        example = f"{spec_field.name}: [{value}]" if isinstance(value, str) else ""
        return [
            wrong_type(path, "array", value, f'write a list, e.g. "{example}"' if example else "")
        ]
    problems = []
    for index, item in enumerate(value):
        if not isinstance(item, str):
            problems.append(wrong_type((*path, index), "string", item))
        elif not item:
            problems.append(_too_short((*path, index), spec_field))
    return problems


def _check_object(path: Path, value: Any, spec_field: SpecField) -> list[Problem]:
    if not isinstance(value, dict):
        return [wrong_type(path, "object", value)]
    if spec_field.name != "profile":
        return []
    return [
        wrong_type((*path, key), "string", value[key])
        for key in _PROFILE_FIELDS
        if key in value and not isinstance(value[key], str)
    ]


def _check_steps(path: Path, value: Any) -> list[Problem]:
    if not isinstance(value, list):
        return [wrong_type(path, "array", value)]
    problems = []
    for index, step in enumerate(value):
        if not isinstance(step, dict):
            problems.append(wrong_type((*path, index), "object", step))
        elif "action" not in step:
            problem = missing((*path, index), "action", 'e.g. "action: fetch:template"')
            problems.append(problem)
        elif not isinstance(step["action"], str):
            problems.append(wrong_type((*path, index, "action"), "string", step["action"]))
    return problems


def relation_ref_problem(error: RelationRefError, value: Any) -> Problem:
    """The ``entity-ref`` problem for a relation field that is not a valid ref."""
    hint = ""
    if error.rule.default_kind is None and isinstance(value, str):
        hint = f'this field has no default kind: write "resource:{value}" or "component:{value}"'
    return Problem(
        "entity-ref",
        f"{dotted(error.path)} is not a valid entity ref: {error}; found {describe(value)}",
        error.path,
        hint or "write [<kind>:][<namespace>/]<name>, e.g. group:default/team-payments",
    )


BUILTIN_PROCESSOR = SchemaProcessor(BUILTIN_SCHEMAS)


class BuiltinKinds:
    """The built-in kinds, registered through the same hook as any plugin's kinds."""

    @hookimpl
    def pavedroad_catalog_processors(self, settings: Settings) -> Sequence[SchemaProcessor]:
        return [BUILTIN_PROCESSOR]
