"""What a viewer may do on an entity page, decided by the permission policy up front: allowed
actions are buttons, the others are shown disabled with the policy's explanation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pavedroad.catalog.refs import entity_path, ref_of
from pavedroad.permissions.dependencies import Grant

if TYPE_CHECKING:
    from pavedroad.runtime import Runtime


@dataclass(frozen=True, slots=True)
class PageAction:
    id: str
    label: str
    url: str
    allowed: bool
    explanation: str
    confirm: str | None = None


ENTITY_ACTIONS = (
    ("refresh", "Refresh", "catalog.entity.refresh", None),
    (
        "delete",
        "Delete",
        "catalog.entity.delete",
        "Delete this entity? It comes back at the next refresh unless its descriptor is removed.",
    ),
)


def entity_actions(runtime: Runtime, grant: Grant, entity: dict[str, Any]) -> list[PageAction]:
    page = entity_path(ref_of(entity))
    actions = []
    for action_id, label, permission, confirm in ENTITY_ACTIONS:
        decision = runtime.permissions.decide(grant.principal, permission, entity)
        actions.append(
            PageAction(
                action_id,
                label,
                f"{page}/{action_id}",
                decision.allows(entity),
                decision.explanation,
                confirm,
            )
        )
    return actions
