"""``/api/deploy/v1``: deploys, rollbacks and promotions over HTTP as signed-in people, with the
default policy (anyone to dev, team leads to staging, application owners to production)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from pavedroad.audit.models import AuditEvent
from pavedroad.runtime import Runtime
from tests.deploy.service_support import (
    MemoryTarget,
    deploy_settings,
    finished,
    memory_runtime,
    tagged_component,
)
from tests.identity import conftest as identity
from tests.identity.conftest import PASSWORD, csrf_of, new_client, sign_in

SHOP = "/api/deploy/v1/components/component/default/shop"
signed_out_settings = identity.signed_out_settings  # fixtures: a portal that needs signing in
secure_runtime = identity.secure_runtime


@pytest.fixture
def deploy_portal(
    secure_runtime: Runtime, tmp_path: Path
) -> Iterator[tuple[Runtime, MemoryTarget, TestClient, dict[str, str]]]:
    runtime, target = memory_runtime(secure_runtime, deploy_settings(secure_runtime.settings))
    tagged_component(runtime, tmp_path)
    with new_client(runtime) as client:
        assert sign_in(client, "ada", PASSWORD).status_code == 303
        yield runtime, target, client, {"x-csrf-token": csrf_of(client)}


class TestDeployments:
    def test_a_developer_deploys_to_dev_and_sees_it_with_its_evidence(self, deploy_portal):
        runtime, _, client, csrf = deploy_portal
        response = client.post(
            f"{SHOP}/deployments", json={"environment": "dev", "version": "1.0.0"}, headers=csrf
        )
        assert response.status_code == 201, response.text
        started = response.json()
        assert started["triggeredBy"] == "user:default/ada" and started["status"] == "queued"
        finished(runtime, started["id"])
        one = client.get(f"/api/deploy/v1/deployments/{started['id']}").json()
        assert one["status"] == "succeeded" and "analysis" in one["evidence"]
        assert isinstance(one["samples"], list)
        environments = client.get(f"{SHOP}/environments").json()
        assert environments[0]["current"]["id"] == started["id"]
        listed = client.get(f"{SHOP}/deployments", params={"environment": "dev"}).json()
        assert [d["id"] for d in listed["items"]] == [started["id"]]
        with runtime.db.read_session() as session:
            row = session.scalars(
                select(AuditEvent).where(AuditEvent.event == "deployment.started")
            ).one()
        assert row.actor == "user:default/ada" and row.client_ip == "testclient"

    def test_a_developer_may_not_deploy_to_production(self, deploy_portal):
        runtime, target, client, csrf = deploy_portal
        response = client.post(
            f"{SHOP}/deployments",
            json={"environment": "production", "version": "1.0.0"},
            headers=csrf,
        )
        assert response.status_code == 403, response.text
        assert "application-owner" in response.text or "no-one-else-deploys" in response.text
        assert target.calls == []
        with runtime.db.read_session() as session:
            denied = session.scalars(
                select(AuditEvent).where(
                    AuditEvent.event == "deployment.trigger", AuditEvent.result == "denied"
                )
            ).all()
        assert [d.target for d in denied] == ["component:default/shop@production"]

    def test_nor_promote_to_production(self, deploy_portal):
        runtime, _, client, csrf = deploy_portal
        started = client.post(
            f"{SHOP}/deployments", json={"environment": "dev", "version": "1.0.0"}, headers=csrf
        ).json()
        finished(runtime, started["id"])
        response = client.post(
            f"{SHOP}/promote", json={"from": "dev", "to": "production"}, headers=csrf
        )
        assert response.status_code == 403

    def test_an_unknown_version_is_a_conflict_naming_the_versions(self, deploy_portal):
        _, _, client, csrf = deploy_portal
        response = client.post(
            f"{SHOP}/deployments", json={"environment": "dev", "version": "2.0"}, headers=csrf
        )
        assert response.status_code == 409
        assert "1.0.0" in response.json()["error"]["message"]

    def test_rollback_over_http(self, deploy_portal):
        runtime, _, client, csrf = deploy_portal
        for version in ("1.0.0", "1.1.0"):
            started = client.post(
                f"{SHOP}/deployments", json={"environment": "dev", "version": version}, headers=csrf
            ).json()
            finished(runtime, started["id"])
        response = client.post(f"{SHOP}/rollback", json={"environment": "dev"}, headers=csrf)
        assert response.status_code == 201, response.text
        assert finished(runtime, response.json()["id"]).version == "1.0.0"

    def test_an_unknown_component_is_not_found(self, deploy_portal):
        _, _, client, _ = deploy_portal
        response = client.get("/api/deploy/v1/components/component/default/nothing/environments")
        assert response.status_code == 404
