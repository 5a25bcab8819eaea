"""Single sign-on end to end: the portal, a real OIDC provider on 127.0.0.1, and the catalog
User the person is matched to."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select

from pavedroad.audit.models import AuditEvent
from pavedroad.identity.sessions import SESSION_COOKIE
from pavedroad.runtime import Runtime
from tests.identity.conftest import new_client
from tests.identity.oidc_provider import OidcTestProvider

CALLBACK = "http://127.0.0.1:8000/auth/oidc/callback"  # the settings' default base URL


@pytest.fixture(scope="module")
def provider() -> Iterator[OidcTestProvider]:
    with OidcTestProvider(redirect_uris=[CALLBACK]) as running:
        yield running


@pytest.fixture
def portal(secure_runtime: Runtime, provider: OidcTestProvider) -> Iterator[TestClient]:
    provider.reset()
    settings = secure_runtime.settings
    oidc = settings.auth.oidc.model_copy(
        update={
            "issuer": provider.issuer,
            "client_id": provider.client_id,
            "client_secret": SecretStr(provider.client_secret),
        }
    )
    auth = settings.auth.model_copy(update={"oidc": oidc})
    runtime = dataclasses.replace(
        secure_runtime, settings=settings.model_copy(update={"auth": auth})
    )
    with new_client(runtime) as client:
        yield client


def through_provider(portal: TestClient, next_path: str = "/") -> dict[str, str]:
    """Start sign-in at the portal, let the provider answer, return the callback's query."""
    start = portal.get("/auth/oidc/login", params={"next": next_path}, follow_redirects=False)
    assert start.status_code == 303, start.text
    answer = httpx.get(start.headers["location"], follow_redirects=False)
    assert answer.status_code in (302, 303), answer.text
    back = urlsplit(answer.headers["location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == CALLBACK
    return {key: values[0] for key, values in parse_qs(back.query).items()}


def test_the_sign_in_page_offers_single_sign_on(portal: TestClient) -> None:
    assert 'href="/auth/oidc/login?next=/"' in portal.get("/sign-in").text


def test_signing_in_at_the_provider_matches_the_catalog_user_by_email(
    portal: TestClient, provider: OidcTestProvider, secure_runtime: Runtime
) -> None:
    provider.auto_sign_in = {"email": "Ada@Example.com", "name": "Ada"}
    query = through_provider(portal, "/catalog?kind=component")
    done = portal.get("/auth/oidc/callback", params=query, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/catalog?kind=component"
    assert SESSION_COOKIE in portal.cookies
    me = portal.get("/api/identity/me").json()
    assert me["ref"] == "user:default/ada" and me["method"] == "session"
    [token_request] = provider.requests_to("/token")
    assert token_request.form["code_verifier"]
    with secure_runtime.db.session() as session:
        signed = session.scalars(select(AuditEvent).where(AuditEvent.event == "auth.signed-in"))
        assert [e.details["method"] for e in signed] == ["oidc"]


def test_someone_the_catalog_does_not_know_is_told_what_to_do(
    portal: TestClient, provider: OidcTestProvider, secure_runtime: Runtime
) -> None:
    provider.auto_sign_in = {"email": "stranger@example.com"}
    response = portal.get("/auth/oidc/callback", params=through_provider(portal))
    assert response.status_code == 401
    assert "stranger@example.com" in response.text
    assert "add you to the catalog" in response.text
    assert SESSION_COOKIE not in portal.cookies
    with secure_runtime.db.session() as session:
        failed = session.scalars(select(AuditEvent).where(AuditEvent.event == "auth.failed")).all()
        assert [e.details["method"] for e in failed] == ["oidc"]


def test_a_callback_cannot_be_replayed(portal: TestClient, provider: OidcTestProvider) -> None:
    provider.auto_sign_in = {"email": "bo@example.com"}
    query = through_provider(portal)
    assert (
        portal.get("/auth/oidc/callback", params=query, follow_redirects=False).status_code == 303
    )
    portal.cookies.clear()
    replay = portal.get("/auth/oidc/callback", params=query)
    assert replay.status_code == 401 and "already used" in replay.text


def test_a_callback_with_a_forged_state_is_refused(
    portal: TestClient, provider: OidcTestProvider
) -> None:
    provider.auto_sign_in = {"email": "ada@example.com"}
    query = through_provider(portal)
    forged = portal.get("/auth/oidc/callback", params={**query, "state": "attacker-state"})
    assert forged.status_code == 401
    assert SESSION_COOKIE not in portal.cookies


def test_the_providers_refusal_is_shown(portal: TestClient, provider: OidcTestProvider) -> None:
    provider.auto_deny = True
    response = portal.get("/auth/oidc/callback", params=through_provider(portal))
    assert response.status_code == 401
    assert "access_denied" in response.text or "denied" in response.text.lower()


def test_a_token_that_does_not_check_out_signs_nobody_in(
    portal: TestClient, provider: OidcTestProvider
) -> None:
    provider.auto_sign_in = {"email": "ada@example.com"}
    provider.tamper = "wrong-audience"
    response = portal.get("/auth/oidc/callback", params=through_provider(portal))
    assert response.status_code == 401
    assert SESSION_COOKIE not in portal.cookies


def test_without_configuration_single_sign_on_says_how_to_set_it_up(browser: TestClient) -> None:
    response = browser.get("/auth/oidc/login")
    assert response.status_code == 403
    assert "PAVEDROAD_AUTH__OIDC__ISSUER" in response.text
