"""``GET /api/deploy/v1/dora``: the DORA metrics of a component, a team or the organisation,
each with its definition."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response

from pavedroad.catalog.visibility import readable_entities
from pavedroad.core.errors import InputError
from pavedroad.core.web import json_response
from pavedroad.deploy.dora import compute_dora, team_components
from pavedroad.deploy.permissions import READ
from pavedroad.permissions.dependencies import Grant, require
from pavedroad.pipelines.access import component_entity
from pavedroad.runtime import Runtime

router = APIRouter(prefix="/api/deploy/v1", tags=["deployments"])


@router.get("/dora", summary="DORA metrics of a component, a team or the organisation")
async def dora(
    request: Request,
    grant: Annotated[Grant, Depends(require(READ))],
    component: Annotated[str | None, Query(description="component:default/payments")] = None,
    team: Annotated[str | None, Query(description="group:default/team-payments")] = None,
    days: Annotated[int, Query(ge=1, le=366)] = 30,
) -> Response:
    if component and team:
        raise InputError("Ask for a component or a team, not both")
    runtime: Runtime = request.app.state.runtime
    restriction = readable_entities(grant)

    def read() -> dict[str, Any]:
        with runtime.db.read_session() as session:
            if component:
                component_entity(session, component, restriction)  # 404 when hidden
                scope, components = component.lower(), [component]
            elif team:
                scope, components = team.lower(), team_components(session, team, restriction)
            else:
                scope, components = "organisation", None
            report = compute_dora(
                session, runtime.settings, scope=scope, components=components, days=days
            )
            return report.to_json()

    return json_response(await run_in_threadpool(read))
