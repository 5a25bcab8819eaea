"""What of the catalog a request may see, from what the permission policy granted."""

from __future__ import annotations

from pavedroad.catalog.permission_rules import location_resource
from pavedroad.catalog.queries.restriction import Restriction
from pavedroad.permissions.dependencies import Grant

ENTITY = "catalog-entity"
__all__ = ["location_resource", "visible_entities"]


def visible_entities(grant: Grant) -> Restriction | None:
    """None when every entity may be seen (the default policy), else the policy's condition
    on entities, keyed for caches by everything the condition was built from."""
    condition = grant.sql(ENTITY)
    if condition is None:
        return None
    principal = grant.principal
    key = (
        "visible",
        principal.ref,
        principal.ownership_refs,
        principal.scopes,
        repr(grant.decision.condition),
        grant.decision.rule,
    )
    return Restriction(condition, key)
