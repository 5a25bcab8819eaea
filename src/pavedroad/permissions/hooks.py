"""The permission extension points: Python policies consulted before the YAML rules, and rules
for conditions.

A plugin implements these hooks with ``@hookimpl``; the built-in rules (``user_in_group``, the
catalog's) use :func:`pavedroad_permission_rules` too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from pavedroad.config import Settings
from pavedroad.core.plugins import hookspec
from pavedroad.identity.schemas import Principal
from pavedroad.permissions.decision import Decision
from pavedroad.permissions.registry import Permission
from pavedroad.permissions.rules import Rule


@runtime_checkable
class PermissionPolicy(Protocol):
    """A policy written in Python, asked before the policy file.

    :meth:`decide` returns a :class:`Decision` to settle the question, or None for no opinion
    (the next policy, then the policy file, decides). ``resource`` is None when a route asks
    before it has one (a list); a CONDITIONAL answer is then checked on each resource. Token
    scopes still limit whatever a policy allows.
    """

    @property
    def name(self) -> str: ...

    def decide(
        self, principal: Principal, permission: Permission, resource: Mapping[str, Any] | None
    ) -> Decision | None: ...


@hookspec
def pavedroad_permission_policies(settings: Settings) -> Sequence[PermissionPolicy]:  # type: ignore[empty-body]
    """Python policies this plugin contributes, asked in plugin order."""


@hookspec
def pavedroad_permission_rules(settings: Settings) -> Sequence[Rule[Any]]:  # type: ignore[empty-body]
    """Rules this plugin contributes to policy conditions."""
