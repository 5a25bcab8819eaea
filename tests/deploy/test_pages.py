"""The Deployments tab (component and team), the evidence chart, compare versions, the
promotion form and the home card, on rows the tests insert."""

# ruff: noqa: F811 - pytest fixtures imported from tests.identity.conftest are parameters here

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from pavedroad.config import FreezeWindow
from pavedroad.deploy.models import AnalysisSample, Deployment, EnvironmentState
from pavedroad.pipelines import workspace
from pavedroad.runtime import Runtime
from tests.catalog.test_api import counting_queries
from tests.deploy.analysis_support import add_deployment
from tests.deploy.test_dora import repository_with_dated_commits
from tests.helpers import group, write_entities
from tests.identity.conftest import (  # noqa: F401 - fixtures
    secure_runtime,
    signed_in,
    signed_out_settings,
)
from tests.pipelines.trigger_support import OPERATOR, register_component

HTML = {"accept": "text/html"}
PAYMENTS = "component:default/payments"
TAB = "/catalog/default/component/payments?tab=deployments"
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)


def text_of(page: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page))).strip()


def set_environment(runtime: Runtime, environment: str, current: str, healthy: bool) -> None:
    with runtime.db.session() as session:
        session.add(
            EnvironmentState(
                component_ref=PAYMENTS,
                environment=environment,
                current_id=current,
                last_good_id=current,
                healthy=healthy,
                updated_at=T0,
            )
        )


@pytest.fixture
def deployed(runtime: Runtime, tmp_path: Path) -> dict[str, str]:
    """payments: 1.0.0 runs in dev (by ada); 1.1.0 went to production and was rolled back
    after its error rate breached, back to 1.0.0."""
    url, (first, second) = repository_with_dated_commits(tmp_path, [T0 - timedelta(days=1), T0])
    register_component(runtime, tmp_path, "payments", url, owner="team-a")
    workspace.fetch(runtime.settings, url)
    ids = {}
    ids["dev"] = add_deployment(
        runtime,
        environment="dev",
        version="1.0.0",
        commit=first,
        status="succeeded",
        triggered_by="user:default/ada",
        created_at=T0,
        deployed_at=T0 + timedelta(seconds=20),
        finished_at=T0 + timedelta(minutes=5),
    )
    ids["good"] = add_deployment(
        runtime,
        version="1.0.0",
        commit=first,
        status="succeeded",
        created_at=T0 + timedelta(hours=1),
        deployed_at=T0 + timedelta(hours=1),
        finished_at=T0 + timedelta(hours=1, minutes=5),
    )
    ids["bad"] = add_deployment(
        runtime,
        version="1.1.0",
        commit=second,
        previous_id=ids["good"],
        status="rolled_back",
        created_at=T0 + timedelta(hours=2),
        deployed_at=T0 + timedelta(hours=2),
        finished_at=T0 + timedelta(hours=2, minutes=1),
        evidence={
            "check": "error_rate",
            "reason": "error rate 40.0% above 5.0%",
            "window": {
                "start": (T0 + timedelta(hours=2)).isoformat(),
                "end": (T0 + timedelta(hours=2, seconds=20)).isoformat(),
                "interval_seconds": 10,
                "warmup_seconds": 30,
            },
            "provider": "scrape",
        },
    )
    with runtime.db.session() as session:
        for index, (value, ok) in enumerate([(0.0, True), (0.4, False), (0.4, False)]):
            session.add(
                AnalysisSample(
                    deployment_id=ids["bad"],
                    at=T0 + timedelta(hours=2, seconds=10 * index),
                    checks=[
                        {"name": "error_rate", "value": value, "threshold": 0.05, "ok": ok},
                        {"name": "latency_p95", "value": 0.01, "threshold": 0.03, "ok": True},
                    ],
                    verdict="ok" if ok else "bad",
                )
            )
    ids["rollback"] = add_deployment(
        runtime,
        version="1.0.0",
        commit=first,
        kind="rollback",
        trigger="automatic",
        triggered_by="pavedroad",
        rollback_of=ids["bad"],
        status="succeeded",
        created_at=T0 + timedelta(hours=2, seconds=25),
        deployed_at=T0 + timedelta(hours=2, seconds=30),
        finished_at=T0 + timedelta(hours=2, seconds=30),
    )
    set_environment(runtime, "dev", ids["dev"], True)
    set_environment(runtime, "production", ids["rollback"], True)
    return ids | {"first": first, "second": second}


class TestComponentTab:
    def test_environments_show_what_runs_its_health_who_and_when(
        self, client: TestClient, deployed: dict[str, str]
    ) -> None:
        page = client.get(TAB, headers=HTML)
        assert page.status_code == 200
        text = text_of(page.text)
        assert "dev process 1.0.0" in text and "healthy user:ada manual" in text
        assert "staging process nothing deployed unknown" in text
        assert f"{(T0 + timedelta(seconds=20)):%Y-%m-%d %H:%M} UTC" in text

    def test_promotion_buttons_say_why_they_cannot_be_pressed(
        self, client: TestClient, deployed: dict[str, str]
    ) -> None:
        page = client.get(TAB, headers=HTML).text
        button = re.search(r"<button[^>]*>Promote 1.0.0 from dev to staging</button>", page)
        assert button is not None and "disabled" not in button.group(0)
        text = text_of(page)
        assert "Promote from staging to production Not now: nothing runs in staging yet." in text
        assert 'action="/deployments/component/default/payments/promote"' in page

    def test_history_has_outcomes_and_a_compare_link_to_the_commits_in_between(
        self, client: TestClient, deployed: dict[str, str]
    ) -> None:
        page = client.get(TAB, headers=HTML).text
        text = text_of(page)
        assert "1.1.0" in text and "rolled back" in text and "rollback" in text
        link = re.search(r'href="(/deployments/compare\?[^"]+)"', page)
        assert link is not None
        compare = client.get(html.unescape(link.group(1)), headers=HTML)
        assert compare.status_code == 200
        compared = text_of(compare.text)
        assert f"{deployed['first'][:10]} → {deployed['second'][:10]}" in compared
        assert "1 commit(s) the newer version brings" in compared and "change 1" in compared

    def test_the_rolled_back_deploy_shows_its_metric_threshold_and_rollback_moment(
        self, client: TestClient, deployed: dict[str, str]
    ) -> None:
        page = client.get(TAB, headers=HTML).text
        assert "Health analysis of 1.1.0 in production" in text_of(page)
        assert "error rate 40.0% above 5.0%" in text_of(page)
        svg = re.search(r'<svg class="trend evidence-chart".*?</svg>', page, re.S)
        assert svg is not None
        chart = svg.group(0)
        assert 'class="threshold"' in chart and "threshold 5.0%" in chart
        rollback_at = T0 + timedelta(hours=2, seconds=25)
        assert f"rollback at {rollback_at:%H:%M:%S} UTC" in chart
        assert chart.count('data-ok="false"') == 2
        other = client.get(
            f"{TAB}&deployment={deployed['bad']}&check=latency_p95", headers=HTML
        ).text
        assert "p95 latency during the analysis" in other

    def test_dora_figures_come_with_their_definitions(
        self, client: TestClient, deployed: dict[str, str]
    ) -> None:
        text = text_of(client.get(TAB, headers=HTML).text)
        assert "Change failure rate 50 % (1 of 2)" in text
        assert "Failed or rolled-back production deploys divided by" in text
        assert "Time to restore 30 s" in text

    def test_the_tab_s_queries_do_not_grow_with_the_history(
        self, client: TestClient, runtime: Runtime, deployed: dict[str, str]
    ) -> None:
        def count() -> int:
            with counting_queries(runtime) as statements:
                assert client.get(TAB, headers=HTML).status_code == 200
            return len(statements)

        count()  # the catalog's caches warm up
        few = count()
        for minutes in range(15):
            add_deployment(
                runtime,
                version=f"2.{minutes}.0",
                commit=deployed["second"],
                status="failed" if minutes % 3 else "succeeded",
                created_at=T0 + timedelta(hours=3, minutes=minutes),
                previous_id=deployed["rollback"],
            )
        assert count() == few

    def test_a_component_never_deployed_says_how_to_deploy(
        self, client: TestClient, runtime: Runtime, tmp_path: Path
    ) -> None:
        register_component(runtime, tmp_path, "ledger", "file:///srv/git/ledger.git")
        text = text_of(
            client.get("/catalog/default/component/ledger?tab=deployments", headers=HTML).text
        )
        assert "No deployments yet" in text and "pavedroad deploy component:default/ledger" in text


class TestDeploymentsPage:
    def test_the_latest_deploys_and_the_organisation_s_figures(
        self, client: TestClient, deployed: dict[str, str]
    ) -> None:
        page = client.get("/deployments", headers=HTML)
        assert page.status_code == 200
        text = text_of(page.text)
        assert "DORA metrics last 30 days, production" in text
        assert "component:payments 1.1.0 production rolled back error rate 40.0% above 5.0%" in text
        assert (
            f'href="/catalog/default/component/payments?tab=deployments&amp;deployment={deployed["bad"]}"'
            in page.text
        )
        assert '<a href="/deployments"' in page.text  # the sidebar's entry is no longer "soon"


class TestPromotionForm:
    def test_promoting_into_a_frozen_environment_is_refused_and_recorded(
        self, client: TestClient, runtime: Runtime, deployed: dict[str, str]
    ) -> None:
        staging = runtime.settings.deploy.environments[1]
        staging.freezes.append(
            FreezeWindow(start=T0, end=T0 + timedelta(days=5), reason="year-end")
        )
        page = client.get(TAB, headers=HTML).text
        assert "Not now: staging is frozen until" in text_of(page)
        response = client.post(
            "/deployments/component/default/payments/promote",
            data={"from": "dev", "to": "staging", "csrf_token": csrf(page)},
            headers=HTML,
            follow_redirects=False,
        )
        assert response.status_code == 409
        assert "frozen" in text_of(response.text)
        with runtime.db.read_session() as session:
            refused = session.query(Deployment).filter_by(environment="staging").one()
        assert (refused.status, refused.trigger) == ("refused", "promotion")

    def test_promoting_from_an_empty_environment_is_not_found(
        self, client: TestClient, deployed: dict[str, str]
    ) -> None:
        page = client.get(TAB, headers=HTML).text
        response = client.post(
            "/deployments/component/default/payments/promote",
            data={"from": "staging", "to": "production", "csrf_token": csrf(page)},
            headers=HTML,
        )
        assert response.status_code == 404
        assert "Nothing runs in staging" in text_of(response.text)


def csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]*)"', page)
    return found.group(1) if found else ""


class TestTeamAndHome:
    def test_the_team_page_shows_the_dora_figures_of_what_it_owns(
        self, client: TestClient, runtime: Runtime, deployed: dict[str, str], tmp_path: Path
    ) -> None:
        from pavedroad.catalog import service as catalog

        path = write_entities(tmp_path / "team.yaml", group("team-a"))
        with runtime.db.session() as session:
            catalog.register_locations(
                session, runtime.catalog, [("file", str(path))], actor=OPERATOR
            )
        page = client.get("/catalog/default/group/team-a?tab=deployments", headers=HTML)
        assert page.status_code == 200
        text = text_of(page.text)
        assert "DORA metrics last 30 days, production" in text
        assert "Over the 1 component(s) the team owns: component:payments" in text
        assert 'href="/catalog/default/component/payments?tab=deployments"' in page.text
        assert 'class="trend dora-weeks"' in page.text

    def test_the_home_card_shows_the_organisation_s_figures(
        self, client: TestClient, deployed: dict[str, str]
    ) -> None:
        text = text_of(client.get("/", headers=HTML).text)
        assert "Deployments" in text
        assert "change failure rate 50 %" in text and "What these mean" in text


class TestWhoMayPromote:
    """Under the default policy: anyone deploys to dev, team leads to staging."""

    @pytest.fixture
    def ledger_in_dev(self, secure_runtime: Runtime) -> None:
        ref = "component:default/ledger"
        ids = [
            add_deployment(
                secure_runtime,
                component_ref=ref,
                environment="dev",
                version=version,
                commit=commit * 40,
                status="succeeded",
                created_at=T0 + timedelta(minutes=minutes),
            )
            for version, commit, minutes in (("1.0.0", "a", 0), ("1.1.0", "b", 10))
        ]
        with secure_runtime.db.session() as session:
            row = session.get(Deployment, ids[1])
            assert row is not None
            row.previous_id = ids[0]
            session.add(
                EnvironmentState(
                    component_ref=ref,
                    environment="dev",
                    current_id=ids[1],
                    last_good_id=ids[1],
                    healthy=True,
                    updated_at=T0,
                )
            )

    def test_a_developer_may_roll_back_dev_but_not_promote_to_staging(
        self, signed_in: Callable[[str], TestClient], ledger_in_dev: None
    ) -> None:
        ada = signed_in("ada")
        page = ada.get("/catalog/default/component/ledger?tab=deployments", headers=HTML).text
        text = text_of(page)
        assert (
            "Promote 1.1.0 from dev to staging Not now: the permission policy does not let you "
            "deploy to staging." in text
        )
        assert re.search(r"<button[^>]*disabled[^>]*>Promote 1.1.0 from dev to staging", page)
        assert "Roll back dev" in text
        refused = ada.post(
            "/deployments/component/default/ledger/promote",
            data={"from": "dev", "to": "staging", "csrf_token": csrf(page)},
            headers=HTML,
        )
        assert refused.status_code == 403
