"""The demo organisation's deployment history: loaded once, and the DORA figures of a
component, a team and the organisation are those of the rows it seeded."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pavedroad import demo as demo_organisation
from pavedroad.demo.deployments_data import (
    ANALYSIS,
    COMPONENTS,
    FIX_AFTER,
    NOTE,
    TO_LIVE,
    DemoComponent,
    load_deployments,
)
from pavedroad.deploy.dora import compute_dora, team_components
from pavedroad.deploy.models import AnalysisSample, Deployment, EnvironmentState
from pavedroad.runtime import Runtime

NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)
ROLLBACK_RESTORE_SECONDS = 4 * 60  # breach 3 min after going live, the rollback took 1 min


def expected(components: list[DemoComponent]) -> tuple[int, int, list[float]]:
    """Production deploys, failures and restore times of ``components``, from the plan."""
    deploys = failures = 0
    restores: list[float] = []
    for component in components:
        deploys += len(component.outcomes) + component.outcomes.count("F")  # fixes too
        failures += component.outcomes.count("R") + component.outcomes.count("F")
        restores += [ROLLBACK_RESTORE_SECONDS] * component.outcomes.count("R")
        fix = (FIX_AFTER + TO_LIVE + ANALYSIS).total_seconds()
        restores += [fix] * component.outcomes.count("F")
    return deploys, failures, restores


def loaded(runtime: Runtime, session: Session) -> None:
    demo_organisation.load(session, runtime.catalog)
    session.commit()
    first = load_deployments(session, demo_organisation.DEMO_ACTOR, now=NOW)
    session.commit()
    assert first is not None and first.components == len(COMPONENTS) == 8


def test_the_history_is_loaded_once_and_marked_as_demo_data(
    runtime: Runtime, session: Session
) -> None:
    loaded(runtime, session)
    rows = session.scalar(select(func.count()).select_from(Deployment))
    assert load_deployments(session, demo_organisation.DEMO_ACTOR, now=NOW) is None
    assert session.scalar(select(func.count()).select_from(Deployment)) == rows
    deployments = list(session.scalars(select(Deployment)))
    assert {d.trigger for d in deployments} == {"demo"}
    assert all(d.evidence["note"] == NOTE for d in deployments)
    assert {d.environment for d in deployments} == {"dev", "staging", "production"}
    people = {d.triggered_by for d in deployments if d.kind == "deploy"}
    assert "user:default/esi.mensah" in people and all(p.startswith("user:") for p in people)
    rolled = [d for d in deployments if d.status == "rolled_back"]
    assert len(rolled) == sum(c.outcomes.count("R") for c in COMPONENTS)
    for bad in rolled:
        analysis = bad.evidence["analysis"]
        assert analysis["check"] == "error_rate" and analysis["threshold"] == 0.05
        assert [s["ok"] for s in analysis["samples"]] == [False, False]
        back = next(d for d in deployments if d.rollback_of == bad.id)
        assert back.kind == "rollback" and back.status == "succeeded"
        assert analysis["rollback"]["rollback_id"] == back.id
    samples = session.scalar(select(func.count()).select_from(AnalysisSample))
    assert samples == 2 * len(rolled)
    states = list(session.scalars(select(EnvironmentState)))
    assert len(states) == 3 * len(COMPONENTS)
    by_id = {d.id: d for d in deployments}
    for state in states:
        live = by_id[str(state.current_id)]
        assert state.last_good_id == live.id and live.status == "succeeded" and state.healthy
    payments = session.get(EnvironmentState, ("component:default/payment-service", "production"))
    assert payments is not None and by_id[str(payments.current_id)].kind == "rollback"


def test_dora_of_a_component_a_team_and_the_organisation(
    runtime: Runtime, session: Session
) -> None:
    loaded(runtime, session)
    by_name = {component.name: component for component in COMPONENTS}
    billing_team = team_components(session, "group:default/team-billing")
    seeded = {"component:default/billing-service", "component:default/invoice-renderer"}
    assert seeded < set(billing_team)  # and legacy-billing-export, never deployed here
    scopes = [
        ("component:default/order-service", ["component:default/order-service"],
         [by_name["order-service"]]),
        ("group:default/team-billing", billing_team,
         [by_name["billing-service"], by_name["invoice-renderer"]]),
        ("organisation", None, list(COMPONENTS)),
    ]  # fmt: skip
    for scope, components, plan in scopes:
        report = compute_dora(
            session, runtime.settings, scope=scope, components=components, days=30, now=NOW
        )
        deploys, failures, restores = expected(plan)
        assert (report.deploys, report.failures) == (deploys, failures), scope
        assert report.deployment_frequency == (deploys - failures) / 30
        assert report.change_failure_rate == failures / deploys
        assert report.restores == len(restores) > 0
        assert report.time_to_restore_seconds == statistics.median(restores)
        assert sum(w["succeeded"] + w["failed"] for w in report.weeks) == deploys
    order = by_name["order-service"]
    assert expected([order]) == (10, 2, [240, (FIX_AFTER + TO_LIVE + ANALYSIS).total_seconds()])
