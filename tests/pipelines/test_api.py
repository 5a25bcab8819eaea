"""The runs API: manual runs of a component or a known repository, the run list (filters, newest
first, cursor pages), one run with its steps and results, step logs, artifacts, cancellation;
and what the policy lets each person see and do."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from pavedroad.audit.models import AuditEvent
from pavedroad.runtime import Runtime, build_runtime
from tests.catalog.test_api import counting_queries
from tests.identity import conftest as identity
from tests.identity.conftest import PASSWORD, csrf_of, new_client, sign_in
from tests.pipelines.engine_support import make_repository, pipeline_file, run_now, start
from tests.pipelines.test_reports import COBERTURA, PYTEST
from tests.pipelines.trigger_support import register_component

API = "/api/pipelines/v1"
secure_runtime = identity.secure_runtime  # fixtures: a portal that needs signing in
signed_out_settings = identity.signed_out_settings
STEPS = (
    "      - name: unit\n"
    "        run: echo first line; echo second line; mkdir -p out dist; "
    "cp fixtures/junit.xml out/junit.xml; cp fixtures/coverage.xml out/coverage.xml; "
    "echo wheel > dist/app.whl\n"
    "        reports: {junit: out/junit.xml, coverage: out/coverage.xml}\n"
    "        artifacts: [dist/app.whl]\n"
)
FILES = {
    **pipeline_file(STEPS, stage="test"),
    "fixtures/junit.xml": PYTEST,
    "fixtures/coverage.xml": COBERTURA,
}


@pytest.fixture
def payments(runtime: Runtime, tmp_path: Path) -> tuple[str, str]:
    url = make_repository(tmp_path, FILES, name="payments")
    return url, register_component(runtime, tmp_path, "payments", url)


def audited(runtime: Runtime, event: str) -> list[AuditEvent]:
    with runtime.db.read_session() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.event == event)))


class TestStartRun:
    def test_a_component_is_run_by_hand_and_audited(
        self, runtime: Runtime, client: TestClient, payments: tuple[str, str]
    ) -> None:
        url, ref = payments
        response = client.post(f"{API}/runs", json={"component": ref, "branch": "main"})

        assert response.status_code == 201, response.text
        run = response.json()
        assert (run["component"], run["repository"], run["trigger"]) == (ref, url, "manual")
        assert run["status"] == "queued" and run["triggeredBy"] == "user:default/tester"
        assert run["links"]["page"].endswith(f"/pipelines/runs/{run['id']}")
        (row,) = audited(runtime, "pipeline.run.started")
        assert row.actor == "user:default/tester"

    def test_a_repository_is_run_when_it_is_a_component_s(
        self, client: TestClient, payments: tuple[str, str]
    ) -> None:
        url, ref = payments
        response = client.post(f"{API}/runs", json={"repository": url})
        assert response.status_code == 201 and response.json()["component"] == ref

    @pytest.mark.parametrize(
        ("body", "status", "says"),
        [
            ({}, 400, "either"),
            ({"component": "component:default/payments", "repository": "x"}, 400, "either"),
            ({"component": "component:default/nothing"}, 404, "No catalog entity"),
            ({"repository": "https://example.test/stray"}, 404, "not watched"),
            ({"component": "component:default/payments", "branch": "nope"}, 404, "no branch"),
        ],
    )
    def test_what_cannot_be_run_says_why(
        self,
        client: TestClient,
        payments: tuple[str, str],
        body: dict[str, str],
        status: int,
        says: str,
    ) -> None:
        response = client.post(f"{API}/runs", json=body)
        assert response.status_code == status, response.text
        assert says in response.json()["error"]["message"]


class TestReadRuns:
    def test_a_finished_run_shows_steps_results_coverage_log_and_artifacts(
        self, runtime: Runtime, client: TestClient, payments: tuple[str, str]
    ) -> None:
        run_id = start(runtime, payments[0])
        assert run_now(runtime, run_id) == "succeeded"

        run = client.get(f"{API}/runs/{run_id}").json()
        (step,) = run["steps"]
        assert (step["id"], step["status"]) == ("test.unit", "succeeded")
        assert step["durationSeconds"] is not None and run["durationSeconds"] is not None
        assert run["tests"]["passed"] == 2 and run["tests"]["failed"] == 1
        assert run["tests"]["failures"][0]["name"] == "test_total"
        assert run["coverage"]["line_rate"] == 0.87

        log = client.get(f"{API}/runs/{run_id}/steps/test.unit/log")
        assert log.headers["content-type"].startswith("text/plain")
        assert "first line\nsecond line" in log.text
        last = int(log.headers["x-last-chunk"])
        later = client.get(f"{API}/runs/{run_id}/steps/test.unit/log", params={"after": last})
        assert later.text == "" and later.headers["x-last-chunk"] == str(last)
        chunks = client.get(
            f"{API}/runs/{run_id}/steps/test.unit/log", headers={"accept": "application/json"}
        ).json()
        assert chunks["last"] == last and "first line" in chunks["chunks"][0]["text"]
        missing = client.get(f"{API}/runs/{run_id}/steps/test.nothing/log")
        assert missing.status_code == 404 and "test.unit" in missing.json()["error"]["message"]

        artifacts = client.get(f"{API}/runs/{run_id}/artifacts").json()["items"]
        wheel = next(a for a in artifacts if a["path"] == "dist/app.whl")
        download = client.get(wheel["download"])
        assert download.status_code == 200 and download.content == b"wheel\n"
        assert 'filename="app.whl"' in download.headers["content-disposition"]
        assert client.get(f"{API}/runs/{run_id}/artifacts/999999").status_code == 404

    def test_an_artifact_stored_outside_the_store_is_not_served(
        self, runtime: Runtime, client: TestClient, payments: tuple[str, str], tmp_path: Path
    ) -> None:
        from pavedroad.pipelines.models import PipelineArtifact

        run_id = start(runtime, payments[0])
        run_now(runtime, run_id)
        (tmp_path / "secret.txt").write_text("not yours")
        with runtime.db.session() as session:
            artifact = session.scalars(select(PipelineArtifact)).first()
            assert artifact is not None
            artifact.stored = "../../secret.txt"
            artifact_id = artifact.id
        response = client.get(f"{API}/runs/{run_id}/artifacts/{artifact_id}")
        assert response.status_code == 404

    def test_the_list_is_newest_first_filtered_and_paged_by_cursor(
        self, runtime: Runtime, client: TestClient, payments: tuple[str, str], tmp_path: Path
    ) -> None:
        other = make_repository(tmp_path, FILES, name="billing")
        register_component(runtime, tmp_path, "billing", other)
        started = [start(runtime, payments[0]) for _ in range(5)]
        start(runtime, other)

        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, str | int] = {"component": payments[1], "limit": 2}
            if cursor:
                params["cursor"] = cursor
            page = client.get(f"{API}/runs", params=params).json()
            seen += [item["id"] for item in page["items"]]
            cursor = page["pageInfo"]["nextCursor"]
            if cursor is None:
                break
        assert seen == list(reversed(started))
        by_repository = client.get(f"{API}/runs", params={"repository": other}).json()["items"]
        assert [item["component"] for item in by_repository] == ["component:default/billing"]
        assert client.get(f"{API}/runs", params={"status": "failed"}).json()["items"] == []
        bad = client.get(f"{API}/runs", params={"cursor": "nonsense"})
        assert bad.status_code == 400 and "cursor" in bad.json()["error"]["message"]

    def test_the_list_costs_the_same_queries_for_one_run_or_many(
        self, runtime: Runtime, client: TestClient, payments: tuple[str, str]
    ) -> None:
        start(runtime, payments[0])
        client.get(f"{API}/runs")  # warm caches
        with counting_queries(runtime) as one:
            assert len(client.get(f"{API}/runs").json()["items"]) == 1
        for _ in range(4):
            start(runtime, payments[0])
        with counting_queries(runtime) as five:
            assert len(client.get(f"{API}/runs").json()["items"]) == 5
        assert len(five) == len(one)

    def test_a_queued_run_is_cancelled_and_audited(
        self, runtime: Runtime, client: TestClient, payments: tuple[str, str]
    ) -> None:
        run_id = start(runtime, payments[0])

        response = client.post(f"{API}/runs/{run_id}/cancel")

        assert response.status_code == 200 and response.json()["status"] == "cancelled"
        assert audited(runtime, "pipeline.run.cancelled")[0].actor == "user:default/tester"
        assert client.post(f"{API}/runs/nothing/cancel").status_code == 404


OWNERS_ONLY = """
rules:
  - name: owners-see-what-they-own
    permissions: [catalog.entity.read]
    if: {is_entity_owner: {}}
    decision: allow
  - name: everyone-reads-runs
    permissions: [pipeline.run.read, identity.self.read]
    decision: allow
  - name: team-a-runs-pipelines
    permissions: [pipeline.run.create, pipeline.run.cancel]
    if: {user_in_group: "group:default/team-a"}
    decision: allow
default: deny
"""


@pytest.fixture
def owners_only(secure_runtime: Runtime, tmp_path: Path) -> Iterator[Runtime]:
    """Ada (team-a) owns ledger, Bo (team-b) payroll; each sees only what they own, and only
    team-a may start and cancel runs."""
    policy = tmp_path / "owners-only.yaml"
    policy.write_text(OWNERS_ONLY)
    settings = secure_runtime.settings
    permissions = settings.permissions.model_copy(update={"policy_file": policy, "admins": []})
    yield build_runtime(
        settings.model_copy(update={"permissions": permissions}), db=secure_runtime.db
    )


class TestPermissions:
    @pytest.fixture
    def runs(self, owners_only: Runtime, tmp_path: Path) -> dict[str, str]:
        url = make_repository(tmp_path, FILES, name="shared")
        return {
            name: start(owners_only, url, component_ref=f"component:default/{name}")
            for name in ("ledger", "payroll")
        }

    def signed_in(self, runtime: Runtime, name: str) -> TestClient:
        client = new_client(runtime).__enter__()
        assert sign_in(client, name, PASSWORD).status_code == 303
        client.headers["x-csrf-token"] = csrf_of(client)
        return client

    def test_runs_of_components_the_viewer_may_not_see_are_not_listed(
        self, owners_only: Runtime, runs: dict[str, str]
    ) -> None:
        ada = self.signed_in(owners_only, "ada")
        listed = ada.get(f"{API}/runs").json()["items"]
        assert [item["id"] for item in listed] == [runs["ledger"]]
        assert ada.get(f"{API}/runs/{runs['payroll']}").status_code == 404
        assert ada.get(f"{API}/runs/{runs['payroll']}/steps/test.unit/log").status_code == 404
        assert ada.get(f"{API}/runs/{runs['ledger']}").status_code == 200
        ada.__exit__(None, None, None)

    def test_a_person_the_policy_does_not_let_run_pipelines_cannot_start_or_cancel(
        self, owners_only: Runtime, runs: dict[str, str]
    ) -> None:
        bo = self.signed_in(owners_only, "bo")
        assert bo.get(f"{API}/runs/{runs['payroll']}").status_code == 200

        started = bo.post(f"{API}/runs", json={"component": "component:default/payroll"})
        cancelled = bo.post(f"{API}/runs/{runs['payroll']}/cancel")

        assert started.status_code == 403 and cancelled.status_code == 403
        denied = audited(owners_only, "pipeline.run.create") + audited(
            owners_only, "pipeline.run.cancel"
        )
        assert [row.result for row in denied] == ["denied", "denied"]
        bo.__exit__(None, None, None)

    def test_a_person_cannot_start_the_pipeline_of_a_component_they_may_not_see(
        self, owners_only: Runtime, runs: dict[str, str]
    ) -> None:
        ada = self.signed_in(owners_only, "ada")
        started = ada.post(f"{API}/runs", json={"component": "component:default/payroll"})
        assert started.status_code == 404, started.text
        ada.__exit__(None, None, None)

    def test_signed_out_callers_are_refused(self, owners_only: Runtime) -> None:
        with new_client(owners_only) as client:
            assert client.get(f"{API}/runs").status_code == 401
            assert client.post(f"{API}/runs", json={}).status_code == 401
