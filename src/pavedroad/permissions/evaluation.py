"""Evaluating conditions, fully (with a resource) or partially (without one).

Without a resource, rules about the user are decided at once and rules about the resource
remain: the outcome is True, False or the simplified condition still to check. Each outcome
carries the reasons (one sentence per deciding rule check) that explanations are made of.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pavedroad.identity.schemas import Principal
from pavedroad.permissions.conditions import AllOf, AnyOf, Condition, Not, RuleCondition

Value = bool | Condition


@dataclass(frozen=True, slots=True)
class Outcome:
    value: Value
    reasons: tuple[str, ...] = ()


def evaluate(
    condition: Condition, principal: Principal, resource: Mapping[str, Any] | None
) -> Outcome:
    """``condition`` for ``principal``; resource rules stay undecided when ``resource`` is None."""
    if isinstance(condition, RuleCondition):
        return _leaf(condition, principal, resource)
    if isinstance(condition, Not):
        inner = evaluate(condition.condition, principal, resource)
        if isinstance(inner.value, bool):
            return Outcome(not inner.value, inner.reasons)
        return Outcome(Not(inner.value), inner.reasons)
    return _junction(condition, principal, resource)


def _leaf(
    condition: RuleCondition, principal: Principal, resource: Mapping[str, Any] | None
) -> Outcome:
    rule, params = condition.rule, condition.params
    if rule.resource_type is None:
        resource = {}
    elif resource is None:
        return Outcome(condition)
    matched = rule.apply(resource, params, principal)
    return Outcome(matched, (rule.reason(resource, params, principal, matched),))


def _junction(
    condition: AllOf | AnyOf, principal: Principal, resource: Mapping[str, Any] | None
) -> Outcome:
    # ``all`` is decided by its first False, ``any`` by its first True; the others only matter
    # when nothing decides, and then every reason counts.
    decisive = isinstance(condition, AnyOf)
    remaining: list[Condition] = []
    reasons: list[str] = []
    for child in condition.conditions:
        outcome = evaluate(child, principal, resource)
        if outcome.value is decisive:
            return Outcome(decisive, outcome.reasons)
        reasons.extend(outcome.reasons)
        if not isinstance(outcome.value, bool):
            remaining.append(outcome.value)
    if not remaining:
        return Outcome(not decisive, tuple(reasons))
    if len(remaining) == 1:
        return Outcome(remaining[0], tuple(reasons))
    joined = AnyOf(tuple(remaining)) if decisive else AllOf(tuple(remaining))
    return Outcome(joined, tuple(reasons))


def if_then_else(condition: Condition, allow: bool, otherwise: Value) -> Value:
    """``allow if condition else otherwise``, simplified: one link of a first-match chain."""
    if allow:
        if otherwise is True:
            return True
        return condition if otherwise is False else AnyOf((condition, otherwise))
    if otherwise is False:
        return False
    return Not(condition) if otherwise is True else AllOf((Not(condition), otherwise))


def holds(condition: Condition, principal: Principal, resource: Mapping[str, Any]) -> bool:
    """Whether ``condition`` holds on ``resource`` (every rule decided)."""
    value = evaluate(condition, principal, resource).value
    if not isinstance(value, bool):  # a rule of another resource type: never true here
        return False
    return value
