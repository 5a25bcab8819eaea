"""What of the catalog a request may see, from what the permission policy granted."""

from __future__ import annotations

from sqlalchemy import and_

from pavedroad.catalog.permission_rules import location_resource
from pavedroad.catalog.queries.restriction import Restriction
from pavedroad.permissions.dependencies import Grant

ENTITY = "catalog-entity"
CATALOG_READ = "catalog.entity.read"
__all__ = ["location_resource", "readable_entities", "visible_entities"]


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


def readable_entities(grant: Grant) -> Restriction | None:
    """The entities whose data (runs, findings, SBOMs) ``grant``'s holder may see: those the
    grant's own policy allows *and* those the catalog lets them read; None: all of them."""
    decision = grant.runtime.permissions.decide(grant.principal, CATALOG_READ)
    reader = Grant(grant.principal, CATALOG_READ, decision, grant.runtime)
    parts = [r for r in (visible_entities(grant), visible_entities(reader)) if r is not None]
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    return Restriction(and_(parts[0].condition, parts[1].condition), (parts[0].key, parts[1].key))
