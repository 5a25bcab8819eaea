"""The home page's "New advisories affecting you": alerts of the components the viewer owns
(themselves or through their groups), newest first, with the version to upgrade to."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pavedroad.catalog.ownership import owned_components
from pavedroad.catalog.visibility import readable_entities
from pavedroad.permissions.dependencies import Grant
from pavedroad.security.alerts import alerts_for
from pavedroad.security.permissions import READ_IMPACT
from pavedroad.web.home import HomePanel, register_panel
from pavedroad.web.templating import templates
from pavedroad.web.viewer import Viewer

if TYPE_CHECKING:
    from pavedroad.runtime import Runtime

SHOWN = 8


def render_card(runtime: Runtime, viewer: Viewer, grant: Grant) -> str | None:
    """The card's body; hidden from people who may not ask about impact."""
    decision = runtime.permissions.decide(grant.principal, READ_IMPACT)
    if decision.result.name == "DENY":
        return None
    impact = Grant(grant.principal, READ_IMPACT, decision, runtime)
    with runtime.db.read_session() as session:
        owned = owned_components(
            session, viewer.ownership_refs, restriction=readable_entities(impact)
        )
        alerts = alerts_for(session, [ref for ref, _ in owned], limit=SHOWN)
        session.expunge_all()
    return templates.get_template("security/_home_card.html").render(alerts=alerts)


register_panel(HomePanel("New advisories affecting you", 12, render_card))
