"""The Security tab of a component's page: what blocks its next deploy, its open findings by
severity and age, scans that did not run, and the trend over its last runs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pavedroad.catalog.hooks import EntityPageTab, TabContext
from pavedroad.config import Settings
from pavedroad.core.plugins import hookimpl
from pavedroad.security.charts import findings_trend
from pavedroad.security.dashboard import component_security
from pavedroad.security.gate import describe_blocker
from pavedroad.security.permissions import READ_GATE
from pavedroad.web.templating import templates

SEVERITY_BADGES = {
    "critical": "badge-danger",
    "high": "badge-danger",
    "medium": "badge-warning",
    "low": "",
    "info": "",
}


@dataclass(frozen=True, slots=True)
class SecurityTab:
    id: str = "security"
    title: str = "Security"
    order: int = 45

    def applies_to(self, entity: dict[str, Any]) -> bool:
        return str(entity.get("kind", "")).lower() == "component"

    def render(self, context: TabContext) -> str:
        runtime, principal = context.runtime, context.principal
        allowed = principal is not None and (
            runtime.permissions.decide(principal, READ_GATE).result.name != "DENY"
        )
        template = templates.get_template("security/tab.html")
        if not allowed:
            return template.render(refused=True)
        now = datetime.now(UTC)
        summary = component_security(context.session, context.ref, now)
        return template.render(
            refused=False,
            summary=summary,
            counts=summary.counts,
            now=now,
            badges=SEVERITY_BADGES,
            blockers=[describe_blocker(b) for b in summary.gate.reasons] if summary.gate else [],
            trend=findings_trend(summary.trend, label="Findings per run"),
            describe=describe_blocker,
        )


class SecurityTabs:
    """The security capability's entity page tab, through the same hook as any plugin."""

    @hookimpl
    def pavedroad_entity_page_tabs(self, settings: Settings) -> Sequence[EntityPageTab]:
        return [SecurityTab()]
