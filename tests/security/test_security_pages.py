"""The Security tab and the organisation's dashboard show open findings, age, trend and blockers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from pavedroad.catalog import service
from pavedroad.config import SecurityGateSettings
from pavedroad.core.actors import Actor
from pavedroad.runtime import Runtime
from pavedroad.security.dashboard import organisation_security
from pavedroad.security.findings import Finding
from pavedroad.security.gate import decide_gate
from pavedroad.security.scans import record_scan
from tests.helpers import component, write_entities

HTML = {"accept": "text/html"}
SHOP = "component:default/shop"
VULN = Finding(
    tool="osv",
    kind="vulnerability",
    rule="PYSEC-2019-13",
    severity="high",
    message="SQL injection",
    package="django",
    version="2.2",
    fixed="2.2.4",
)
SAST = Finding(
    tool="bandit",
    kind="sast",
    rule="B602",
    severity="medium",
    message="subprocess call with shell=True",
    file="app.py",
    line=12,
    cwe="CWE-78",
)


@pytest.fixture
def scanned(session: Session, runtime: Runtime, tmp_path: Path) -> Session:
    write_entities(
        tmp_path / "catalog.yaml",
        component("shop", owner="team-a"),
        component("blog", owner="team-b"),
    )
    service.register_locations(
        session,
        runtime.catalog,
        [("file", str(tmp_path / "catalog.yaml"))],
        actor=Actor("user:default/t"),
    )
    for run, findings in (("run-1", [SAST]), ("run-2", [VULN, SAST])):
        record_scan(
            session,
            run_id=run,
            step_id="security.vuln-scan",
            kind="vulnerability",
            component_ref=SHOP,
            commit="e" * 40,
            findings=[f for f in findings if f.kind == "vulnerability"],
        )
        record_scan(
            session,
            run_id=run,
            step_id="security.sast",
            kind="sast",
            component_ref=SHOP,
            commit="e" * 40,
            findings=[f for f in findings if f.kind == "sast"],
        )
        decide_gate(
            session, run_id=run, component_ref=SHOP, commit="e" * 40, policy=SecurityGateSettings()
        )
    record_scan(
        session,
        run_id="run-3",
        step_id="security.secrets-scan",
        kind="secret",
        component_ref=SHOP,
        commit="e" * 40,
        error="detect-secrets is not installed",
    )
    session.commit()
    return session


def test_the_tab_shows_what_blocks_the_next_deploy_and_the_open_findings(
    scanned: Session, client: TestClient
) -> None:
    page = client.get("/catalog/default/component/shop", params={"tab": "security"}, headers=HTML)

    assert page.status_code == 200
    assert "cannot be deployed" in page.text
    assert (
        "PYSEC-2019-13 (high) at django 2.2: high vulnerability with a fix available" in page.text
    )
    assert "upgrade django 2.2 → 2.2.4" in page.text
    assert "subprocess call with shell=True" in page.text
    assert (
        "The secret scan (security.secrets-scan) did not run: detect-secrets is not installed"
        in page.text
    )
    assert 'class="findings-trend"' in page.text


def test_an_unscanned_component_says_so(scanned: Session, client: TestClient) -> None:
    page = client.get("/catalog/default/component/blog", params={"tab": "security"}, headers=HTML)
    assert "Not scanned yet" in page.text


def test_the_dashboard_counts_by_team_and_age_and_lists_the_blocked(
    scanned: Session, client: TestClient
) -> None:
    page = client.get("/security", headers=HTML)
    later = organisation_security(
        scanned, {SHOP: "team-a"}, now=datetime.now(UTC) + timedelta(days=10)
    )

    assert page.status_code == 200
    assert "1 high" in page.text and "1 medium" in page.text
    assert "Blocked from deploying (1)" in page.text
    assert "team-a" in page.text
    assert dict(later.ages) == {"under a week": 0, "1 to 4 weeks": 2, "older": 0}
    assert later.trend[-1][1]["high"] == 1
