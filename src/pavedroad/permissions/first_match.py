"""Deciding with a policy file's rules: the first matching rule decides, then the default.

Without a resource, rules about the resource cannot be decided; the first-match list then
becomes one condition (``C1 ? d1 : C2 ? d2 : ... : default``, simplified) to check on each
resource, which is what a CONDITIONAL decision carries.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pavedroad.identity.schemas import Principal
from pavedroad.permissions.conditions import Condition, describe
from pavedroad.permissions.decision import Decision, Result
from pavedroad.permissions.evaluation import Outcome, Value, evaluate, if_then_else
from pavedroad.permissions.policy import Effect, Policy, PolicyRule
from pavedroad.permissions.registry import Permission

DEFAULT = "default"


@dataclass(frozen=True, slots=True)
class Step:
    """One policy rule as the walk met it; ``outcome`` None: the rule is about other
    permissions, or an earlier rule decided first (``reached`` False)."""

    rule: PolicyRule
    outcome: Outcome | None
    reached: bool = True


@dataclass(slots=True)
class Walk:
    steps: list[Step] = field(default_factory=list)
    decided_by: PolicyRule | None = None
    pending: list[tuple[PolicyRule, Condition]] = field(default_factory=list)
    value: Value = False


def walk(
    policy: Policy,
    permission: Permission,
    principal: Principal,
    resource: Mapping[str, Any] | None,
) -> Walk:
    """Every rule of ``policy`` in order, evaluated until one decides."""
    result = Walk()
    for rule in policy.rules:
        if not rule.covers(permission.name):
            result.steps.append(Step(rule, None))
            continue
        if result.decided_by is not None:
            result.steps.append(Step(rule, None, reached=False))
            continue
        outcome = Outcome(True)
        if rule.condition is not None:
            outcome = evaluate(rule.condition, principal, resource)
        result.steps.append(Step(rule, outcome))
        if outcome.value is True:
            result.decided_by = rule
        elif not isinstance(outcome.value, bool):
            result.pending.append((rule, outcome.value))
    last = result.decided_by.decision if result.decided_by else policy.default
    value: Value = last is Effect.ALLOW
    for rule, condition in reversed(result.pending):
        value = if_then_else(condition, rule.decision is Effect.ALLOW, value)
    result.value = value
    return result


def decision_of(
    walked: Walk,
    permission: Permission,
    principal: Principal,
    resource: Mapping[str, Any] | None,
) -> Decision:
    """The decision a walk arrived at, with its explanation."""
    if not isinstance(walked.value, bool):
        first = walked.pending[0][0].name
        return Decision.conditional(permission.name, first, walked.value, principal)
    rule = walked.decided_by
    name = rule.name if rule is not None else DEFAULT
    reasons = _reasons(walked, rule)
    if walked.value:
        if rule is None:
            text = f"Allowed by the policy's default: no rule about {permission.name} matched"
        else:
            text = f"Allowed by rule '{rule.name}'" + (f": {reasons}" if reasons else "")
        return Decision(Result.ALLOW, permission.name, name, text)
    if rule is not None:
        text = f"Denied by rule '{rule.name}'" + (f": {reasons}" if reasons else "")
        return Decision(Result.DENY, permission.name, name, text)
    return Decision(
        Result.DENY, permission.name, name, _denied(walked, permission, principal, resource)
    )


def _reasons(walked: Walk, rule: PolicyRule | None) -> str:
    for step in walked.steps:
        if step.rule is rule and step.outcome is not None:
            return " and ".join(step.outcome.reasons)
    return ""


def _denied(
    walked: Walk,
    permission: Permission,
    principal: Principal,
    resource: Mapping[str, Any] | None,
) -> str:
    on = f" on {describe_resource(resource, permission)}" if resource is not None else ""
    text = f"Denied: no rule allows {permission.name}{on} to {principal.ref}"
    missed = [
        step
        for step in walked.steps
        if step.rule.decision is Effect.ALLOW
        and step.outcome is not None
        and step.outcome.value is False
    ]
    # A rule written for this permission says more than one for every permission (``*``).
    named = [step for step in missed if permission.name in step.rule.permissions]
    for step in named or missed:
        because = " and ".join(step.outcome.reasons) if step.outcome else ""
        text += f"; rule '{step.rule.name}' {because or 'did not match'}"
    return text


def trace(walked: Walk, policy: Policy, permission: Permission) -> list[str]:
    """One line per policy rule and the default: whether it applied and why."""
    lines = [f"policy: {policy.source}"]
    for step in walked.steps:
        lines.append(f"{step.rule.heading()}: {_step_text(step, permission)}")
    used = walked.decided_by is None and isinstance(walked.value, bool) and not walked.pending
    lines.append(f"default: {policy.default.value}" + (" — decides" if used else ""))
    return lines


def _step_text(step: Step, permission: Permission) -> str:
    if not step.reached:
        return "not reached (an earlier rule decided)"
    if step.outcome is None:
        return f"not about {permission.name}"
    reasons = " and ".join(step.outcome.reasons)
    if step.outcome.value is True:
        why = f" ({reasons})" if reasons else " (no condition)"
        return f"matches{why} — decides {step.rule.decision.value}"
    if step.outcome.value is False:
        return f"does not match ({reasons or 'its condition is false'})"
    return f"depends on the resource: {describe(step.outcome.value)}"


def describe_resource(resource: Mapping[str, Any], permission: Permission) -> str:
    """A resource in a few words: an entity's ref, a location's id, ``environment=dev, ...``."""
    metadata = resource.get("metadata")
    if "kind" in resource and isinstance(metadata, Mapping):
        namespace = metadata.get("namespace") or "default"
        return f"{resource['kind']}:{namespace}/{metadata.get('name')}".lower()
    for key in ("ref", "id"):
        if resource.get(key):
            return f"{permission.resource_type or 'resource'} {resource[key]}"
    scalars = [f"{k}={v}" for k, v in resource.items() if isinstance(v, str | int | float | bool)]
    return ", ".join(scalars) or "the resource"
