"""Who may see and act on which runs: a run belongs to its component, so a viewer who may not
see the component (the policy's ``catalog.entity.read``, or a conditional pipeline rule such as
"owners only") does not see its runs either. Runs of repositories that are no component are
seen only by those who may see the whole catalog."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from pavedroad.catalog.models import Entity
from pavedroad.catalog.queries import Restriction
from pavedroad.catalog.visibility import readable_entities
from pavedroad.core.errors import NotFoundError
from pavedroad.permissions.dependencies import Grant
from pavedroad.pipelines.models import PipelineRun
from pavedroad.pipelines.queries import visible


def run_restriction(grant: Grant) -> Restriction | None:
    """The entities whose runs ``grant``'s holder may see; None: every run."""
    return readable_entities(grant)


def visible_run(session: Session, run_id: str, restriction: Restriction | None) -> PipelineRun:
    """The run ``run_id``, when it exists and may be seen (a hidden run is "not found")."""
    run = session.scalar(select(PipelineRun).where(PipelineRun.id == run_id, visible(restriction)))
    if run is None:
        raise NotFoundError(f"There is no pipeline run {run_id}", hint="GET /runs lists them")
    return run


def component_entity(
    session: Session, ref: str, restriction: Restriction | None = None
) -> dict[str, Any]:
    """The catalog entity ``ref`` (NotFoundError also when it may not be seen)."""
    statement = select(Entity.body).where(Entity.ref == ref.lower())
    if restriction is not None:
        statement = statement.where(restriction.condition)
    body = session.scalar(statement)
    if body is None:
        raise NotFoundError(
            f"No catalog entity {ref}", hint="give a component ref: component:default/payments"
        )
    entity: dict[str, Any] = orjson.loads(body)
    return entity


def check_on_component(grant: Grant, session: Session, component_ref: str | None) -> None:
    """Refuse (403, audited) unless ``grant``'s permission holds on the run's component; a run
    of no component needs the permission unconditionally."""
    if grant.unconditional:
        return
    if component_ref is None:
        grant.check({"ref": "pipeline-run"}, ref="pipeline-run")
        return
    grant.check(component_entity(session, component_ref), ref=component_ref)
