"""The gate's API: decisions per commit, and exceptions granted only with the permission."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from pavedroad.catalog import service
from pavedroad.config import SecurityGateSettings
from pavedroad.core.actors import Actor
from pavedroad.runtime import Runtime
from pavedroad.security.findings import Finding
from pavedroad.security.gate import decide_gate
from pavedroad.security.scans import record_scan
from tests.helpers import component, group, write_entities
from tests.identity.conftest import (  # noqa: F401 - fixtures
    PASSWORD,
    csrf_of,
    new_client,
    secure_runtime,
    sign_in,
    signed_out_settings,
)

COMPONENT = "component:default/payments"
COMMIT = "b" * 40


def _catalog(runtime: Runtime, folder: Path) -> None:
    write_entities(folder / "catalog.yaml", component("payments"), group("team-a"))
    with runtime.db.session() as session:
        service.register_locations(
            session,
            runtime.catalog,
            [("file", str(folder / "catalog.yaml"))],
            actor=Actor("user:default/t"),
        )


def test_the_decision_on_a_commit_lists_its_blockers(
    client: TestClient, runtime: Runtime, session: Session
) -> None:
    finding = Finding(
        tool="osv",
        kind="vulnerability",
        rule="PYSEC-2019-13",
        severity="high",
        message="SQL injection",
        package="django",
        version="2.2.0",
        fixed="2.2.4",
    )
    record_scan(
        session,
        run_id="r1",
        step_id="security.vuln-scan",
        kind="vulnerability",
        component_ref=COMPONENT,
        commit=COMMIT,
        findings=[finding],
    )
    decide_gate(
        session, run_id="r1", component_ref=COMPONENT, commit=COMMIT, policy=SecurityGateSettings()
    )
    session.commit()

    answer = client.get(f"/api/security/v1/gate/component/default/payments/{COMMIT}")
    unknown = client.get(f"/api/security/v1/gate/component/default/payments/{'c' * 40}")

    assert answer.status_code == 200
    assert answer.json()["blocked"] is True
    assert answer.json()["blockers"][0]["fix"] == "upgrade django 2.2.0 → 2.2.4"
    assert unknown.status_code == 404


def test_an_administrator_grants_and_revokes_an_exception(
    client: TestClient, runtime: Runtime, tmp_path: Path
) -> None:
    _catalog(runtime, tmp_path)
    body = {
        "component": COMPONENT,
        "rule": "PYSEC-2019-13",
        "reason": "JSONField unused; upgrade in sprint 12",
        "expires_at": (datetime.now(UTC) + timedelta(days=14)).isoformat(),
    }

    created = client.post("/api/security/v1/exceptions", json=body)
    listed = client.get("/api/security/v1/exceptions", params={"component": COMPONENT})
    revoked = client.post(f"/api/security/v1/exceptions/{created.json()['id']}/revoke")
    missing = client.post(
        "/api/security/v1/exceptions", json={**body, "component": "component:default/nope"}
    )
    too_long = client.post(
        "/api/security/v1/exceptions",
        json={**body, "expires_at": (datetime.now(UTC) + timedelta(days=400)).isoformat()},
    )

    assert created.status_code == 201, created.text
    assert created.json()["grantedBy"] == "user:default/tester"
    assert [item["id"] for item in listed.json()["items"]] == [created.json()["id"]]
    assert revoked.json()["revokedAt"] is not None
    assert missing.status_code == 404
    assert too_long.status_code == 400
    assert "at most 180 days" in too_long.json()["error"]["message"]


@pytest.fixture
def member(secure_runtime: Runtime, tmp_path: Path) -> Iterator[TestClient]:  # noqa: F811
    """Signed in as a developer who is not in a security group."""
    _catalog(secure_runtime, tmp_path)
    with new_client(secure_runtime) as client:
        assert sign_in(client, "ada", PASSWORD).status_code == 303
        yield client


def test_someone_outside_a_security_group_cannot_grant_an_exception(member: TestClient) -> None:
    body = {
        "component": COMPONENT,
        "rule": "PYSEC-2019-13",
        "reason": "it is fine, really",
        "expires_at": (datetime.now(UTC) + timedelta(days=14)).isoformat(),
    }

    refused = member.post(
        "/api/security/v1/exceptions", json=body, headers={"x-csrf-token": csrf_of(member)}
    )
    allowed_to_read = member.get("/api/security/v1/exceptions")

    assert refused.status_code == 403
    assert allowed_to_read.status_code == 200
