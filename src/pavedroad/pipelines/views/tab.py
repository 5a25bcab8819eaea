"""The CI/CD tab of a component's page: the latest run of each branch, the failing step's log
first, the duration trend, the run history a page at a time, and a form to run it now."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pavedroad.catalog.hooks import EntityPageTab, TabContext
from pavedroad.catalog.refs import entity_path
from pavedroad.config import Settings
from pavedroad.core.plugins import hookimpl
from pavedroad.pipelines import queries
from pavedroad.pipelines.access import run_restriction
from pavedroad.pipelines.permissions import READ_RUNS, START_RUN
from pavedroad.pipelines.repositories import repository_of_entity
from pavedroad.pipelines.views.access import grant_for, may
from pavedroad.pipelines.views.charts import duration_trend
from pavedroad.pipelines.views.present import BADGE_CLASSES, run_duration, step_duration
from pavedroad.web.templating import templates

HISTORY_PAGE = 20
TREND_RUNS = 30


def badge_path(ref: str) -> str:
    """Where a component's status badge is served: ``/pipelines/badge/<kind>/<ns>/<name>.svg``."""
    kind, _, rest = ref.partition(":")
    namespace, _, name = rest.partition("/")
    return f"/pipelines/badge/{kind}/{namespace}/{name}.svg"


def _offset(query: dict[str, str]) -> int:
    text = query.get("runs_offset", "")
    return int(text) if text.isdigit() else 0


def cicd_context(context: TabContext) -> dict[str, Any]:
    """What the tab shows, read in the entity page's read-only session."""
    session, ref, runtime = context.session, context.ref, context.runtime
    principal = context.principal
    base = {
        "ref": ref,
        "page_url": entity_path(ref),
        "badges": BADGE_CLASSES,
        "run_duration": run_duration,
        "step_duration": step_duration,
        "repository": repository_of_entity(context.entity),
        "csrf_token": getattr(context.viewer, "csrf_token", None) or "",
    }
    runs_grant = grant_for(runtime, principal, READ_RUNS)
    if runs_grant is None:
        return {**base, "refused": True}
    restriction = run_restriction(runs_grant)
    latest = queries.latest_per_branch(session, ref, restriction=restriction)
    default_run = queries.default_branch_run(context.entity, latest)
    failing_run = next((run for run in latest if run.status == "failed"), None)
    failing_step = None
    log: list[Any] = []
    cut = False
    if failing_run is not None:
        failing_step = queries.failing_steps(session, [failing_run.id]).get(failing_run.id)
        if failing_step is not None:
            log, cut = queries.step_log_tail(session, failing_step.id)
    history = queries.runs_of_component(
        session, ref, restriction=restriction, offset=_offset(context.query), limit=HISTORY_PAGE
    )
    trend = queries.finished_runs(session, ref, restriction=restriction, limit=TREND_RUNS)
    return {
        **base,
        "refused": False,
        "latest": latest,
        "default_branch": default_run.branch if default_run else None,
        "default_run": default_run,
        "failing_run": failing_run,
        "failing_step": failing_step,
        "failing_log": log,
        "failing_log_cut": cut,
        "page": history,
        "trend": duration_trend(trend),
        "trend_count": len(trend),
        "badge_url": badge_path(ref),
        "can_start": may(runtime, principal, START_RUN),
    }


@dataclass(frozen=True, slots=True)
class CicdTab:
    id: str = "cicd"
    title: str = "CI/CD"
    order: int = 40

    def applies_to(self, entity: dict[str, Any]) -> bool:
        return str(entity.get("kind", "")).lower() == "component"

    def render(self, context: TabContext) -> str:
        template = templates.get_template("pipelines/tabs/cicd.html")
        return template.render(**cicd_context(context))


class PipelineTabs:
    """The pipelines' contribution to entity pages, through the same hook as any plugin."""

    @hookimpl
    def pavedroad_entity_page_tabs(self, settings: Settings) -> Sequence[EntityPageTab]:
        return [CicdTab()]
