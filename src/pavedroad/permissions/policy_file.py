"""Reading a policy file: YAML checked against the declared permissions and the known rules.

Every problem is collected (not only the first) with its file, line and column, the policy
rule's index and name, and how to fix it. The format is described in ``docs/permissions.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from pavedroad.core.errors import InputError
from pavedroad.permissions.conditions import AllOf, AnyOf, Condition, Not, RuleCondition
from pavedroad.permissions.policy import Effect, Policy, PolicyRule
from pavedroad.permissions.policy_yaml import (
    PolicyProblem,
    PolicySyntaxError,
    compose,
    is_mapping,
    is_null,
    is_sequence,
    position,
    shape,
    text_of,
    value_at,
    value_of,
)
from pavedroad.permissions.registry import (
    Permission,
    UnknownPermissionError,
    did_you_mean,
    get_permission,
    matching_permissions,
)
from pavedroad.permissions.rules import Rule, RuleParamsError, RuleRegistry

TOP_KEYS = ("rules", "default")
RULE_KEYS = ("name", "description", "permissions", "if", "decision")
JUNCTIONS = ("all", "any", "not")
WILDCARDS = set("*?[")
CONDITION_HINT = "write all: [...], any: [...], not: {...} or {rule_name: parameters}"


class PolicyFileError(InputError):
    """A policy file that cannot be used; ``problems`` says everything wrong with it."""

    def __init__(self, source: str, problems: list[PolicyProblem]) -> None:
        lines = "\n".join(problem.describe() for problem in problems)
        super().__init__(
            f"the permission policy {source} is invalid:\n{lines}",
            problems=[problem.to_dict() for problem in problems],
            hint="check it with: pavedroad permissions validate FILE",
        )
        self.problems = problems


def load_policy_file(path: Path, rules: RuleRegistry) -> Policy:
    """The policy in ``path``; raises :class:`PolicyFileError` when it is unreadable or invalid."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        problem = PolicyProblem(str(path), None, None, f"cannot read the file: {error}")
        raise PolicyFileError(str(path), [problem]) from None
    policy, problems = read_policy(text, str(path), rules)
    if policy is None:
        raise PolicyFileError(str(path), problems)
    return policy


def read_policy(
    text: str, source: str, rules: RuleRegistry
) -> tuple[Policy | None, list[PolicyProblem]]:
    """The policy in ``text`` and its problems (the policy is None when there are any)."""
    try:
        root = compose(text)
    except PolicySyntaxError as error:
        hint = "check the indentation and quoting here"
        return None, [PolicyProblem(source, error.line, error.column, error.message, hint)]
    reader = _Reader(source, rules)
    policy = reader.policy(root)
    return (policy if not reader.problems else None), reader.problems


class _Reader:
    def __init__(self, source: str, rules: RuleRegistry) -> None:
        self.source = source
        self.rules = rules
        self.problems: list[PolicyProblem] = []
        self.rule_index: int | None = None
        self.rule_name: str | None = None

    def problem(self, node: yaml.Node | None, message: str, hint: str = "") -> None:
        line, column = position(node) if node is not None else (1, 1)
        self.problems.append(
            PolicyProblem(self.source, line, column, message, hint, self.rule_index, self.rule_name)
        )

    def policy(self, root: yaml.Node | None) -> Policy | None:
        top_hint = "a policy is a mapping with rules: [...] and default: allow or deny"
        if root is None or not is_mapping(root):
            self.problem(root, f"the policy must be a mapping, found {shape(root)}", top_hint)
            return None
        items = self.mapping(root, TOP_KEYS, top_hint)
        default = Effect.DENY
        if "default" in items:
            default = self.effect(items["default"], "default") or Effect.DENY
        rules_node = items.get("rules")
        if rules_node is None or not is_sequence(rules_node):
            found = "no rules" if rules_node is None else shape(rules_node)
            self.problem(rules_node or root, f"rules must be a list, found {found}", top_hint)
            return None
        rules = [self.rule(node, index) for index, node in enumerate(rules_node.value, 1)]
        self.rule_index = self.rule_name = None
        self.check_unique_names(rules_node.value, rules)
        kept = tuple(rule for rule in rules if rule is not None)
        return Policy(kept, default, self.source)

    def mapping(self, node: yaml.Node, keys: tuple[str, ...], hint: str) -> dict[str, yaml.Node]:
        items: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = text_of(key_node)
            if key is None or key not in keys:
                shown = key if key is not None else shape(key_node)
                message = f"unknown key {shown!r}{did_you_mean(str(shown), keys)}"
                self.problem(key_node, message, hint)
            elif key in items:
                line, _ = position(items[key])
                self.problem(key_node, f"duplicate key {key!r} (also on line {line})", hint)
            else:
                items[key] = value_node
        return items

    def effect(self, node: yaml.Node, key: str) -> Effect | None:
        value = text_of(node)
        if value in (Effect.ALLOW.value, Effect.DENY.value):
            return Effect(value)
        self.problem(node, f"{key} must be allow or deny, found {shape(node)}")
        return None

    def rule(self, node: yaml.Node, index: int) -> PolicyRule | None:
        self.rule_index, self.rule_name = index, None
        hint = "a rule has: " + ", ".join(RULE_KEYS)
        if not is_mapping(node):
            self.problem(node, f"a rule must be a mapping, found {shape(node)}", hint)
            return None
        self.rule_name = value_at(node, "name")  # known before the rule's other problems are told
        items = self.mapping(node, RULE_KEYS, hint)
        self.rule_name = self.text(items.get("name"), node, "name")
        patterns, permissions = self.permissions(items.get("permissions"), node)
        decision = None
        if "decision" not in items:
            self.problem(node, "decision is missing", "add decision: allow or decision: deny")
        else:
            decision = self.effect(items["decision"], "decision")
        condition = self.condition(items["if"], permissions) if "if" in items else None
        description = text_of(items["description"]) if "description" in items else None
        if self.rule_name is None or not patterns or decision is None:
            return None
        if "if" in items and condition is None:
            return None
        line, _ = position(node)
        return PolicyRule(
            index, self.rule_name, patterns, decision, condition, description or "", line
        )

    def text(self, node: yaml.Node | None, parent: yaml.Node, key: str) -> str | None:
        value = text_of(node) if node is not None else None
        if node is None:
            self.problem(parent, f"{key} is missing", "add name: a-short-kebab-case-name")
        elif not value:
            self.problem(node, f"{key} must be a non-empty string, found {shape(node)}")
        return value or None

    def permissions(
        self, node: yaml.Node | None, parent: yaml.Node
    ) -> tuple[tuple[str, ...], list[Permission]]:
        hint = "list permission names or patterns, e.g. permissions: [catalog.entity.read]"
        if node is None:
            self.problem(parent, "permissions is missing", hint)
            return (), []
        items = node.value if is_sequence(node) else [node]
        if not items or is_null(node):
            self.problem(node, "permissions is empty", hint)
            return (), []
        patterns: list[str] = []
        declared: list[Permission] = []
        for item in items:
            name = text_of(item)
            if not name:
                self.problem(item, f"a permission must be a name, found {shape(item)}", hint)
                continue
            found = self.permission(item, name)
            if found:
                patterns.append(name)
                declared.extend(found)
        return (tuple(patterns) if len(patterns) == len(items) else ()), declared

    def permission(self, node: yaml.Node, name: str) -> list[Permission]:
        if WILDCARDS & set(name):
            found = matching_permissions(name)
            if not found:
                hint = "pavedroad permissions list shows the declared permissions"
                self.problem(node, f"the pattern {name!r} matches no declared permission", hint)
            return found
        try:
            return [get_permission(name)]
        except UnknownPermissionError as error:
            self.problem(node, error.message, "pavedroad permissions list shows them all")
            return []

    def condition(self, node: yaml.Node, permissions: list[Permission]) -> Condition | None:
        if not is_mapping(node) or len(node.value) != 1:
            found = shape(node)
            if is_mapping(node):
                keys = ", ".join(str(text_of(key)) for key, _ in node.value)
                found = f"{len(node.value)} keys ({keys})" if keys else "an empty mapping"
            message = f"a condition has exactly one key, found {found}"
            self.problem(node, message, f"{CONDITION_HINT}; to require several, use all")
            return None
        key_node, value = node.value[0]
        key = text_of(key_node) or ""
        if key in JUNCTIONS:
            return self.junction(key, value, permissions)
        return self.rule_check(key_node, key, value, permissions)

    def junction(
        self, key: str, node: yaml.Node, permissions: list[Permission]
    ) -> Condition | None:
        if key == "not":
            inner = self.condition(node, permissions)
            return Not(inner) if inner is not None else None
        if not is_sequence(node) or not node.value:
            self.problem(node, f"{key} must be a non-empty list of conditions", CONDITION_HINT)
            return None
        children = [self.condition(child, permissions) for child in node.value]
        if any(child is None for child in children):
            return None
        kept = tuple(child for child in children if child is not None)
        return AllOf(kept) if key == "all" else AnyOf(kept)

    def rule_check(
        self, key_node: yaml.Node, key: str, node: yaml.Node, permissions: list[Permission]
    ) -> Condition | None:
        if key not in self.rules:
            hint = f"{CONDITION_HINT}; the rules are: {', '.join(self.rules.names())}"
            message = f"unknown rule {key!r}{did_you_mean(key, self.rules.names())}"
            self.problem(key_node, message, hint)
            return None
        rule = self.rules.get_rule(key)
        try:
            params = rule.parse_params(None if is_null(node) else value_of(node))
        except RuleParamsError as error:
            example = f"e.g. {rule.name}: {rule.examples[0]}" if rule.examples else ""
            self.problem(key_node if is_null(node) else node, error.message, example)
            return None
        if not self.resource_type_fits(key_node, rule, permissions):
            return None
        return RuleCondition(rule, params)

    def resource_type_fits(
        self, node: yaml.Node, rule: Rule[Any], permissions: list[Permission]
    ) -> bool:
        if rule.resource_type is None:
            return True
        others = [p for p in permissions if p.resource_type != rule.resource_type]
        if not others:
            return True
        named = ", ".join(f"{p.name} ({p.resource_type or 'no resource'})" for p in others[:3])
        more = f" and {len(others) - 3} more" if len(others) > 3 else ""
        self.problem(
            node,
            f"{rule.name} is about {rule.resource_type} resources, but the rule's permissions "
            f"include {named}{more}",
            f"use {rule.name} only with {rule.resource_type} permissions; give the others a "
            "rule of their own",
        )
        return False

    def check_unique_names(self, nodes: list[yaml.Node], rules: list[PolicyRule | None]) -> None:
        seen: dict[str, int] = {}
        for node, rule in zip(nodes, rules, strict=True):
            if rule is None:
                continue
            if rule.name in seen:
                self.rule_index, self.rule_name = rule.index, rule.name
                message = f"another rule ({seen[rule.name]}) has the name {rule.name!r}"
                self.problem(node, message, "give every rule its own name")
            seen.setdefault(rule.name, rule.index)
        self.rule_index = self.rule_name = None
