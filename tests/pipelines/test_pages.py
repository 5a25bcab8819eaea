"""The pipeline pages: a run with its stages, steps, durations, tests, coverage, artifacts and
problems; its log followed live; the run list; the CI/CD tab of a component; status badges; and
the home page's failing pipelines, each showing only what the viewer may see."""

# ruff: noqa: F811 - pytest fixtures imported from tests.identity.conftest are parameters here
# ruff: noqa: RUF001 - the pages write typographic dashes and arrows (en dash, angle quote)

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from pavedroad.audit.models import AuditEvent
from pavedroad.pipelines.models import PipelineRun, PipelineStep
from pavedroad.runtime import Runtime, build_runtime
from tests.catalog.test_api import counting_queries
from tests.identity.conftest import (  # noqa: F401 - fixtures
    csrf_of,
    secure_runtime,
    signed_in,
    signed_out_settings,
)
from tests.pipelines.engine_support import make_repository, pipeline_file, run_now, start
from tests.pipelines.page_support import StepSpec, add_log, add_run, failing_steps
from tests.pipelines.test_reports import COBERTURA, PYTEST
from tests.pipelines.trigger_support import register_component

HTML = {"accept": "text/html"}
LEDGER = "component:default/ledger"  # team-a's: Ada's
PAYROLL = "component:default/payroll"  # team-b's: Bo's


@pytest.fixture
def ada(signed_in: Callable[[str], TestClient]) -> TestClient:
    return signed_in("ada")


def insert(runtime: Runtime, component_ref: str | None, **options: object) -> PipelineRun:
    with runtime.db.session() as session:
        run = add_run(session, component_ref, **options)  # type: ignore[arg-type]
        session.expunge_all()
    return run


def step_pk(runtime: Runtime, run_id: str, step_id: str) -> int:
    with runtime.db.session() as session:
        found = session.scalar(
            select(PipelineStep.id).where(
                PipelineStep.run_id == run_id, PipelineStep.step_id == step_id
            )
        )
    assert found is not None
    return found


def text_of(page: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


class TestRunPage:
    def test_shows_stages_steps_durations_tests_coverage_and_artifacts(
        self, secure_runtime: Runtime, ada: TestClient
    ) -> None:
        run = insert(secure_runtime, LEDGER, status="failed", steps=failing_steps(), seconds=95)
        page = ada.get(f"/pipelines/runs/{run.id}", headers=HTML)
        assert page.status_code == 200
        text = text_of(page.text)
        assert f"ledger #{run.number}" in text
        assert "Failed failed in 1 min 35 s" in text
        for stage in ("build", "test", "deploy"):
            assert f"<h3>{stage}</h3>" in page.text
        assert "unit 31.4 s" in text and "1 of 44 tests failed" in text
        assert "41 passed" in text and "1 failed" in text and "2 skipped" in text
        assert "tests.test_refunds.test_refund_is_rounded" in text
        assert "AssertionError: 10.01 != 10.0" in text
        assert "87.3 % line coverage" in text and "873 of 1000 lines" in text
        artifacts = re.findall(r'href="(/api/pipelines/v1/runs/[^"]+/artifacts/\d+)"', page.text)
        assert len(artifacts) == 2 and all(run.id in href for href in artifacts)
        assert "reports/junit.xml" in text and "2.0 kB" in text
        assert "<code>file:///srv/git/ledger.git</code>" in page.text
        assert "hx-get" not in page.text  # finished: nothing to follow

    def test_the_failing_steps_log_is_first_and_open(
        self, secure_runtime: Runtime, ada: TestClient
    ) -> None:
        run = insert(secure_runtime, LEDGER, status="failed", steps=failing_steps())
        page = ada.get(f"/pipelines/runs/{run.id}", headers=HTML).text
        logs = page[page.index('id="logs-heading"') :]
        order = re.findall(r'<details id="step-(\d+)"( open)?', logs)
        unit = step_pk(secure_runtime, run.id, "test.unit")
        assert order[0] == (str(unit), " open")
        assert all(opened == "" for _, opened in order[1:])
        assert f'href="#step-{unit}"' in page and "Failed at" in page
        failing_log = logs[logs.index(f'id="log-{unit}"') :]
        assert "FAILED tests/test_refunds.py" in failing_log.split("</pre>")[0]

    def test_a_rejected_run_lists_its_problems_with_file_line_and_hint(
        self, secure_runtime: Runtime, ada: TestClient
    ) -> None:
        problem = {
            "message": "unknown step type 'tets'",
            "file": ".pavedroad/pipeline.yaml",
            "line": 7,
            "column": 11,
            "path": "stages[1].steps[0].uses",
            "hint": "did you mean 'tests'?",
        }
        run = insert(secure_runtime, LEDGER, status="rejected", problems=[problem])
        text = text_of(ada.get(f"/pipelines/runs/{run.id}", headers=HTML).text)
        assert "The pipeline file was rejected" in text
        assert ".pavedroad/pipeline.yaml:7:11 stages[1].steps[0].uses unknown step type" in text
        assert "— did you mean 'tests'?" in text
        assert "Nothing ran" in text

    def test_a_running_run_polls_for_what_comes_after_its_last_chunk(
        self, secure_runtime: Runtime, ada: TestClient
    ) -> None:
        steps = [
            StepSpec("build", "compile", log=["one\n", "two\n"]),
            StepSpec("test", "unit", status="running", seconds=None, log=["three\n"]),
            StepSpec("test", "lint", status="pending", seconds=None),
        ]
        run = insert(secure_runtime, LEDGER, status="running", steps=steps, seconds=None)
        page = ada.get(f"/pipelines/runs/{run.id}", headers=HTML).text
        found = re.search(rf'hx-get="/pipelines/runs/{run.id}/live\?after=(\d+)"', page)
        assert found and "Running…" in page and 'http-equiv="refresh"' in page
        assert "Cancel the run" in page
        unit = step_pk(secure_runtime, run.id, "test.unit")
        assert f'<details id="step-{unit}" open>' in page

        last = int(found.group(1))
        with secure_runtime.db.session() as session:
            new = add_log(session, unit, "four\n")
        live = ada.get(f"/pipelines/runs/{run.id}/live", params={"after": last}, headers=HTML)
        assert live.status_code == 200 and "HX-Refresh" not in live.headers
        appended = re.findall(r'hx-swap-oob="beforeend:#log-(\d+)"[^>]*>([^<]*)<', live.text)
        assert appended == [(str(unit), "four\n")]  # only the chunk after the id
        assert f'/live?after={new}"' in live.text
        assert 'id="run-summary" hx-swap-oob="true"' in live.text
        again = ada.get(f"/pipelines/runs/{run.id}/live", params={"after": new}, headers=HTML)
        assert "beforeend" not in again.text

    def test_the_live_answer_asks_for_a_reload_once_the_run_has_finished(
        self, secure_runtime: Runtime, ada: TestClient
    ) -> None:
        run = insert(secure_runtime, LEDGER, status="succeeded", steps=failing_steps()[:1])
        live = ada.get(f"/pipelines/runs/{run.id}/live?after=0", headers=HTML)
        assert live.headers["HX-Refresh"] == "true"
        assert "hx-get" not in live.text

    def test_a_bad_after_is_refused_saying_what_it_must_be(
        self, secure_runtime: Runtime, ada: TestClient
    ) -> None:
        run = insert(secure_runtime, LEDGER, status="running", seconds=None)
        answer = ada.get(f"/pipelines/runs/{run.id}/live?after=last", headers=HTML)
        assert answer.status_code == 400 and "after must be a whole number" in answer.text

    def test_an_unknown_run_is_not_found(self, ada: TestClient) -> None:
        assert ada.get("/pipelines/runs/nope", headers=HTML).status_code == 404


class TestWithTheEngine:
    def test_a_run_the_engine_ran_shows_its_tests_coverage_log_and_artifact_links(
        self, runtime: Runtime, client: TestClient, tmp_path: Path
    ) -> None:
        steps = (
            "      - name: unit\n"
            "        run: echo collected 3 items; mkdir -p out dist; "
            "cp fixtures/junit.xml out/junit.xml; cp fixtures/coverage.xml out/coverage.xml; "
            "echo wheel > dist/app.whl\n"
            "        reports: {junit: out/junit.xml, coverage: out/coverage.xml}\n"
            "        artifacts: [dist/app.whl]\n"
        )
        files = {
            **pipeline_file(steps, stage="test"),
            "fixtures/junit.xml": PYTEST,
            "fixtures/coverage.xml": COBERTURA,
        }
        url = make_repository(tmp_path, files, name="payments")
        register_component(runtime, tmp_path, "payments", url)
        run_id = start(runtime, url)
        run_now(runtime, run_id)

        page = client.get(f"/pipelines/runs/{run_id}", headers=HTML)
        text = text_of(page.text)
        assert "collected 3 items" in text
        assert "2 passed" in text and "1 failed" in text and "test_total" in text
        assert "87.0 % line coverage" in text
        raw = client.get(f"/api/pipelines/v1/runs/{run_id}/steps/test.unit/log")
        assert f'href="/api/pipelines/v1/runs/{run_id}/steps/test.unit/log"' in page.text
        assert "collected 3 items" in raw.text
        links = re.findall(r'href="(/api/pipelines/v1/runs/[^"]+/artifacts/\d+)"', page.text)
        downloads = [client.get(link) for link in links]
        assert any(d.status_code == 200 and d.content == b"wheel\n" for d in downloads)


class TestRunList:
    def test_lists_newest_first_with_status_and_duration(
        self, secure_runtime: Runtime, ada: TestClient
    ) -> None:
        old = insert(secure_runtime, LEDGER, status="succeeded", seconds=12.5)
        new = insert(secure_runtime, LEDGER, status="failed", branch="fix", seconds=200)
        page = ada.get("/pipelines", headers=HTML).text
        assert page.index(f"/pipelines/runs/{new.id}") < page.index(f"/pipelines/runs/{old.id}")
        text = text_of(page)
        assert "12.5 s" in text and "3 min 20 s" in text
        assert 'class="badge badge-danger">failed' in page

    def test_filters_by_status_component_and_branch(
        self, secure_runtime: Runtime, ada: TestClient
    ) -> None:
        passed = insert(secure_runtime, LEDGER, status="succeeded")
        failed = insert(secure_runtime, LEDGER, status="failed", branch="fix")
        other = insert(secure_runtime, PAYROLL, status="failed")
        page = ada.get("/pipelines?status=failed", headers=HTML).text
        assert failed.id in page and other.id in page and passed.id not in page
        page = ada.get(f"/pipelines?component={LEDGER}&branch=fix", headers=HTML).text
        assert failed.id in page and passed.id not in page and other.id not in page
        short = ada.get("/pipelines?component=ledger&status=failed", headers=HTML).text
        assert failed.id in short and other.id not in short
        nothing = ada.get("/pipelines?branch=nope", headers=HTML).text
        assert "No runs match these filters" in nothing
        bad_ref = ada.get("/pipelines?component=component:", headers=HTML)
        assert bad_ref.status_code == 400 and "was not on the form" in text_of(bad_ref.text)
        bad = ada.get("/pipelines?status=great", headers=HTML)
        assert bad.status_code == 400 and "status must be one of queued, running" in bad.text

    def test_pages_through_runs(self, secure_runtime: Runtime, ada: TestClient) -> None:
        with secure_runtime.db.session() as session:
            for _ in range(55):
                add_run(session, LEDGER)
        first = ada.get("/pipelines", headers=HTML).text
        assert "1–50 of 55" in first and 'href="/pipelines?offset=50"' in first
        second = ada.get("/pipelines?offset=50", headers=HTML).text
        assert "51–55 of 55" in second and "← Newer" in second
        assert len(re.findall(r'href="/pipelines/runs/', second)) == 5


class TestQueryCounts:
    def test_the_pages_read_as_often_with_many_runs_and_steps_as_with_few(
        self, secure_runtime: Runtime, ada: TestClient, tmp_path: Path
    ) -> None:
        def counts() -> list[int]:
            newest = ada.get("/pipelines", headers=HTML).text
            run_id = re.findall(r'href="/pipelines/runs/([^"#]+)"', newest)[0]
            found = []
            for path in (
                "/pipelines",
                f"/pipelines/runs/{run_id}",
                f"/pipelines/runs/{run_id}/live?after=0",
                "/catalog/default/component/ledger?tab=cicd",
                "/",
            ):
                # Who Ada is stays remembered for 5 s; on a loaded machine that can lapse in
                # the middle of a measurement, so each page is measured right after a fresh
                # sign-in check.
                authenticator = ada.app.state.authenticator  # type: ignore[attr-defined]
                authenticator.recent.forget(lambda principal: True)
                assert ada.get(path, headers=HTML).status_code == 200, path
                with counting_queries(secure_runtime) as statements:
                    assert ada.get(path, headers=HTML).status_code == 200, path
                found.append(len(statements))
            return found

        with secure_runtime.db.session() as session:
            add_run(session, LEDGER, status="failed", steps=failing_steps())
        counts()  # the catalog's caches warm up
        few = counts()
        with secure_runtime.db.session() as session:
            for _ in range(30):
                add_run(session, LEDGER, status="succeeded", steps=failing_steps()[:1])
            add_run(session, LEDGER, status="failed", steps=failing_steps() * 3)
        assert counts() == few


class TestCicdTab:
    def test_a_component_without_runs_says_how_runs_start_and_offers_a_run(
        self, secure_runtime: Runtime, ada: TestClient, tmp_path: Path
    ) -> None:
        register_component(secure_runtime, tmp_path, "billing", "file:///srv/git/billing.git")
        page = ada.get("/catalog/default/component/billing?tab=cicd", headers=HTML).text
        text = text_of(page)
        assert "No runs yet" in text
        assert "Runs start when you push to file:///srv/git/billing.git , or run it now." in text
        assert 'action="/pipelines/runs"' in page and "Run pipeline" in page
        assert 'name="component" value="component:default/billing"' in page

    def test_a_component_without_a_repository_says_which_annotation_to_add(
        self, ada: TestClient
    ) -> None:
        text = text_of(ada.get("/catalog/default/component/ledger?tab=cicd", headers=HTML).text)
        assert "No runs yet" in text and "backstage.io/source-location" in text

    def test_shows_latest_per_branch_failing_log_trend_and_history(
        self, secure_runtime: Runtime, ada: TestClient
    ) -> None:
        for seconds in (40, 55, 61):
            insert(secure_runtime, LEDGER, status="succeeded", seconds=seconds)
        insert(secure_runtime, LEDGER, status="cancelled", branch="spike", seconds=5)
        failed = insert(secure_runtime, LEDGER, status="failed", steps=failing_steps())
        page = ada.get("/catalog/default/component/ledger?tab=cicd", headers=HTML).text
        text = text_of(page)
        assert 'aria-selected="true"' in page and "CI/CD" in page
        branches = page[page.index("Latest run per branch") : page.index("Run it now")]
        assert branches.count("<li>") == 2 and "spike" in branches and "default" in branches
        assert "main fails at test › unit" in text
        failing = page[page.index('class="card failing-log"') :]
        assert "FAILED tests/test_refunds.py" in failing.split("</pre>")[0]
        assert f"/pipelines/runs/{failed.id}#step-" in failing
        trend = re.search(r'<svg class="trend".*?</svg>', page, re.S)
        assert trend and 'role="img"' in trend.group(0)
        assert "Duration of the last 5 finished runs" in trend.group(0)
        statuses = re.findall(r'data-status="(\w+)"', trend.group(0))
        assert statuses == ["succeeded", "succeeded", "succeeded", "cancelled", "failed"]
        assert "Run history (5)" in text
        assert 'src="/pipelines/badge/component/default/ledger.svg"' in page

    def test_pages_through_the_history(self, secure_runtime: Runtime, ada: TestClient) -> None:
        with secure_runtime.db.session() as session:
            for _ in range(25):
                add_run(session, LEDGER)
        page = ada.get("/catalog/default/component/ledger?tab=cicd", headers=HTML).text
        assert "1–20 of 25" in page and "?tab=cicd&runs_offset=20" in page
        older = ada.get(
            "/catalog/default/component/ledger?tab=cicd&runs_offset=20", headers=HTML
        ).text
        assert "21–25 of 25" in older

    def test_only_components_have_the_tab(self, ada: TestClient) -> None:
        assert "tab=cicd" not in ada.get("/catalog/default/group/team-a", headers=HTML).text


class TestBadge:
    @pytest.mark.parametrize(
        ("status", "message", "colour"),
        [
            ("succeeded", "passing", "#1a7f37"),
            ("failed", "failing", "#c1121f"),
            ("running", "running", "#1f5fd1"),
            (None, "none", "#57606a"),
        ],
    )
    def test_says_and_colours_the_default_branchs_latest_run(
        self,
        secure_runtime: Runtime,
        ada: TestClient,
        status: str | None,
        message: str,
        colour: str,
    ) -> None:
        if status is not None:
            insert(
                secure_runtime, LEDGER, status=status, seconds=None if status == "running" else 9
            )
            insert(secure_runtime, LEDGER, status="cancelled", branch="spike")  # not the default
        badge = ada.get("/pipelines/badge/component/default/ledger.svg")
        assert badge.status_code == 200 and badge.headers["content-type"] == "image/svg+xml"
        assert f'aria-label="pipeline: {message}"' in badge.text
        assert f'fill="{colour}"' in badge.text

    def test_an_unknown_component_has_no_badge(self, ada: TestClient) -> None:
        assert ada.get("/pipelines/badge/component/default/ghost.svg").status_code == 404


class TestHomeCard:
    def test_lists_only_the_viewers_failing_components_with_the_failing_step(
        self, secure_runtime: Runtime, ada: TestClient
    ) -> None:
        failed = insert(secure_runtime, LEDGER, status="failed", steps=failing_steps())
        insert(secure_runtime, PAYROLL, status="failed", steps=failing_steps())  # Bo's
        home = ada.get("/", headers=HTML).text
        card = home[home.index("Your failing pipelines") :]
        assert f"/pipelines/runs/{failed.id}#step-" in card
        assert "Fails at test › unit: 1 of 44 tests failed" in text_of(card)
        assert "payroll" not in card.lower()

    def test_a_fixed_default_branch_or_a_failing_side_branch_is_not_failing(
        self, secure_runtime: Runtime, ada: TestClient
    ) -> None:
        insert(secure_runtime, LEDGER, status="failed")
        insert(secure_runtime, LEDGER, status="succeeded")  # fixed since
        insert(secure_runtime, LEDGER, status="failed", branch="spike")
        home = ada.get("/", headers=HTML).text
        assert "No failing pipelines" in home[home.index("Your failing pipelines") :]


DENY_RUNS = """\
rules:
  - name: catalog-only
    permissions: [catalog.entity.read, identity.self.read]
    decision: allow
default: deny
"""
OWN_ONLY = """\
rules:
  - name: read-own
    permissions: [catalog.entity.read]
    if: {is_entity_owner: {}}
    decision: allow
  - name: runs
    permissions: [pipeline.run.read, pipeline.run.create, pipeline.run.cancel, identity.self.read]
    decision: allow
default: deny
"""


@pytest.fixture
def policy(secure_runtime: Runtime, tmp_path: Path) -> Iterator[Callable[[str], TestClient]]:
    """A browser signed in as Ada under the policy ``text``."""
    from tests.identity.conftest import new_client, sign_in

    opened: list[TestClient] = []

    def make(text: str) -> TestClient:
        path = tmp_path / "policy.yaml"
        path.write_text(text)
        settings = secure_runtime.settings
        permissions = settings.permissions.model_copy(update={"policy_file": path, "admins": []})
        runtime = build_runtime(
            settings.model_copy(update={"permissions": permissions}), db=secure_runtime.db
        )
        client = new_client(runtime).__enter__()
        opened.append(client)
        assert sign_in(client, "ada").status_code == 303
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)


class TestWhoSeesWhat:
    def test_without_read_runs_the_pages_are_refused_and_the_tab_and_card_say_so(
        self, secure_runtime: Runtime, policy: Callable[[str], TestClient]
    ) -> None:
        run = insert(secure_runtime, LEDGER, status="failed", steps=failing_steps())
        client = policy(DENY_RUNS)
        for path in (
            "/pipelines",
            f"/pipelines/runs/{run.id}",
            f"/pipelines/runs/{run.id}/live",
            "/pipelines/badge/component/default/ledger.svg",
        ):
            assert client.get(path, headers=HTML).status_code == 403, path
        tab = client.get("/catalog/default/component/ledger?tab=cicd", headers=HTML).text
        assert "Pipeline runs are not shown to you" in tab and run.id not in tab
        assert "Your failing pipelines" not in client.get("/", headers=HTML).text

    def test_runs_of_components_the_viewer_may_not_see_are_hidden(
        self, secure_runtime: Runtime, policy: Callable[[str], TestClient]
    ) -> None:
        mine = insert(secure_runtime, LEDGER, status="failed")
        hidden = insert(secure_runtime, PAYROLL, status="failed")
        nobodys = insert(secure_runtime, None, status="failed")
        client = policy(OWN_ONLY)
        listed = client.get("/pipelines", headers=HTML).text
        assert mine.id in listed and hidden.id not in listed and nobodys.id not in listed
        assert client.get(f"/pipelines/runs/{mine.id}", headers=HTML).status_code == 200
        for run in (hidden, nobodys):
            assert client.get(f"/pipelines/runs/{run.id}", headers=HTML).status_code == 404
            assert client.get(f"/pipelines/runs/{run.id}/live", headers=HTML).status_code == 404
        badge = client.get("/pipelines/badge/component/default/payroll.svg")
        assert badge.status_code == 404
        cancel = client.post(
            f"/pipelines/runs/{hidden.id}/cancel", data={"csrf_token": csrf_of(client)}
        )
        assert cancel.status_code == 404


class TestActions:
    def test_run_pipeline_starts_a_manual_run_and_cancel_cancels_it_both_audited(
        self, secure_runtime: Runtime, ada: TestClient, tmp_path: Path
    ) -> None:
        repository = make_repository(tmp_path, {"README.md": "hello\n"}, name="billing")
        ref = register_component(secure_runtime, tmp_path, "billing", repository)
        token = csrf_of(ada)
        started = ada.post(
            "/pipelines/runs",
            data={"component": ref, "branch": "main", "commit": "", "csrf_token": token},
            follow_redirects=False,
        )
        assert started.status_code == 303, started.text
        run_id = started.headers["location"].rsplit("/", 1)[-1]
        with secure_runtime.db.session() as session:
            run = session.get(PipelineRun, run_id)
            assert run is not None
            assert (run.trigger, run.triggered_by, run.branch) == (
                "manual",
                "user:default/ada",
                "main",
            )
        page = ada.get(f"/pipelines/runs/{run_id}", headers=HTML).text
        assert "Cancel the run" in page
        cancelled = ada.post(
            f"/pipelines/runs/{run_id}/cancel", data={"csrf_token": token}, follow_redirects=False
        )
        assert cancelled.status_code == 303
        with secure_runtime.db.session() as session:
            run = session.get(PipelineRun, run_id)
            assert run is not None and run.status == "cancelled"
            events = session.scalars(
                select(AuditEvent.event).where(AuditEvent.target == f"pipeline-run:{run_id}")
            ).all()
        assert set(events) == {"pipeline.run.started", "pipeline.run.cancelled"}

    def test_a_component_without_a_repository_cannot_be_run(self, ada: TestClient) -> None:
        answer = ada.post(
            "/pipelines/runs",
            data={"component": LEDGER, "csrf_token": csrf_of(ada)},
            headers=HTML,
        )
        assert answer.status_code == 400
        assert "names no repository" in answer.text

    def test_a_form_without_its_token_is_refused(
        self, secure_runtime: Runtime, ada: TestClient
    ) -> None:
        run = insert(secure_runtime, LEDGER, status="running", seconds=None)
        answer = ada.post(f"/pipelines/runs/{run.id}/cancel", data={}, headers=HTML)
        assert answer.status_code == 403
        with secure_runtime.db.session() as session:
            assert (
                session.scalar(
                    select(func.count())
                    .select_from(PipelineRun)
                    .where(PipelineRun.id == run.id, PipelineRun.status == "running")
                )
                == 1
            )
