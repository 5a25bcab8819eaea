"""API tokens: shown once, stored hashed, scoped, expiring, revocable, usable as Bearer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from pavedroad.audit.models import AuditEvent
from pavedroad.identity import tokens
from pavedroad.identity.models import ApiToken
from pavedroad.runtime import Runtime
from tests.identity.conftest import OPERATOR, csrf_of


def create(client: TestClient, **body: object) -> dict[str, object]:
    response = client.post(
        "/api/identity/tokens",
        json={"name": "laptop", **body},
        headers={"x-csrf-token": csrf_of(client)},
    )
    assert response.status_code == 201, response.text
    created: dict[str, object] = response.json()
    return created


def bearer(secret: object) -> dict[str, str]:
    return {"authorization": f"Bearer {secret}"}


class TestPersonalTokens:
    def test_a_token_is_shown_once_and_stored_as_a_hash(
        self, signed_in: Callable[[str], TestClient], secure_runtime: Runtime
    ) -> None:
        client = signed_in("ada")
        created = create(client)
        secret = str(created["secret"])
        assert secret.startswith("prt_") and created["prefix"] == secret[:12]
        listed = client.get("/api/identity/tokens").json()["items"]
        assert [item["id"] for item in listed] == [created["id"]]
        assert "secret" not in listed[0]
        with secure_runtime.db.session() as session:
            [row] = session.scalars(select(ApiToken)).all()
            assert secret not in (row.secret_hash, row.prefix) and len(row.secret_hash) == 64

    def test_a_token_acts_as_its_owner(
        self, signed_in: Callable[[str], TestClient], browser: TestClient
    ) -> None:
        secret = create(signed_in("ada"))["secret"]
        me = browser.get("/api/identity/me", headers=bearer(secret)).json()
        assert me["ref"] == "user:default/ada" and me["method"] == "token"
        registered = browser.post(
            "/api/catalog/locations",
            json={"type": "file", "target": "/nonexistent/catalog-info.yaml"},
            headers=bearer(secret),
        )
        assert registered.status_code != 403  # no CSRF token needed without a cookie

    def test_scopes_limit_what_a_token_may_do(
        self, signed_in: Callable[[str], TestClient], browser: TestClient
    ) -> None:
        secret = create(signed_in("ada"), scopes=["catalog.entity.read"])["secret"]
        assert browser.get("/api/catalog/entities", headers=bearer(secret)).status_code == 200
        refused = browser.post(
            "/api/catalog/locations",
            json={"type": "file", "target": "/x/catalog-info.yaml"},
            headers=bearer(secret),
        )
        assert refused.status_code == 403
        assert "catalog.entity.read" in refused.json()["error"]["message"]

    def test_a_revoked_token_is_refused_and_the_attempt_audited(
        self, signed_in: Callable[[str], TestClient], browser: TestClient, secure_runtime: Runtime
    ) -> None:
        client = signed_in("ada")
        created = create(client)
        revoked = client.delete(
            f"/api/identity/tokens/{created['id']}", headers={"x-csrf-token": csrf_of(client)}
        )
        assert revoked.status_code == 204
        refused = browser.get("/api/catalog/entities", headers=bearer(created["secret"]))
        assert refused.status_code == 401
        assert "unknown, expired or revoked" in refused.json()["error"]["message"]
        with secure_runtime.db.session() as session:
            failed = session.scalars(
                select(AuditEvent).where(AuditEvent.event == "auth.failed")
            ).all()
            assert [e.details["method"] for e in failed] == ["token"]

    def test_an_expired_token_is_refused(
        self, signed_in: Callable[[str], TestClient], browser: TestClient, secure_runtime: Runtime
    ) -> None:
        secret = create(signed_in("ada"), expiresInDays=1)["secret"]
        with secure_runtime.db.session() as session:
            past = datetime.now(UTC) - timedelta(seconds=1)
            session.execute(update(ApiToken).values(expires_at=past))
        assert browser.get("/api/identity/me", headers=bearer(secret)).status_code == 401

    def test_someone_elses_token_cannot_be_revoked(
        self, signed_in: Callable[[str], TestClient]
    ) -> None:
        ada, bo = signed_in("ada"), signed_in("bo")
        created = create(ada)
        response = bo.delete(
            f"/api/identity/tokens/{created['id']}", headers={"x-csrf-token": csrf_of(bo)}
        )
        assert response.status_code == 403
        assert ada.get("/api/identity/me", headers=bearer(created["secret"])).status_code == 200

    def test_a_malformed_authorization_header_says_what_is_expected(
        self, browser: TestClient
    ) -> None:
        response = browser.get("/api/identity/me", headers={"authorization": "Token abc"})
        assert response.status_code == 401
        assert "Bearer <token>" in response.json()["error"]["message"]

    def test_bad_scopes_and_lifetimes_are_refused_with_the_rule(
        self, signed_in: Callable[[str], TestClient]
    ) -> None:
        client = signed_in("ada")
        headers = {"x-csrf-token": csrf_of(client)}
        for body, message in (
            ({"scopes": ["DROP TABLE"]}, "is not a scope"),
            ({"scopes": []}, "at least one scope"),
            ({"expiresInDays": 5000}, "1 to 366 days"),
            ({"name": ""}, "1 to 128 characters"),
        ):
            response = client.post(
                "/api/identity/tokens", json={"name": "x", **body}, headers=headers
            )
            assert response.status_code == 400, body
            assert message in response.json()["error"]["message"]
        assert client.get("/api/identity/tokens").json()["items"] == []


class TestServiceTokens:
    def test_only_administrators_create_service_tokens(
        self, signed_in: Callable[[str], TestClient]
    ) -> None:
        client = signed_in("ada")
        response = client.post(
            "/api/identity/tokens",
            json={"name": "ci", "service": "ci-deployer"},
            headers={"x-csrf-token": csrf_of(client)},
        )
        assert response.status_code == 403

    def test_a_service_token_acts_as_the_service_within_its_scopes(
        self, secure_runtime: Runtime, browser: TestClient
    ) -> None:
        with secure_runtime.db.session() as session:
            secret, _ = tokens.create_token(
                session,
                name="ci",
                owner_ref="ci-deployer",
                kind="service",
                scopes=["catalog.entity.read"],
                actor=OPERATOR,
            )
        me = browser.get("/api/catalog/entities", headers=bearer(secret))
        assert me.status_code == 200
        assert browser.get("/api/identity/tokens", headers=bearer(secret)).status_code == 403

    def test_the_settings_page_creates_a_token_and_shows_it_once(
        self, signed_in: Callable[[str], TestClient]
    ) -> None:
        client = signed_in("ada")
        response = client.post(
            "/settings/tokens",
            data={
                "name": "cli",
                "scopes": "catalog.*",
                "expires_in_days": "30",
                "csrf_token": csrf_of(client),
            },
        )
        assert response.status_code == 201
        assert "Copy it now" in response.text and "prt_" in response.text
        again = client.get("/settings").text
        assert "Copy it now" not in again and "cli" in again
