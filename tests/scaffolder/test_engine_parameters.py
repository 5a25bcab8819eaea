"""A template's form: pages normalised, values checked as Backstage's form checks them,
defaults filled in, secrets set apart; and what makes a template unable to run at all."""

from __future__ import annotations

from typing import Any

from pavedroad.scaffolder import engine
from pavedroad.scaffolder.actions import builtin_actions
from pavedroad.scaffolder.engine import ParameterProblem
from tests.scaffolder.test_engine_support import template

ACTIONS = {action.id: action for action in builtin_actions()}
PAGES: list[dict[str, Any]] = [
    {
        "title": "Service",
        "required": ["name", "owner"],
        "properties": {
            "name": {
                "title": "Name",
                "type": "string",
                "pattern": "^[a-z][a-z0-9-]*$",
                "ui:help": "lower case letters, digits and dashes",
                "ui:autofocus": True,
            },
            "owner": {"title": "Owner", "type": "string", "ui:field": "OwnerPicker"},
            "language": {"type": "string", "enum": ["python", "go"], "default": "python"},
            "replicas": {"type": "integer", "minimum": 1, "maximum": 5, "default": 2},
            "database": {"type": "boolean", "default": False},
        },
        "dependencies": {
            "database": {
                "oneOf": [
                    {"properties": {"database": {"const": False}}},
                    {
                        "properties": {
                            "database": {"const": True},
                            "engine": {"type": "string", "default": "postgres"},
                        },
                        "required": ["engine"],
                    },
                ]
            }
        },
    },
    {
        "title": "Access",
        "properties": {
            "token": {"type": "string", "ui:field": "Secret"},
            "password": {"type": "string", "ui:widget": "password"},
        },
    },
]
ENTITY = template([], parameters=PAGES)


def problems(values: dict[str, Any]) -> list[ParameterProblem]:
    return engine.validate_parameters(ENTITY, engine.apply_defaults(ENTITY, values))


class TestPages:
    def test_one_schema_object_is_one_page(self) -> None:
        assert engine.parameter_steps(template([], parameters=PAGES[0])) == [PAGES[0]]
        assert engine.parameter_steps(ENTITY) == PAGES
        assert engine.parameter_steps(template([])) == []


class TestValidation:
    def test_valid_values_have_no_problems(self) -> None:
        assert problems({"name": "ledger", "owner": "team-a"}) == []

    def test_a_required_field_is_named_with_its_title(self) -> None:
        assert problems({"name": "ledger"}) == [
            ParameterProblem("owner", "Owner (owner) is required: fill it in")
        ]

    def test_a_pattern_mismatch_says_the_rule_and_the_help(self) -> None:
        [problem] = problems({"name": "Ledger!", "owner": "a"})
        assert problem.field == "name"
        assert "does not match the pattern ^[a-z][a-z0-9-]*$" in problem.message
        assert "lower case letters" in problem.message

    def test_enum_type_and_range(self) -> None:
        found = {
            p.field: p.message
            for p in problems(
                {"name": "x", "owner": "a", "language": "cobol", "replicas": 9, "database": "yes"}
            )
        }
        assert "must be one of python, go" in found["language"]
        assert "must be 5 or less" in found["replicas"]
        assert "must be a boolean" in found["database"]

    def test_a_dependency_requires_its_fields_once_chosen(self) -> None:
        assert problems({"name": "x", "owner": "a", "database": True, "engine": "mysql"}) == []
        values = {"name": "x", "owner": "a", "database": True}
        assert engine.validate_parameters(ENTITY, values)  # no engine, no defaults applied

    def test_if_then_is_checked(self) -> None:
        entity = template(
            [],
            parameters={
                "properties": {"kind": {"type": "string"}, "port": {"type": "integer"}},
                "if": {"properties": {"kind": {"const": "service"}}},
                "then": {"required": ["port"]},
            },
        )
        assert engine.validate_parameters(entity, {"kind": "library"}) == []
        [problem] = engine.validate_parameters(entity, {"kind": "service"})
        assert problem.field == "port"


class TestDefaults:
    def test_defaults_fill_what_was_not_given(self) -> None:
        completed = engine.apply_defaults(ENTITY, {"name": "x", "replicas": 3})
        assert completed == {"name": "x", "replicas": 3, "language": "python", "database": False}

    def test_the_chosen_dependency_branch_gives_its_defaults(self) -> None:
        completed = engine.apply_defaults(ENTITY, {"database": True})
        assert completed["engine"] == "postgres"

    def test_the_given_values_are_not_changed(self) -> None:
        given = {"name": "x"}
        engine.apply_defaults(ENTITY, given)
        assert given == {"name": "x"}


class TestSecrets:
    def test_a_secret_field_goes_to_secrets_not_parameters(self) -> None:
        parameters, secrets = engine.split_secrets(
            ENTITY, {"name": "x", "token": "s3cret", "password": "hunter2"}
        )
        assert parameters == {"name": "x", "password": "hunter2"}
        assert secrets == {"token": "s3cret"}

    def test_secret_and_password_fields_are_masked(self) -> None:
        assert engine.secret_fields(ENTITY) == {"token", "password"}


class TestCheckTemplate:
    def test_a_good_template_has_no_problems(self) -> None:
        steps = [{"id": "fetch", "action": "fetch:template", "input": {"url": "./s"}}]
        assert engine.check_template(template(steps, parameters=PAGES), ACTIONS) == []

    def test_each_problem_names_the_step_or_field(self) -> None:
        steps = [
            {"id": "fetch", "action": "fetch:template"},
            {"id": "fetch", "action": "fetch:plain"},
            {"action": "debug:log"},
            {"id": "publish", "action": "publish:gitlab"},
            {"id": "nothing"},
        ]
        found = engine.check_template(
            template(steps, parameters=[{"properties": {"x": {"type": "strin"}}}]), ACTIONS
        )
        assert "spec.steps[1] has the id 'fetch' of spec.steps[0]" in found[0]
        assert "spec.steps[2] has no id" in found[1]
        assert "spec.steps[3] (publish) uses the unknown action 'publish:gitlab'" in found[2]
        assert "publish:git" in found[2]
        assert "spec.steps[4] (nothing) has no action" in found[3]
        assert "spec.parameters[0].properties.x.type is not valid JSON Schema" in found[4]
