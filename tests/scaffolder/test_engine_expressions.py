"""Expressions as Backstage renders them: ``${{ }}`` keeps types, empty becomes nothing, the
filters templates use, and errors that name the missing value and the expression."""

from __future__ import annotations

from typing import Any

import pytest

from pavedroad.scaffolder.engine.environment import template_environment
from pavedroad.scaffolder.engine.rendering import (
    LEFT_OUT,
    ExpressionError,
    render_text,
    render_value,
)
from pavedroad.scaffolder.engine.scope import Scope, scoped

ENV = template_environment(allowed_hosts=("github.com", "gitlab.example.com"))
PARAMETERS = {
    "name": "Payments API",
    "repoUrl": "github.com?owner=acme&repo=payments",
    "port": 8080,
    "enabled": False,
    "tags": ["java", "grpc"],
    "owner": "group:platform/team-a",
    "nested": {"a": {"b": [10, 20]}},
}
DECLARED = [*PARAMETERS, "description", "optional"]


def context(**extra: Any) -> dict[str, Any]:
    return {
        "parameters": Scope(scoped(PARAMETERS, "parameters"), "parameters", DECLARED),
        "steps": Scope(
            {"fetch": scoped({"output": {"path": "out"}}, "steps.fetch")},
            "steps",
            known=["fetch", "publish"],
        ),
        **extra,
    }


def value(template: Any, **extra: Any) -> Any:
    return render_value(ENV, template, context(**extra))


def error_of(template: str) -> str:
    with pytest.raises(ExpressionError) as raised:
        value(template)
    return str(raised.value)


class TestTypes:
    def test_a_single_expression_keeps_the_type_of_its_value(self) -> None:
        assert value("${{ parameters.port }}") == 8080
        assert value("${{ parameters.enabled }}") is False
        assert value("${{ parameters.tags }}") == ["java", "grpc"]
        assert value("${{ parameters.nested }}") == {"a": {"b": [10, 20]}}
        assert value("${{parameters.port}}") == 8080

    def test_text_around_an_expression_makes_a_string_shown_as_javascript_would(self) -> None:
        assert value("port ${{ parameters.port }}") == "port 8080"
        assert value("on: ${{ parameters.enabled }}") == "on: false"
        assert value("${{ parameters.name }} and ${{ parameters.port }}") == "Payments API and 8080"

    def test_an_empty_rendering_leaves_the_key_out(self) -> None:
        rendered = value(
            {"keep": "${{ parameters.name }}", "gone": "${{ parameters.description }}"}
        )
        assert rendered == {"keep": "Payments API"}
        assert value("${{ parameters.description }}") is LEFT_OUT
        assert value(["a", "${{ parameters.optional }}", "b"]) == ["a", "b"]

    def test_inline_if_without_else_gives_nothing_when_false(self) -> None:
        assert value("${{ parameters.description if parameters.description }}") is LEFT_OUT
        expression = "${{ parameters.description if parameters.description else parameters.name }}"
        assert value(expression) == "Payments API"

    def test_non_strings_are_left_as_they_are(self) -> None:
        assert value({"port": 8080, "on": True, "none": None}) == {
            "port": 8080,
            "on": True,
            "none": None,
        }

    def test_nunjucks_spellings_work(self) -> None:
        assert value("${{ parameters.port === 8080 }}") is True
        assert value("${{ parameters.port !== 8080 }}") is False
        assert value("${{ parameters.tags.length }}") == 2
        assert value("${{ null }}") is None
        assert value("${{ 'port-' + parameters.port }}") == "port-8080"
        text = "{% if parameters.port > 9000 %}big{% elseif parameters.port > 80 %}mid{% endif %}"
        assert value(text) == "mid"

    def test_steps_outputs_are_read_with_dots_or_brackets(self) -> None:
        assert value("${{ steps.fetch.output.path }}") == "out"
        assert value("${{ steps['fetch'].output.path }}") == "out"

    def test_a_step_that_has_not_run_has_no_outputs(self) -> None:
        assert value("${{ steps.publish.output.remoteUrl }}") is LEFT_OUT


class TestFilters:
    def test_parse_repo_url_gives_the_parts_present(self) -> None:
        assert value("${{ parameters.repoUrl | parseRepoUrl }}") == {
            "host": "github.com",
            "owner": "acme",
            "repo": "payments",
        }
        gitlab = value("${{ 'gitlab.example.com?project=42' | parseRepoUrl }}")
        assert gitlab == {"host": "gitlab.example.com", "project": "42"}

    def test_parse_repo_url_refuses_a_host_not_allowed_and_missing_parts(self) -> None:
        assert "not allowed" in error_of("${{ 'evil.example.com?owner=a&repo=b' | parseRepoUrl }}")
        assert "has no owner" in error_of("${{ 'github.com?repo=b' | parseRepoUrl }}")

    def test_parse_entity_ref_with_and_without_defaults(self) -> None:
        assert value("${{ parameters.owner | parseEntityRef }}") == {
            "kind": "group",
            "namespace": "platform",
            "name": "team-a",
        }
        parsed = value("${{ 'team-b' | parseEntityRef({ 'defaultKind': 'group' }) }}")
        assert parsed == {"kind": "group", "namespace": "default", "name": "team-b"}
        assert "missing or empty kind" in error_of("${{ 'team-b' | parseEntityRef }}")

    def test_pick_and_project_slug(self) -> None:
        assert value("${{ parameters.nested | pick('a.b[1]') }}") == 20
        assert value("${{ parameters.nested | pick('a.nothing') }}") is LEFT_OUT
        assert value("${{ parameters.repoUrl | projectSlug }}") == "acme/payments"

    def test_dump_is_json_as_javascript_writes_it(self) -> None:
        assert value("x: ${{ parameters.name | dump }}") == 'x: "Payments API"'
        assert value("${{ parameters.nested | dump }}") == '{"a":{"b":[10,20]}}'
        assert value("${{ parameters.tags | dump(2) }}") == '[\n  "java",\n  "grpc"\n]'

    @pytest.mark.parametrize(
        ("expression", "expected"),
        [
            ("parameters.description | default('none')", "none"),
            ("parameters.name | replace(' ', '-') | lower", "payments-api"),
            ("parameters.name | upper", "PAYMENTS API"),
            ("parameters.tags | join(', ')", "java, grpc"),
            ("parameters.tags | length", 2),
            ("parameters.tags | first", "java"),
            ("parameters.tags | last", "grpc"),
            ("'  x  ' | trim", "x"),
            ("'hello WORLD' | capitalize", "Hello world"),
            ("'hello big-world' | title", "Hello Big-world"),
            ("parameters.tags | sort | reverse | join", "javagrpc"),
            ("'abcdefgh' | truncate(5)", "ab..."),
        ],
    )
    def test_nunjucks_built_ins(self, expression: str, expected: Any) -> None:
        assert value("${{ " + expression + " }}") == expected

    def test_cookiecutter_compat_uses_double_braces_and_jsonify(self) -> None:
        compat = template_environment(cookiecutter_compat=True)
        values = {"cookiecutter": Scope(scoped({"name": "x"}, "cookiecutter"), "cookiecutter")}
        assert render_text(compat, "{{ cookiecutter.name | jsonify }}", values) == '"x"'
        assert render_text(ENV, "{{ keep }} ${{ parameters.port }}", context()) == (
            "{{ keep }} 8080"
        )


class TestMissingValues:
    def test_a_filter_given_a_missing_value_names_it_and_the_expression(self) -> None:
        assert error_of("${{ parameters.description | parseRepoUrl }}") == (
            "${{ parameters.description | parseRepoUrl }}: parameters.description is not set"
        )

    def test_arithmetic_and_concatenation_with_a_missing_value_fail(self) -> None:
        assert "parameters.optional is not set" in error_of("${{ parameters.optional + 1 }}")
        assert "parameters.optional is not set" in error_of("a-${{ 'x' + parameters.optional }}")

    def test_a_parameter_the_template_does_not_declare_is_a_typo(self) -> None:
        assert "parameters.nmae does not exist; did you mean name?" in error_of(
            "${{ parameters.nmae }}"
        )

    def test_an_unknown_step_or_root_name_is_named_with_what_exists(self) -> None:
        assert "steps.fetchh does not exist; did you mean fetch?" in error_of(
            "${{ steps.fetchh.output.path }}"
        )
        assert "parameter is unknown; did you mean parameters?" in error_of("${{ parameter.name }}")

    def test_a_missing_value_can_be_tested(self) -> None:
        assert value("${{ parameters.description is defined }}") is False
        assert value("{% if not parameters.description %}none{% endif %}") == "none"
        assert value("${{ parameters.description | length }}") == 0


class TestSandbox:
    @pytest.mark.parametrize(
        "template",
        [
            "${{ parameters.name.__class__.__mro__ }}",
            "${{ parameters.name.upper() }}",
            "${{ ''.__class__ }}",
            "${{ cycler.__init__.__globals__ }}",
        ],
    )
    def test_templates_reach_no_python_internals_and_call_no_methods(self, template: str) -> None:
        try:
            rendered = value(template)
        except ExpressionError as error:
            assert "cannot call" in str(error) or "unsafe" in str(error) or "not" in str(error)
        else:
            assert rendered is LEFT_OUT  # an unsafe attribute reads as nothing

    def test_macros_and_loops_still_work(self) -> None:
        text = "{% macro item(x) %}<{{ x }}>{% endmacro %}"
        text += "{% for tag in parameters.tags %}${{ item(tag) }}${{ loop.index }}{% endfor %}"
        assert value(text.replace("{{ x }}", "${{ x }}")) == "<java>1<grpc>2"

    def test_mappings_can_be_walked_with_items(self) -> None:
        text = "{% for key, item in parameters.nested.items() %}${{ key }}={{ item }}{% endfor %}"
        assert value(text.replace("{{ item }}", "${{ item.b | join('+') }}")) == "a=10+20"

    def test_a_syntax_error_names_the_expression(self) -> None:
        assert "syntax error" in error_of("${{ (parameters.name }}")
