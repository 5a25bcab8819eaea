"""The home page's "Your failing pipelines": the components the viewer owns (themselves or
through their groups) whose latest run on the default branch failed, with the failing step."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import orjson

from pavedroad.catalog.ownership import owned_components
from pavedroad.permissions.dependencies import Grant
from pavedroad.pipelines import queries
from pavedroad.pipelines.access import run_restriction
from pavedroad.pipelines.models import PipelineRun, PipelineStep
from pavedroad.pipelines.permissions import READ_RUNS
from pavedroad.pipelines.views.access import grant_for
from pavedroad.pipelines.views.present import BADGE_CLASSES, run_duration
from pavedroad.web.home import HomePanel, register_panel
from pavedroad.web.templating import templates
from pavedroad.web.viewer import Viewer

if TYPE_CHECKING:
    from pavedroad.runtime import Runtime

FAILING = ("failed", "rejected")
SHOWN = 10


@dataclass(frozen=True, slots=True)
class FailingPipeline:
    ref: str
    title: str
    run: PipelineRun
    step: PipelineStep | None


def failing_pipelines(runtime: Runtime, viewer: Viewer, grant: Grant) -> list[FailingPipeline]:
    """``grant`` is one of ``pipeline.run.read``: only runs it lets the viewer see count."""
    restriction = run_restriction(grant)
    with runtime.db.read_session() as session:
        owned = owned_components(session, viewer.ownership_refs, restriction=restriction)
        entities = {ref: orjson.loads(body) for ref, body in owned}
        latest: dict[str, list[PipelineRun]] = {}
        for run in queries.latest_per_component_branch(session, list(entities)):
            latest.setdefault(run.component_ref or "", []).append(run)
        failing = []
        for ref, runs in latest.items():
            default_run = queries.default_branch_run(entities[ref], runs)
            if default_run is not None and default_run.status in FAILING:
                failing.append((ref, default_run))
        failing.sort(key=lambda item: item[1].created_at, reverse=True)
        steps = queries.failing_steps(session, [run.id for _, run in failing])
        session.expunge_all()
    return [
        FailingPipeline(
            ref,
            str(entities[ref]["metadata"].get("title") or entities[ref]["metadata"]["name"]),
            run,
            steps.get(run.id),
        )
        for ref, run in failing
    ]


def render_card(runtime: Runtime, viewer: Viewer, grant: Grant) -> str | None:
    """The card's body; hidden from people who may not see runs."""
    runs_grant = grant_for(runtime, grant.principal, READ_RUNS)
    if runs_grant is None:
        return None
    found = failing_pipelines(runtime, viewer, runs_grant)
    template = templates.get_template("pipelines/_home_card.html")
    return template.render(
        failing=found[:SHOWN],
        more=len(found) - SHOWN,
        badges=BADGE_CLASSES,
        run_duration=run_duration,
    )


register_panel(HomePanel("Your failing pipelines", 10, render_card))
