"""What a page asks of the policy beyond its route's permission: another permission of the
same principal (to show a button, or the runs on a page that required only the catalog)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pavedroad.identity.schemas import Principal
from pavedroad.permissions.dependencies import Grant

if TYPE_CHECKING:
    from pavedroad.runtime import Runtime


def grant_for(runtime: Runtime, principal: Principal | None, permission: str) -> Grant | None:
    """``permission`` for ``principal`` as a route would get it; None when refused outright."""
    if principal is None:
        return None
    decision = runtime.permissions.decide(principal, permission)
    if decision.result.name == "DENY":
        return None
    return Grant(principal, permission, decision, runtime)


def may(runtime: Runtime, principal: Principal | None, permission: str) -> bool:
    """Whether the policy lets ``principal`` do ``permission`` at all (to show a button)."""
    return grant_for(runtime, principal, permission) is not None
