"""The Deployments tab: on a component, its environments (what runs, health, who deployed it
and when) with promotion and rollback buttons, its history with outcomes and compare links,
one deploy's analysed metric as a chart, and its DORA figures; on a team (a Group), the DORA
figures of the components it owns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pavedroad.catalog.hooks import EntityPageTab, TabContext
from pavedroad.catalog.refs import entity_path
from pavedroad.config import Settings
from pavedroad.core.plugins import hookimpl
from pavedroad.deploy import service
from pavedroad.deploy.dora import DEFINITIONS, compute_dora, describe_duration, team_components
from pavedroad.deploy.models import AnalysisSample, Deployment
from pavedroad.deploy.permissions import READ, TRIGGER
from pavedroad.deploy.views.charts import (
    Point,
    check_title,
    evidence_chart,
    format_value,
    weekly_deploys,
)
from pavedroad.pipelines.views.access import grant_for
from pavedroad.web.templating import templates

HISTORY_PAGE = 20
OUTCOME_BADGES = {
    "succeeded": "badge-success",
    "failed": "badge-danger",
    "rolled_back": "badge-danger",
    "refused": "badge-warning",
    "cancelled": "badge-warning",
    "analysing": "badge-info",
    "deploying": "badge-info",
    "queued": "badge-info",
}


def compare_url(component_ref: str, older: str | None, newer: str | None) -> str | None:
    if not older or not newer or older == newer:
        return None
    query = urlencode({"component": component_ref, "from": older, "to": newer})
    return f"/deployments/compare?{query}"


def _offset(query: dict[str, str]) -> int:
    text = query.get("deployments_offset", "")
    return int(text) if text.isdigit() else 0


def may_deploy(context: TabContext, environment: str) -> bool:
    """Whether the policy lets the viewer deploy the component to ``environment``."""
    if context.principal is None:
        return False
    resource = {"environment": environment, "component": context.ref}
    decision = context.runtime.permissions.decide(context.principal, TRIGGER, resource)
    return bool(decision.result.name == "ALLOW")


def _promotions(context: TabContext, environments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A button per step of the promotion order, with why it cannot be pressed."""
    steps = []
    for source, target in pairwise(environments):
        current = source["current"]
        reason = None
        if current is None:
            reason = f"nothing runs in {source['name']} yet"
        elif current["status"] not in ("succeeded", "analysing"):
            reason = f"{source['name']}'s deploy {current['status'].replace('_', ' ')}"
        elif target["deploying"] is not None:
            reason = f"a deploy to {target['name']} is in progress"
        elif target["frozenUntil"]:
            reason = f"{target['name']} is frozen until {target['frozenUntil'][:16]} UTC"
        elif not may_deploy(context, target["name"]):
            reason = f"the permission policy does not let you deploy to {target['name']}"
        steps.append(
            {
                "from": source["name"],
                "to": target["name"],
                "version": current["version"] if current else None,
                "reason": reason,
            }
        )
    return steps


def _may_roll_back(context: TabContext, environment: dict[str, Any]) -> bool:
    """Something runs, nothing is being deployed, there is an earlier version to go back to,
    and the policy lets the viewer deploy there."""
    current = environment["current"]
    if current is None or environment["deploying"] is not None:
        return False
    last_good = environment["lastGoodId"]
    if not (last_good and last_good != current["id"]) and not current.get("previousId"):
        return False
    return may_deploy(context, environment["name"])


def evidence_of(session: Session, deployment: Deployment, check: str | None) -> dict[str, Any]:
    """The samples of one check of ``deployment``'s analysis, as a chart and a table."""
    samples = list(
        session.scalars(
            select(AnalysisSample)
            .where(AnalysisSample.deployment_id == deployment.id)
            .order_by(AnalysisSample.at, AnalysisSample.id)
        )
    )
    names = list(dict.fromkeys(c["name"] for s in samples for c in s.checks))
    breached = (deployment.evidence or {}).get("check")
    chosen = check if check in names else breached if breached in names else None
    chosen = chosen or (names[0] if names else None)
    points = [
        Point(s.at, c.get("value"), c.get("threshold"), c.get("ok"))
        for s in samples
        for c in s.checks
        if c["name"] == chosen
    ]
    rollback_at = None
    if deployment.status == "rolled_back":
        rollback = session.scalar(
            select(Deployment)
            .where(Deployment.rollback_of == deployment.id)
            .order_by(Deployment.created_at)
            .limit(1)
        )
        rollback_at = rollback.created_at if rollback is not None else deployment.finished_at
    return {
        "deployment": deployment,
        "checks": [(name, check_title(name)) for name in names],
        "check": chosen,
        "title": check_title(chosen) if chosen else None,
        "chart": evidence_chart(chosen, points, rollback_at=rollback_at) if chosen else "",
        "points": points,
        "rollback_at": rollback_at,
        "evidence": deployment.evidence or {},
        "format": lambda value: format_value(chosen or "", value),
        "sample_count": len(samples),
    }


def dora_context(report: Any) -> dict[str, Any]:
    return {
        "report": report,
        "definitions": DEFINITIONS,
        "duration": describe_duration,
        "weeks_chart": weekly_deploys(report.weeks),
    }


def component_context(context: TabContext) -> dict[str, Any]:
    session, ref, runtime = context.session, context.ref, context.runtime
    environments = service.environments_of(session, runtime.settings, ref)
    offset = _offset(context.query)
    history = service.history(session, ref, limit=HISTORY_PAGE + 1, offset=offset)
    more = len(history) > HISTORY_PAGE
    history = history[:HISTORY_PAGE]
    earlier_ids = {d.previous_id for d in history if d.previous_id}
    earlier = (
        dict(
            session.execute(
                select(Deployment.id, Deployment.commit).where(Deployment.id.in_(earlier_ids))
            ).all()
        )
        if earlier_ids
        else {}
    )
    sampled = (
        set(
            session.scalars(
                select(AnalysisSample.deployment_id)
                .where(AnalysisSample.deployment_id.in_([d.id for d in history]))
                .group_by(AnalysisSample.deployment_id)
                .having(func.count() > 0)
            )
        )
        if history
        else set()
    )
    wanted = context.query.get("deployment")
    selected = next((d for d in history if d.id == wanted), None)
    if selected is None and wanted:
        found = session.get(Deployment, wanted)
        selected = found if found is not None and found.component_ref == ref else None
    if selected is None:
        selected = next((d for d in history if d.id in sampled), None)
    report = compute_dora(session, runtime.settings, scope=ref, components=[ref])
    page_url = entity_path(ref)
    return {
        "ref": ref,
        "page_url": page_url,
        "tab_url": f"{page_url}?tab=deployments",
        "environments": environments,
        "promotions": _promotions(context, environments),
        "may_roll_back": {e["name"]: _may_roll_back(context, e) for e in environments},
        "history": history,
        "more": more,
        "offset": offset,
        "page_size": HISTORY_PAGE,
        "sampled": sampled,
        "compare": {
            d.id: compare_url(ref, earlier.get(d.previous_id or ""), d.commit) for d in history
        },
        "badges": OUTCOME_BADGES,
        "selected": evidence_of(session, selected, context.query.get("check"))
        if selected is not None
        else None,
        "action_base": "/deployments/" + ref.replace(":", "/", 1),
        "csrf_token": getattr(context.viewer, "csrf_token", None) or "",
        **dora_context(report),
    }


@dataclass(frozen=True, slots=True)
class DeploymentsTab:
    id: str = "deployments"
    title: str = "Deployments"
    order: int = 42

    def applies_to(self, entity: dict[str, Any]) -> bool:
        return str(entity.get("kind", "")).lower() in ("component", "group")

    def render(self, context: TabContext) -> str:
        if grant_for(context.runtime, context.principal, READ) is None:
            return templates.get_template("deploy/tab.html").render(refused=True)
        if str(context.entity.get("kind", "")).lower() == "group":
            components = team_components(context.session, context.ref, context.restriction)
            report = compute_dora(
                context.session, context.runtime.settings, scope=context.ref, components=components
            )
            return templates.get_template("deploy/team_tab.html").render(
                refused=False, components=components, **dora_context(report)
            )
        return templates.get_template("deploy/tab.html").render(
            refused=False, **component_context(context)
        )


class DeploymentTabs:
    """The deployments capability's entity page tab, through the same hook as any plugin."""

    @hookimpl
    def pavedroad_entity_page_tabs(self, settings: Settings) -> Sequence[EntityPageTab]:
        return [DeploymentsTab()]
