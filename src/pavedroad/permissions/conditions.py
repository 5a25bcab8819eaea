"""Conditions: trees of rule checks joined by ``all``, ``any`` and ``not``.

A policy rule's ``if`` is a condition; so is what remains of a decision that depends on the
resource (a CONDITIONAL decision). Conditions are plain frozen data; this module turns them into
SQL and into words.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, not_, or_

from pavedroad.identity.schemas import Principal
from pavedroad.permissions.rules import Rule, RuleParams


@dataclass(frozen=True, slots=True)
class RuleCondition:
    """One rule with its validated parameters: ``{is_entity_kind: [component]}``."""

    rule: Rule[Any]
    params: RuleParams

    @property
    def resource_type(self) -> str | None:
        return self.rule.resource_type


@dataclass(frozen=True, slots=True)
class AllOf:
    conditions: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    conditions: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class Not:
    condition: Condition


Condition = RuleCondition | AllOf | AnyOf | Not


def leaves(condition: Condition) -> list[RuleCondition]:
    """Every rule check in ``condition``, in order."""
    if isinstance(condition, RuleCondition):
        return [condition]
    if isinstance(condition, Not):
        return leaves(condition.condition)
    return [leaf for child in condition.conditions for leaf in leaves(child)]


def condition_sql(
    condition: Condition, principal: Principal, resource_type: str
) -> ColumnElement[bool]:
    """``condition`` as a SQL condition on ``resource_type``'s table."""
    if isinstance(condition, RuleCondition):
        if condition.resource_type != resource_type:
            raise ValueError(
                f"rule {condition.rule.name} is about {condition.resource_type or 'the user'}, "
                f"not {resource_type}"
            )
        return condition.rule.to_sql(condition.params, principal)
    if isinstance(condition, Not):
        return not_(condition_sql(condition.condition, principal, resource_type))
    parts = [condition_sql(child, principal, resource_type) for child in condition.conditions]
    return and_(*parts) if isinstance(condition, AllOf) else or_(*parts)


def describe(condition: Condition) -> str:
    """The condition in a line: ``is_entity_owner or not has_annotation(key=x)``."""
    if isinstance(condition, RuleCondition):
        return condition.rule.summary(condition.params)
    if isinstance(condition, Not):
        return f"not {_grouped(condition.condition)}"
    joiner = " and " if isinstance(condition, AllOf) else " or "
    return joiner.join(_grouped(child) for child in condition.conditions)


def _grouped(condition: Condition) -> str:
    text = describe(condition)
    return f"({text})" if isinstance(condition, AllOf | AnyOf) else text


def to_data(condition: Condition) -> dict[str, Any]:
    """The condition as the policy file writes it (for JSON output and the API)."""
    if isinstance(condition, RuleCondition):
        params = condition.params.model_dump(mode="json")
        return {condition.rule.name: params}
    if isinstance(condition, Not):
        return {"not": to_data(condition.condition)}
    key = "all" if isinstance(condition, AllOf) else "any"
    return {key: [to_data(child) for child in condition.conditions]}
