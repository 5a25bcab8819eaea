"""A decision: ALLOW, DENY, or CONDITIONAL on what remains to check on the resource."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, false

from pavedroad.identity.schemas import Principal
from pavedroad.permissions.conditions import Condition, condition_sql, describe, to_data
from pavedroad.permissions.evaluation import holds


class Result(StrEnum):
    ALLOW = "allow"
    DENY = "deny"
    CONDITIONAL = "conditional"


@dataclass(frozen=True, slots=True)
class Decision:
    """What the policy says about one permission for one principal.

    ``rule`` names the policy rule that decided (``default`` when none did); ``explanation``
    is a sentence for the person asking. A CONDITIONAL decision carries the ``condition`` left
    to check on each resource, for :meth:`allows` on one resource or :meth:`to_sql` on a list.
    """

    result: Result
    permission: str
    rule: str
    explanation: str
    condition: Condition | None = None
    principal: Principal | None = field(default=None, repr=False, compare=False)

    @classmethod
    def allow(cls, permission: str, rule: str, explanation: str) -> Decision:
        return cls(Result.ALLOW, permission, rule, explanation)

    @classmethod
    def deny(cls, permission: str, rule: str, explanation: str) -> Decision:
        return cls(Result.DENY, permission, rule, explanation)

    @classmethod
    def conditional(
        cls, permission: str, rule: str, condition: Condition, principal: Principal
    ) -> Decision:
        explanation = (
            f"Conditional: {permission} is allowed to {principal.ref} only where "
            f"{describe(condition)} (rule '{rule}')"
        )
        return cls(Result.CONDITIONAL, permission, rule, explanation, condition, principal)

    @property
    def allowed(self) -> bool:
        """Allowed outright, whatever the resource."""
        return self.result is Result.ALLOW

    def allows(self, resource: Mapping[str, Any] | None = None) -> bool:
        """Whether the permission is granted on ``resource`` (a CONDITIONAL decision needs one)."""
        if self.result is not Result.CONDITIONAL:
            return self.result is Result.ALLOW
        if resource is None or self.condition is None or self.principal is None:
            return False
        return holds(self.condition, self.principal, resource)

    def to_sql(self, resource_type: str) -> ColumnElement[bool] | None:
        """A filter for lists of ``resource_type``: None (no filter) when allowed, ``false()``
        when denied, the condition in SQL when conditional."""
        if self.result is Result.ALLOW:
            return None
        if self.result is Result.DENY or self.condition is None or self.principal is None:
            return false()
        return condition_sql(self.condition, self.principal, resource_type)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "result": self.result.value,
            "permission": self.permission,
            "rule": self.rule,
            "explanation": self.explanation,
        }
        if self.condition is not None:
            data["condition"] = to_data(self.condition)
        return data
