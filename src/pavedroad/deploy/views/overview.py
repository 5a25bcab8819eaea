"""The Deployments page: the organisation's DORA figures with their definitions and the latest
deploys of every component the viewer may see, newest first, with their outcomes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select
from starlette.responses import HTMLResponse

from pavedroad.catalog.models import Entity
from pavedroad.catalog.visibility import readable_entities
from pavedroad.core.web import run_read
from pavedroad.deploy.dora import compute_dora
from pavedroad.deploy.models import Deployment
from pavedroad.deploy.permissions import READ
from pavedroad.deploy.views.tab import OUTCOME_BADGES, dora_context
from pavedroad.permissions.dependencies import Grant, require
from pavedroad.web import navigation
from pavedroad.web.templating import render
from pavedroad.web.viewer import Viewer, attach_viewer

if TYPE_CHECKING:
    from pavedroad.runtime import Runtime

router = APIRouter(include_in_schema=False)
navigation.register(navigation.NavItem("Deployments", "/deployments", "⇪", 60))
LATEST = 50


@router.get("/deployments", response_class=HTMLResponse)
async def deployments_page(
    request: Request,
    grant: Annotated[Grant, Depends(require(READ))],
    viewer: Annotated[Viewer, Depends(attach_viewer)],
) -> HTMLResponse:
    runtime: Runtime = request.app.state.runtime
    restriction = readable_entities(grant)

    def read() -> dict[str, Any]:
        with runtime.db.read_session() as session:
            statement = select(Deployment).order_by(Deployment.created_at.desc()).limit(LATEST)
            if restriction is not None:
                visible = select(Entity.ref).where(restriction.condition)
                statement = statement.where(Deployment.component_ref.in_(visible))
            latest = list(session.scalars(statement))
            report = compute_dora(session, runtime.settings, scope="organisation", components=None)
            session.expunge_all()
        return {"latest": latest, "badges": OUTCOME_BADGES, **dora_context(report)}

    context = await run_read(read)
    context["breadcrumbs"] = [("Deployments", None)]
    return render(request, "deploy/deployments.html", context)
