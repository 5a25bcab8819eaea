"""The home page's "Deployments" card: recent automatic rollbacks of what the viewer owns,
with their reason, and the organisation's DORA figures with their definitions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from pavedroad.catalog.ownership import owned_components
from pavedroad.catalog.visibility import readable_entities
from pavedroad.deploy.dora import compute_dora
from pavedroad.deploy.models import Deployment
from pavedroad.deploy.permissions import READ
from pavedroad.deploy.views.tab import dora_context
from pavedroad.permissions.dependencies import Grant
from pavedroad.web.home import HomePanel, register_panel
from pavedroad.web.templating import templates
from pavedroad.web.viewer import Viewer

if TYPE_CHECKING:
    from pavedroad.runtime import Runtime

SHOWN = 5
RECENT = timedelta(days=7)
TITLES = {
    "deployment_frequency": "Deployment frequency",
    "lead_time": "Lead time for changes",
    "change_failure_rate": "Change failure rate",
    "time_to_restore": "Time to restore",
}


def render_card(runtime: Runtime, viewer: Viewer, grant: Grant) -> str | None:
    """The card's body; hidden from people who may not see deployments."""
    decision = runtime.permissions.decide(grant.principal, READ)
    if decision.result.name == "DENY":
        return None
    read = Grant(grant.principal, READ, decision, runtime)
    with runtime.db.read_session() as session:
        owned = [
            ref
            for ref, _ in owned_components(
                session, viewer.ownership_refs, restriction=readable_entities(read)
            )
        ]
        rollbacks = (
            list(
                session.scalars(
                    select(Deployment)
                    .where(
                        Deployment.component_ref.in_(owned),
                        Deployment.status == "rolled_back",
                        Deployment.created_at >= datetime.now(UTC) - RECENT,
                    )
                    .order_by(Deployment.created_at.desc())
                    .limit(SHOWN)
                )
            )
            if owned
            else []
        )
        report = compute_dora(session, runtime.settings, scope="organisation", components=None)
        session.expunge_all()
    if not rollbacks and not report.deploys:
        return None
    return templates.get_template("deploy/_home_card.html").render(
        rollbacks=rollbacks, titles=TITLES, **dora_context(report)
    )


register_panel(HomePanel("Deployments", 14, render_card))
