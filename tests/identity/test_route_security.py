"""Every route of the app, called without signing in and signed in without permission: the
first answers 401 and the second 403, except the explicit public list. And secrets never
reach the logs."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import text

from pavedroad.app import create_app
from pavedroad.identity import tokens
from pavedroad.runtime import Runtime, build_runtime
from tests.identity.conftest import OPERATOR, PASSWORD, csrf_of, new_client, sign_in

# (method, path) anyone may call, and why.
PUBLIC = {
    ("GET", "/healthz"),  # liveness probes
    ("GET", "/readyz"),  # readiness probes
    ("GET", "/metrics"),  # Prometheus scrapes (permissions.public_metrics, on by default)
    ("GET", "/sign-in"),
    ("POST", "/sign-in"),
    ("GET", "/auth/oidc/login"),
    ("GET", "/auth/oidc/callback"),
    ("POST", "/api/security/osv/v1/query"),  # OSV tools (pip-audit --osv-url)
    ("POST", "/api/security/osv/v1/querybatch"),
    ("POST", "/api/pipelines/v1/webhooks/github"),  # signed by the sender (HMAC or token)
    ("POST", "/api/pipelines/v1/webhooks/gitlab"),
    ("POST", "/api/pipelines/v1/webhooks/gitea"),
}
PARAMETERS = {
    "namespace": "default",
    "kind": "component",
    "name": "ledger",
    "uid": "00000000-0000-0000-0000-000000000000",
    "location_id": "00000000-0000-0000-0000-000000000000",
    "token_id": "00000000-0000-0000-0000-000000000000",
}
DENY_EVERYTHING = "rules: []\ndefault: deny\n"


def every_route(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path template) of every path operation, through included routers."""
    found: list[tuple[str, str]] = []

    def walk(routes: list[Any]) -> None:
        for route in routes:
            if isinstance(route, APIRoute):
                found.extend((method, route.path) for method in sorted(route.methods))
            elif hasattr(route, "original_router"):
                walk(list(route.original_router.routes))

    walk(list(app.routes))
    return sorted(set(found))


def concrete(path: str) -> str:
    return re.sub(r"{(\w+)(:\w+)?}", lambda m: PARAMETERS.get(m.group(1), "x"), path)


@pytest.fixture
def routes(secure_runtime: Runtime) -> list[tuple[str, str]]:
    found = every_route(create_app(secure_runtime, run_jobs=False))
    assert len(found) > 40  # the walk found the included routers
    return found


@pytest.fixture
def deny_all_runtime(secure_runtime: Runtime, tmp_path: Path) -> Iterator[Runtime]:
    policy = tmp_path / "policy.yaml"
    policy.write_text(DENY_EVERYTHING)
    settings = secure_runtime.settings
    permissions = settings.permissions.model_copy(update={"policy_file": policy, "admins": []})
    denying = build_runtime(
        settings.model_copy(update={"permissions": permissions}), db=secure_runtime.db
    )
    yield denying


def test_the_public_routes_are_exactly_the_listed_ones(
    routes: list[tuple[str, str]], browser: TestClient
) -> None:
    assert set(routes) >= PUBLIC
    for method, path in PUBLIC:
        response = browser.request(method, concrete(path), follow_redirects=False)
        assert response.status_code != 401, (method, path)


def test_every_other_route_needs_a_signed_in_principal(
    routes: list[tuple[str, str]], browser: TestClient
) -> None:
    answers = {
        (method, path): browser.request(
            method, concrete(path), headers={"accept": "application/json"}, json={}
        ).status_code
        for method, path in routes
        if (method, path) not in PUBLIC
    }
    assert {route: status for route, status in answers.items() if status != 401} == {}


def test_every_other_route_is_refused_by_a_policy_that_allows_nothing(
    routes: list[tuple[str, str]], deny_all_runtime: Runtime
) -> None:
    with deny_all_runtime.db.session() as session:
        secret, _ = tokens.create_token(
            session, name="nobody", owner_ref="user:default/ada", actor=OPERATOR
        )
    with new_client(deny_all_runtime) as client:
        answers = {
            (method, path): client.request(
                method,
                concrete(path),
                headers={"authorization": f"Bearer {secret}", "accept": "application/json"},
                json={},
            ).status_code
            for method, path in routes
            if (method, path) not in PUBLIC
        }
    assert {route: status for route, status in answers.items() if status != 403} == {}


def test_denied_requests_say_which_rule_decided_and_are_audited(
    deny_all_runtime: Runtime,
) -> None:
    with deny_all_runtime.db.session() as session:
        secret, _ = tokens.create_token(
            session, name="nobody", owner_ref="user:default/ada", actor=OPERATOR
        )
    with new_client(deny_all_runtime) as client:
        response = client.get(
            "/api/catalog/entities", headers={"authorization": f"Bearer {secret}"}
        )
    error = response.json()["error"]
    assert response.status_code == 403 and error["rule"] == "default"
    assert "catalog.entity.read" in error["message"]


def test_passwords_tokens_and_session_ids_never_reach_the_logs(
    secure_runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with new_client(secure_runtime) as client:
        sign_in(client, password="a wrong password for the log test")
        sign_in(client)
        session_id = client.cookies["pavedroad_session"]
        created = client.post(
            "/api/identity/tokens",
            json={"name": "log-test"},
            headers={"x-csrf-token": csrf_of(client)},
        ).json()
        client.get(
            "/api/catalog/entities", headers={"authorization": f"Bearer {created['secret']}"}
        )
        client.get(
            "/api/catalog/entities", headers={"authorization": "Bearer prt_forged_value_123"}
        )
    logged = caplog.text + "".join(str(record.__dict__) for record in caplog.records)
    for secret in (
        PASSWORD,
        "a wrong password",
        session_id,
        created["secret"],
        "prt_forged_value_123",
    ):
        assert secret not in logged


def test_the_audit_log_keeps_no_secret_either(secure_runtime: Runtime) -> None:
    with new_client(secure_runtime) as client:
        sign_in(client, password="a wrong password for the audit test")
        sign_in(client)
        created = client.post(
            "/api/identity/tokens",
            json={"name": "audit-test"},
            headers={"x-csrf-token": csrf_of(client)},
        ).json()
    with secure_runtime.db.session() as session:
        rows = session.execute(text("SELECT event, target, details FROM audit_events")).all()
    dumped = repr(rows)
    for secret in (PASSWORD, "a wrong password", created["secret"]):
        assert secret not in dumped
