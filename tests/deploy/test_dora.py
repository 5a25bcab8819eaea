"""DORA metrics from the deployment records and the repository's own commit dates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from pavedroad.deploy.dora import DEFINITIONS, compute_dora, describe_duration
from pavedroad.pipelines import workspace
from pavedroad.runtime import Runtime
from tests.conftest import git
from tests.deploy.analysis_support import add_deployment
from tests.pipelines.trigger_support import register_component

NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)
DAY = timedelta(days=1)
BASE = NOW - 10 * DAY


def repository_with_dated_commits(tmp_path: Path, dates: list[datetime]) -> tuple[str, list[str]]:
    bare = tmp_path / "remotes" / "payments.git"
    bare.mkdir(parents=True)
    git("init", "--quiet", "--bare", "-b", "main", cwd=bare)
    work = tmp_path / "work"
    work.mkdir()
    git("init", "--quiet", "-b", "main", cwd=work)
    commits = []
    for index, date in enumerate(dates):
        (work / "change.txt").write_text(str(index))
        git("add", "--all", cwd=work)
        git("commit", "--quiet", "-m", f"change {index}", f"--date={date.isoformat()}", cwd=work)
        commits.append(git("rev-parse", "HEAD", cwd=work).strip())
    git("remote", "add", "origin", str(bare), cwd=work)
    git("push", "--quiet", "origin", "main", cwd=work)
    return bare.as_uri(), commits


def production(runtime: Runtime, status: str, day: float, **values: object) -> None:
    at = BASE + day * DAY
    row: dict[str, object] = {
        "status": status,
        "created_at": at,
        "deployed_at": at,
        "finished_at": at + timedelta(minutes=5),
    }
    add_deployment(runtime, **(row | values))


@pytest.fixture
def history(runtime: Runtime, tmp_path: Path) -> list[str]:
    """payments (team-a): deployed A, C rolled back (restored 10 min later), C again; ledger
    (team-b): one failed deploy. Plus what does not count: staging and a refused deploy."""
    url, (a, _b, c) = repository_with_dated_commits(
        tmp_path, [BASE, BASE + 2 * DAY, BASE + 4 * DAY]
    )
    register_component(runtime, tmp_path, "payments", url, owner="team-a")
    register_component(runtime, tmp_path, "ledger", "file:///srv/git/ledger.git", owner="team-b")
    workspace.fetch(runtime.settings, url)  # what a deploy does before it runs
    production(runtime, "succeeded", 1, commit=a, version="1.0.0")
    production(runtime, "rolled_back", 5, commit=c, version="1.1.0")
    rollback_at = BASE + 5 * DAY + timedelta(minutes=10)
    production(runtime, "succeeded", 5.001, commit=a, kind="rollback", finished_at=rollback_at)
    production(runtime, "succeeded", 6, commit=c, version="1.1.1")
    production(runtime, "succeeded", 6, environment="staging")
    production(runtime, "refused", 6.5, deployed_at=None)
    production(runtime, "failed", 7, component_ref="component:default/ledger", deployed_at=None)
    return [a, c]


class TestComputeDora:
    def test_a_component_s_four_figures(self, runtime: Runtime, history: list[str]) -> None:
        with runtime.db.read_session() as session:
            report = compute_dora(
                session,
                runtime.settings,
                scope="component:default/payments",
                components=["component:default/payments"],
                now=NOW,
            )
        assert (report.deploys, report.failures) == (3, 1)
        assert report.change_failure_rate == pytest.approx(1 / 3)
        assert report.deployment_frequency == pytest.approx(2 / 30)
        # 1.0.0: commit A (day 0) live on day 1; 1.1.1: B (day 2) is its first new commit, live
        # on day 6 -> 1 day and 4 days, median 2.5 days.
        assert report.lead_time_samples == 2
        assert report.lead_time_seconds == pytest.approx(2.5 * 86400)
        assert report.restores == 1
        assert report.time_to_restore_seconds == pytest.approx(600)
        assert sum(week["succeeded"] for week in report.weeks) == 2
        assert sum(week["failed"] for week in report.weeks) == 1

    def test_the_organisation_counts_every_component(
        self, runtime: Runtime, history: list[str]
    ) -> None:
        with runtime.db.read_session() as session:
            report = compute_dora(
                session, runtime.settings, scope="organisation", components=None, now=NOW
            )
        assert report.components == ["component:default/ledger", "component:default/payments"]
        assert report.change_failure_rate == pytest.approx(2 / 4)

    def test_deploys_older_than_the_period_are_not_counted(
        self, runtime: Runtime, history: list[str]
    ) -> None:
        with runtime.db.read_session() as session:
            report = compute_dora(
                session, runtime.settings, scope="organisation", components=None, days=2, now=NOW
            )
        assert (report.deploys, report.failures) == (0, 0)
        assert report.change_failure_rate is None and report.lead_time_seconds is None


class TestDoraApi:
    def test_a_team_s_figures_come_with_their_definitions(
        self, client: TestClient, history: list[str]
    ) -> None:
        response = client.get("/api/deploy/v1/dora", params={"team": "group:default/team-b"})
        assert response.status_code == 200
        body = response.json()
        assert body["components"] == ["component:default/ledger"]
        assert body["changeFailureRate"]["value"] == 1.0
        assert body["changeFailureRate"]["definition"] == DEFINITIONS["change_failure_rate"]
        assert body["leadTime"]["definition"].startswith("Median time from the first commit")

    def test_a_component_nobody_may_see_or_that_does_not_exist_is_not_found(
        self, client: TestClient
    ) -> None:
        response = client.get("/api/deploy/v1/dora", params={"component": "component:default/x"})
        assert response.status_code == 404

    def test_component_and_team_together_are_refused(self, client: TestClient) -> None:
        response = client.get(
            "/api/deploy/v1/dora", params={"component": "component:default/a", "team": "group:b"}
        )
        assert response.status_code == 400


def test_durations_read_as_people_say_them() -> None:
    assert [describe_duration(s) for s in (None, 12, 250, 7500, 3 * 86400 + 4 * 3600)] == [
        "—",
        "12 s",
        "4 min 10 s",
        "2 h 5 min",
        "3 d 4 h",
    ]
