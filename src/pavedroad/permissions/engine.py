"""The policy engine: who may do what, as ALLOW, DENY or CONDITIONAL, with the reason why.

A question goes through, in order: the token's scopes (a permission outside them is denied;
a principal without identity is decided by its scopes alone), the Python policies plugins
contribute (the first with an opinion decides), then the policy file's rules.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from typing import Any

import pluggy

from pavedroad.config import Settings
from pavedroad.identity.schemas import Principal
from pavedroad.permissions.active_policy import ActivePolicy
from pavedroad.permissions.conditions import describe
from pavedroad.permissions.decision import Decision, Result
from pavedroad.permissions.first_match import decision_of, describe_resource, trace, walk
from pavedroad.permissions.hooks import PermissionPolicy
from pavedroad.permissions.registry import Permission, get_permission
from pavedroad.permissions.rules import RuleRegistry

__all__ = ["Decision", "PolicyEngine", "Result"]

SCOPES = "token-scopes"


@dataclass(slots=True)
class _Answer:
    decision: Decision
    trace: list[str] = field(default_factory=list)


class PolicyEngine:
    """Decides permissions for principals; one per process, built by the runtime.

    Raises :class:`~pavedroad.permissions.policy_file.PolicyFileError` when the configured
    policy file is invalid: a server does not start on a policy it cannot read.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        plugins: pluggy.PluginManager,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.rules = RuleRegistry(
            rule
            for group in plugins.hook.pavedroad_permission_rules(settings=settings)
            for rule in group
        )
        self.policies: list[PermissionPolicy] = [
            policy
            for group in plugins.hook.pavedroad_permission_policies(settings=settings)
            for policy in group
        ]
        self.policy = ActivePolicy(settings.permissions.policy_file, self.rules, clock=clock)

    def decide(
        self,
        principal: Principal,
        permission: str | Permission,
        resource: Mapping[str, Any] | None = None,
    ) -> Decision:
        """ALLOW or DENY with a resource; without one also CONDITIONAL, carrying what remains
        to check on each resource (``decision.allows(resource)``, ``decision.to_sql(type)``)."""
        return self._answer(principal, permission, resource).decision

    def explain(
        self,
        principal: Principal,
        permission: str | Permission,
        resource: Mapping[str, Any] | None = None,
    ) -> list[str]:
        """Every step considered, in order, and why it applied or not; the decision last."""
        answer = self._answer(principal, permission, resource)
        return [*answer.trace, f"decision: {answer.decision.explanation}"]

    def _answer(
        self,
        principal: Principal,
        permission: str | Permission,
        resource: Mapping[str, Any] | None,
    ) -> _Answer:
        wanted = get_permission(permission if isinstance(permission, str) else permission.name)
        answer = _scoped(principal, wanted)
        if answer is not None:
            return answer
        lines = [_scope_line(principal, wanted)] if principal.scopes is not None else []
        for policy in self.policies:
            decided = policy.decide(principal, wanted, resource)
            if decided is not None:
                lines.append(f"policy '{policy.name}' decides: {decided.result.value}")
                return _Answer(_settled(decided, principal, resource), lines)
            lines.append(f"policy '{policy.name}': no opinion")
        current = self.policy.current()
        walked = walk(current, wanted, principal, resource)
        lines.extend(trace(walked, current, wanted))
        return _Answer(decision_of(walked, wanted, principal, resource), lines)


def _scoped(principal: Principal, permission: Permission) -> _Answer | None:
    """The answer when token scopes alone decide: outside them, or no identity to ask about."""
    name, scopes = permission.name, principal.scopes
    if scopes is not None and not any(fnmatchcase(name, scope) for scope in scopes):
        text = f"Denied: the token's scopes ({', '.join(scopes) or 'none'}) do not include {name}"
        return _Answer(Decision.deny(name, SCOPES, text), [_scope_line(principal, permission)])
    if principal.identity is not None:
        return None
    if scopes is not None:
        text = f"Allowed: {principal.ref} acts within its token's scopes ({', '.join(scopes)})"
        return _Answer(Decision.allow(name, SCOPES, text), [_scope_line(principal, permission)])
    if principal.method == "system":
        text = f"Allowed: {principal.ref} is the platform itself"
        return _Answer(Decision.allow(name, "system", text))
    text = f"Denied: {principal.ref} has neither an identity nor token scopes"
    return _Answer(Decision.deny(name, SCOPES, text))


def _scope_line(principal: Principal, permission: Permission) -> str:
    scopes = ", ".join(principal.scopes or ()) or "none"
    inside = any(fnmatchcase(permission.name, scope) for scope in principal.scopes or ())
    return f"token scopes ({scopes}): {'include' if inside else 'do not include'} {permission.name}"


def _settled(
    decision: Decision, principal: Principal, resource: Mapping[str, Any] | None
) -> Decision:
    """A Python policy's answer, with the principal a CONDITIONAL one needs, and decided
    outright when the resource is known."""
    if decision.result is not Result.CONDITIONAL:
        return decision
    decision = replace(decision, principal=principal)
    if resource is None or decision.condition is None:
        return decision
    allowed = decision.allows(resource)
    on = describe_resource(resource, get_permission(decision.permission))
    verdict = "holds" if allowed else "does not hold"
    text = (
        f"{'Allowed' if allowed else 'Denied'} by policy rule '{decision.rule}': "
        f"{describe(decision.condition)} {verdict} on {on}"
    )
    result = Result.ALLOW if allowed else Result.DENY
    return Decision(result, decision.permission, decision.rule, text)
