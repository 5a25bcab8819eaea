"""Pipeline pages in a real browser: a running run's log grows without a reload and its status
changes when it ends; the CI/CD tab of a component with a history of runs.

The portal is the README's demo in a data folder of this module's own, so that the test can
write runs into its database as the engine would (no worker runs them: they have no lease).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select, update

from pavedroad.core.db import Database
from pavedroad.pipelines.models import PipelineRun, PipelineStep
from tests.e2e.conftest import (
    PAVEDROAD,
    SCREENSHOTS,
    VIEWER,
    free_port,
    portal_environment,
    running_portal,
)
from tests.e2e.test_accessibility import describe, violations
from tests.pipelines.page_support import COVERAGE, StepSpec, add_log, add_run

ORDER_SERVICE = "component:default/order-service"
QUOTE_SERVICE = "component:default/quote-service"  # for the tests that do not take pictures
REPOSITORY = "https://github.example.com/fernhollow/order-service"


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Database]]:
    data = tmp_path_factory.mktemp("pipeline-portal")
    port = free_port()
    environment = portal_environment(data, port, PAVEDROAD_AUTH__DEMO_USER_REF=VIEWER)
    with running_portal([PAVEDROAD, "demo", "--port", str(port)], environment, data) as url:
        database = Database(f"sqlite:///{(data / 'pavedroad.db').resolve()}")
        yield url, database
        database.dispose()


@pytest.fixture
def page(browser: Browser, portal: tuple[str, Database]) -> Iterator[Page]:
    context = browser.new_context(base_url=portal[0], viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(10_000)
    yield opened
    context.close()


def step_pk(database: Database, run_id: str, step_id: str) -> int:
    with database.session() as session:
        found = session.scalar(
            select(PipelineStep.id).where(
                PipelineStep.run_id == run_id, PipelineStep.step_id == step_id
            )
        )
    assert found is not None
    return found


GRADLE_TEST_FAILURE = [
    "> Task :compileJava UP-TO-DATE\n",
    "> Task :test\n",
    "\n",
    "OrderLifecycleTest > depositIsCollectedBeforeSignature() FAILED\n",
    "    org.opentest4j.AssertionFailedError: expected: <DEPOSIT_COLLECTED> but was: <SIGNED>\n",
    "        at app//org.junit.jupiter.api.AssertionUtils.fail(AssertionUtils.java:55)\n",
    "        at app//com.fernhollow.orders.OrderLifecycleTest.depositIsCollectedBefore"
    "Signature(OrderLifecycleTest.java:88)\n",
    "\n",
    "212 tests completed, 1 failed, 3 skipped\n",
    "\n",
    "FAILURE: Build failed with an exception.\n",
    "* What went wrong:\n",
    "Execution failed for task ':test'.\n",
    "> There were failing tests. See the report at: build/reports/tests/test/index.html\n",
    "BUILD FAILED in 1m 52s\n",
]
TESTS = {
    "passed": 208,
    "failed": 1,
    "skipped": 3,
    "errors": 0,
    "total": 212,
    "failures": [
        {
            "name": "depositIsCollectedBeforeSignature",
            "classname": "com.fernhollow.orders.OrderLifecycleTest",
            "message": "expected: <DEPOSIT_COLLECTED> but was: <SIGNED>",
            "text": "org.opentest4j.AssertionFailedError: expected: <DEPOSIT_COLLECTED> but "
            "was: <SIGNED>\n\tat com.fernhollow.orders.OrderLifecycleTest"
            ".depositIsCollectedBeforeSignature(OrderLifecycleTest.java:88)",
        }
    ],
}


def golden_steps(*, failing: bool, test_seconds: float) -> list[StepSpec]:
    """The golden pipeline of a Java service, as a run of it leaves it."""
    tests = {**TESTS} if failing else {**TESTS, "passed": 209, "failed": 0, "failures": []}
    return [
        StepSpec(
            "build",
            "compile",
            seconds=48.2,
            log=["> Task :compileJava\n", "BUILD SUCCESSFUL in 47s\n"],
        ),
        StepSpec(
            "test",
            "unit",
            status="failed" if failing else "succeeded",
            seconds=test_seconds,
            exit_code=1 if failing else 0,
            summary=f"{tests['failed']} of 212 tests failed" if failing else "209 passed",
            log=GRADLE_TEST_FAILURE if failing else ["212 tests completed, 3 skipped\n"],
            details={"tests": tests, "coverage": COVERAGE},
            artifacts=[
                ("junit", "build/test-results/test/TEST-OrderLifecycleTest.xml", 18_734),
                ("coverage", "build/reports/jacoco/test/jacocoTestReport.xml", 96_120),
            ],
        ),
        StepSpec("test", "secrets-scan", seconds=6.3, log=["no secrets found in 412 files\n"]),
        StepSpec("test", "vuln-scan", seconds=21.7, log=["0 vulnerabilities at or above high\n"]),
        StepSpec(
            "deploy",
            "staging",
            status="skipped" if failing else "succeeded",
            seconds=None if failing else 64.0,
            summary="not run: test.unit failed" if failing else "deployed 3f2a9c1",
        ),
    ]


def history(database: Database) -> str:
    """Twenty-four runs of the order service over three weeks; the newest on main fails."""
    start = datetime.now(UTC) - timedelta(days=21)
    durations = [212, 198, 205, 231, 190, 188, 240, 226, 201, 195, 310, 214, 207, 199]
    durations += [221, 218, 203, 196, 232, 209, 200, 213, 227]
    with database.session() as session:
        for index, seconds in enumerate(durations):
            failing = index in (6, 10)
            add_run(
                session,
                ORDER_SERVICE,
                status="failed" if failing else "succeeded",
                steps=golden_steps(failing=failing, test_seconds=seconds * 0.5),
                seconds=seconds,
                started=start + timedelta(hours=21 * index),
                repository=REPOSITORY,
                number=100 + index,
            )
        add_run(
            session,
            ORDER_SERVICE,
            status="succeeded",
            branch="feature/partial-deposits",
            steps=golden_steps(failing=False, test_seconds=101),
            seconds=205,
            started=datetime.now(UTC) - timedelta(hours=5),
            repository=REPOSITORY,
            number=123,
            trigger="pull_request",
        )
        newest = add_run(
            session,
            ORDER_SERVICE,
            status="failed",
            steps=golden_steps(failing=True, test_seconds=112.4),
            seconds=188,
            started=datetime.now(UTC) - timedelta(hours=1),
            repository=REPOSITORY,
            number=124,
        )
        return newest.id


def test_a_running_runs_log_grows_live_and_its_status_changes_when_it_ends(
    page: Page, portal: tuple[str, Database]
) -> None:
    _, database = portal
    with database.session() as session:
        run = add_run(
            session,
            QUOTE_SERVICE,
            status="running",
            seconds=None,
            repository=REPOSITORY,
            steps=[
                StepSpec("build", "compile", log=["> Task :compileJava\n"]),
                StepSpec("test", "unit", status="running", seconds=None, log=["> Task :test\n"]),
            ],
        )
        run_id = run.id
    unit = step_pk(database, run_id, "test.unit")

    page.goto(f"/pipelines/runs/{run_id}")
    log = page.locator(f"#log-{unit}")
    expect(log).to_contain_text("> Task :test")
    expect(page.locator("#run-status-heading")).to_contain_text("Running")
    page.evaluate("window.__not_reloaded = true")

    with database.session() as session:
        add_log(session, unit, "OrderLifecycleTest > depositIsCollected() PASSED\n")
    expect(log).to_contain_text("depositIsCollected() PASSED")
    assert page.evaluate("window.__not_reloaded === true"), "the page reloaded to show the log"
    assert log.inner_text().count("> Task :test") == 1  # appended, not repeated

    finished = datetime.now(UTC)
    with database.session() as session:
        session.execute(
            update(PipelineStep)
            .where(PipelineStep.run_id == run_id, PipelineStep.status == "running")
            .values(status="succeeded", finished_at=finished, exit_code=0)
        )
        session.execute(
            update(PipelineRun)
            .where(PipelineRun.id == run_id)
            .values(status="succeeded", finished_at=finished)
        )
    expect(page.locator("#run-status-heading")).to_contain_text("Succeeded")
    expect(page.get_by_role("button", name="Cancel the run")).to_have_count(0)
    expect(page.locator(f"#log-{unit}")).to_contain_text("depositIsCollected() PASSED")


def test_the_cicd_tab_and_the_failing_run_with_a_history_of_runs(
    page: Page, portal: tuple[str, Database]
) -> None:
    _, database = portal
    newest = history(database)

    page.goto("/catalog/default/component/order-service")
    page.get_by_role("tab", name="CI/CD").click()
    expect(page.get_by_role("heading", name="Latest run per branch")).to_be_visible()
    expect(page.locator(".failing-log")).to_contain_text("depositIsCollectedBeforeSignature")
    expect(page.locator("svg.trend rect")).to_have_count(25)
    expect(page.get_by_role("img", name="Pipeline of main: failed")).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "pipeline-cicd-tab.png"), full_page=True)

    page.locator(".failing-log").get_by_role("link", name="Run #124").click()
    expect(page.get_by_role("heading", name="order-service #124", level=1)).to_be_visible()
    expect(page.locator("details[open] pre").first).to_contain_text("BUILD FAILED")
    expect(page.locator("#run-results")).to_contain_text("208 passed")
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SCREENSHOTS / "pipeline-run.png"), full_page=True)
    assert newest in page.url

    page.goto("/")
    card = page.locator("section", has=page.get_by_role("heading", name="Needs your attention"))
    expect(card).to_contain_text("Fails at test › unit")  # noqa: RUF001 - the page's separator
    page.screenshot(path=str(SCREENSHOTS / "pipeline-home-card.png"), full_page=True)


def test_the_run_list_filters_by_status(page: Page, portal: tuple[str, Database]) -> None:
    with portal[1].session() as session:
        add_run(session, QUOTE_SERVICE, status="failed")
        add_run(session, QUOTE_SERVICE, status="succeeded")
    page.goto("/pipelines")
    page.get_by_label("Status").select_option("failed")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"status=failed"))
    rows = page.locator("table.run-table tbody tr")
    expect(rows.first).to_be_visible()
    for text in rows.all_inner_texts():
        assert "failed" in text


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_pages_with_runs_meet_wcag_aa(
    browser: Browser, portal: tuple[str, Database], scheme: str
) -> None:
    url, database = portal
    with database.session() as session:
        run = add_run(
            session,
            QUOTE_SERVICE,
            status="failed",
            steps=golden_steps(failing=True, test_seconds=80),
            repository=REPOSITORY,
        )
        run_id = run.id
    context = browser.new_context(
        base_url=url, viewport={"width": 1280, "height": 900}, color_scheme=scheme
    )
    page = context.new_page()
    try:
        for path in (
            f"/pipelines/runs/{run_id}",
            "/catalog/default/component/quote-service?tab=cicd",
            "/pipelines",
            "/",
        ):
            page.goto(path)
            page.wait_for_load_state("networkidle")
            found = violations(page)
            assert not found, f"{path} in the {scheme} theme:\n{describe(found)}"
    finally:
        context.close()


def test_the_run_page_and_the_tab_fit_a_390_pixel_phone(
    browser: Browser, portal: tuple[str, Database]
) -> None:
    url, database = portal
    with database.session() as session:
        run_id = add_run(
            session,
            QUOTE_SERVICE,
            status="failed",
            steps=golden_steps(failing=True, test_seconds=80),
            repository=REPOSITORY,
        ).id
    context = browser.new_context(base_url=url, viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        for path in (
            f"/pipelines/runs/{run_id}",
            "/catalog/default/component/quote-service?tab=cicd",
            "/pipelines",
        ):
            page.goto(path)
            page.wait_for_load_state("networkidle")
            width = page.evaluate("document.documentElement.scrollWidth")
            wide = page.evaluate(
                "() => [...document.querySelectorAll('*')].filter(e => "
                "e.getBoundingClientRect().right > 392).slice(0, 12).map(e => e.tagName + '.' + "
                "e.className + ' ' + Math.round(e.getBoundingClientRect().right))"
            )
            assert width <= 390, f"{path} is {width} px wide on a 390 px phone: {wide}"
    finally:
        context.close()
