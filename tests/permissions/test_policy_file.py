"""Policy files: every mistake is reported with its line, column, rule and a way to fix it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from pavedroad.catalog.permission_rules import CatalogPermissionRules
from pavedroad.config import Settings
from pavedroad.permissions import (
    Effect,
    PolicyFileError,
    PolicyProblem,
    RuleRegistry,
    load_policy_file,
    read_policy,
)
from pavedroad.permissions.builtin import BuiltinPermissionRules
from pavedroad.permissions.conditions import AllOf, RuleCondition
from pavedroad.permissions.policy import DEFAULT_POLICY_FILE
from tests.helpers import write


@pytest.fixture
def rules() -> RuleRegistry:
    settings = Settings(permissions={"admins": ["group:default/admins"]})
    return RuleRegistry(
        [
            *BuiltinPermissionRules().pavedroad_permission_rules(settings),
            *CatalogPermissionRules().pavedroad_permission_rules(settings),
        ]
    )


def problems_of(text: str, rules: RuleRegistry) -> list[PolicyProblem]:
    policy, problems = read_policy(textwrap.dedent(text).lstrip("\n"), "policy.yaml", rules)
    assert policy is None
    return problems


def one_rule(body: str) -> str:
    """A policy with one rule whose lines (after ``- name: r``) are ``body``."""
    lines = "".join(f"    {line}\n" for line in textwrap.dedent(body).strip().splitlines())
    return f"rules:\n  - name: r\n{lines}"


BAD_RULES = [
    pytest.param(
        "permision: [catalog.entity.read]\ndecision: allow",
        3,
        5,
        "rule 1 'r': unknown key 'permision'; did you mean 'permissions'? — a rule has: name, "
        "description, permissions, if, decision",
        id="unknown-key",
    ),
    pytest.param(
        "permissions: [catalog.entity.raed]\ndecision: allow",
        3,
        19,
        "rule 1 'r': unknown permission 'catalog.entity.raed'; did you mean 'catalog.entity.read'",
        id="unknown-permission",
    ),
    pytest.param(
        "permissions: ['deploy.*']\ndecision: allow",
        3,
        19,
        "the pattern 'deploy.*' matches no declared permission",
        id="pattern-matching-nothing",
    ),
    pytest.param(
        "permissions: [catalog.entity.delete]\nif: {is_owner: {}}\ndecision: allow",
        4,
        10,
        "unknown rule 'is_owner'; did you mean 'is_entity_owner'?",
        id="unknown-rule",
    ),
    pytest.param(
        "permissions: [catalog.entity.read]\nif: {is_entity_kind: {kind: api}}\ndecision: allow",
        4,
        26,
        "wrong parameters for is_entity_kind: unknown parameter 'kind'; did you mean 'kinds'? "
        "(takes kinds) — e.g. is_entity_kind: component",
        id="wrong-params",
    ),
    pytest.param(
        "permissions: [catalog.entity.read]\nif: {has_annotation: {value: x}}\ndecision: allow",
        4,
        26,
        "wrong parameters for has_annotation: parameter 'key' is required",
        id="missing-param",
    ),
    pytest.param(
        "permissions: [catalog.entity.read]\nif: {environment_is: dev}\ndecision: allow",
        4,
        10,
        "environment_is is about deployment resources, but the rule's permissions include "
        "catalog.entity.read (catalog-entity) — use environment_is only with deployment "
        "permissions; give the others a rule of their own",
        id="resource-rule-of-another-type",
    ),
    pytest.param(
        "permissions: [scaffolder.template.run]\nif: {is_entity_owner: {}}\ndecision: allow",
        4,
        10,
        "include scaffolder.template.run (no resource)",
        id="resource-rule-on-a-permission-without-resource",
    ),
    pytest.param(
        "permissions: []\ndecision: allow",
        3,
        18,
        "rule 1 'r': permissions is empty",
        id="empty-permissions",
    ),
    pytest.param(
        "permissions: [audit.read]\ndecision: permit",
        4,
        15,
        "decision must be allow or deny, found 'permit'",
        id="bad-decision",
    ),
    pytest.param(
        "permissions: [audit.read]\nif: {user_in_group: admins, environment_is: dev}\n"
        "decision: allow",
        4,
        9,
        "a condition has exactly one key, found 2 keys (user_in_group, environment_is)",
        id="condition-with-two-keys",
    ),
    pytest.param(
        "permissions: [audit.read]\nif: {all: []}\ndecision: allow",
        4,
        15,
        "all must be a non-empty list of conditions",
        id="empty-all",
    ),
    pytest.param(
        "permissions: [audit.read]",
        2,
        5,
        "decision is missing — add decision: allow or decision: deny",
        id="missing-decision",
    ),
]


class TestRuleProblems:
    @pytest.mark.parametrize(("body", "line", "column", "message"), BAD_RULES)
    def test_the_problem_names_line_column_rule_and_fix(
        self, rules: RuleRegistry, body: str, line: int, column: int, message: str
    ) -> None:
        problems = problems_of(one_rule(body), rules)
        described = [problem.describe() for problem in problems]
        assert any(
            text.startswith(f"policy.yaml:{line}:{column}: ") and message in text
            for text in described
        ), described


class TestFileProblems:
    def test_yaml_syntax_errors_have_line_and_column(self, rules: RuleRegistry) -> None:
        [problem] = problems_of("rules:\n  - name: r\n    permissions: [audit.read\n", rules)
        assert (problem.line, problem.column) == (4, 1)
        assert problem.message.startswith("YAML syntax error: ")

    def test_a_policy_must_be_a_mapping_with_rules(self, rules: RuleRegistry) -> None:
        [problem] = problems_of("- name: r\n", rules)
        assert problem.describe() == (
            "policy.yaml:1:1: the policy must be a mapping, found a list — a policy is a "
            "mapping with rules: [...] and default: allow or deny"
        )

    def test_an_unknown_top_level_key_and_a_bad_default(self, rules: RuleRegistry) -> None:
        problems = problems_of("rules: []\ndefualt: deny\ndefault: maybe\n", rules)
        assert [(p.line, p.column, p.message) for p in problems] == [
            (2, 1, "unknown key 'defualt'; did you mean 'default'?"),
            (3, 10, "default must be allow or deny, found 'maybe'"),
        ]

    def test_two_rules_may_not_share_a_name(self, rules: RuleRegistry) -> None:
        text = """
        rules:
          - {name: same, permissions: [audit.read], decision: allow}
          - {name: same, permissions: [audit.export], decision: allow}
        """
        [problem] = problems_of(text, rules)
        assert problem.describe() == (
            "policy.yaml:3:5: rule 2 'same': another rule (1) has the name 'same' — give every "
            "rule its own name"
        )

    def test_every_problem_is_reported_not_only_the_first(self, rules: RuleRegistry) -> None:
        text = """
        rules:
          - {name: a, permissions: [nope], decision: allow}
          - {name: b, permissions: [audit.read], decision: never}
        """
        problems = problems_of(text, rules)
        assert [(p.rule_index, p.rule_name) for p in problems] == [(1, "a"), (2, "b")]

    def test_loading_a_bad_file_raises_with_the_path_in_every_line(
        self, rules: RuleRegistry, tmp_path: Path
    ) -> None:
        path = write(tmp_path / "policy.yaml", one_rule("permissions: [audit.raed]\n"))
        with pytest.raises(PolicyFileError) as error:
            load_policy_file(path, rules)
        assert f"{path}:3:19: rule 1 'r': unknown permission 'audit.raed'" in error.value.message
        assert error.value.status_code == 400


class TestGoodFiles:
    def test_the_default_policy_is_valid(self, rules: RuleRegistry) -> None:
        policy = load_policy_file(DEFAULT_POLICY_FILE, rules)
        assert policy.default is Effect.DENY
        assert policy.rules[0].name == "admins-may-do-everything"

    def test_shorthands_patterns_and_junctions_are_read_into_dataclasses(
        self, rules: RuleRegistry
    ) -> None:
        text = """
        rules:
          - name: leads-stage
            permissions: deployment.*
            if:
              all:
                - environment_is: [Staging]
                - user_in_group: ["group:*/*team-lead*"]
            decision: allow
        """
        policy, problems = read_policy(textwrap.dedent(text), "p.yaml", rules)
        assert problems == []
        assert policy is not None
        [rule] = policy.rules
        assert rule.covers("deployment.trigger") and not rule.covers("audit.read")
        assert isinstance(rule.condition, AllOf)
        first = rule.condition.conditions[0]
        assert isinstance(first, RuleCondition)
        assert first.rule.name == "environment_is"
        assert first.params.model_dump() == {"environments": ("staging",)}
        assert policy.default is Effect.DENY
