"""Signing in with a local account, sessions, sign-out, and the attacks on them: guessing,
login CSRF, session fixation, open redirects, cross-site form posts."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select, update

from pavedroad.audit.models import AuditEvent
from pavedroad.identity import accounts
from pavedroad.identity.models import LocalAccount, UserSession
from pavedroad.identity.sessions import SESSION_COOKIE
from pavedroad.runtime import Runtime
from tests.identity.conftest import OPERATOR, PASSWORD, csrf_of, form_token, new_client, sign_in

HTML = {"accept": "text/html"}


def events(runtime: Runtime, event: str) -> list[AuditEvent]:
    with runtime.db.session() as session:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.event == event)).all()
        session.expunge_all()
        return list(rows)


class TestWithoutSignIn:
    def test_a_page_sends_the_browser_to_sign_in_and_back(self, browser: TestClient) -> None:
        response = browser.get("/catalog?kind=component", headers=HTML, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/sign-in?next=%2Fcatalog%3Fkind%3Dcomponent"

    def test_the_api_answers_401_with_a_bearer_challenge(self, browser: TestClient) -> None:
        response = browser.get("/api/catalog/entities")
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert "pavedroad tokens create" in response.json()["error"]["message"]

    def test_an_htmx_request_redirects_the_whole_page(self, browser: TestClient) -> None:
        response = browser.get(
            "/catalog",
            headers={
                **HTML,
                "hx-request": "true",
                "hx-current-url": "https://testserver/search?q=x",
            },
        )
        assert response.status_code == 401
        assert response.headers["hx-redirect"] == "/sign-in?next=%2Fsearch%3Fq%3Dx"


class TestLocalSignIn:
    def test_signing_in_starts_a_session_and_returns_where_you_were(
        self, browser: TestClient, secure_runtime: Runtime
    ) -> None:
        response = sign_in(browser, next="/catalog?kind=api")
        assert response.status_code == 303
        assert response.headers["location"] == "/catalog?kind=api"
        cookie = response.headers["set-cookie"].lower()
        assert f"{SESSION_COOKIE}=" in cookie
        assert "httponly" in cookie and "secure" in cookie and "samesite=lax" in cookie
        me = browser.get("/api/identity/me").json()
        assert me["ref"] == "user:default/ada" and me["method"] == "session"
        assert me["ownershipEntityRefs"] == [
            "user:default/ada",
            "group:default/team-a",
            "group:default/dept",
        ]
        [signed] = events(secure_runtime, "auth.signed-in")
        assert signed.actor == "user:default/ada" and signed.details["method"] == "local"

    def test_the_session_token_is_stored_only_as_a_hash(
        self, browser: TestClient, secure_runtime: Runtime
    ) -> None:
        sign_in(browser)
        token = browser.cookies[SESSION_COOKIE]
        with secure_runtime.db.session() as session:
            [row] = session.scalars(select(UserSession)).all()
            assert row.id != token and len(row.id) == 64

    def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(
        self, browser: TestClient, secure_runtime: Runtime
    ) -> None:
        wrong = sign_in(browser, password="not the password at all")
        unknown = sign_in(browser, username="nobody", password="not the password at all")
        for response in (wrong, unknown):
            assert response.status_code == 401
            assert accounts.WRONG_CREDENTIALS in response.text
        assert browser.get("/api/identity/me").status_code == 401
        failures = events(secure_runtime, "auth.failed")
        assert [(e.actor, e.details["reason"], e.result) for e in failures] == [
            ("user:default/ada", "wrong-credentials", "failed"),
            ("anonymous", "wrong-credentials", "failed"),
        ]
        assert failures[0].details["ip_address"] == "testclient"

    def test_repeated_failures_lock_the_account_even_for_the_right_password(
        self, browser: TestClient, secure_runtime: Runtime
    ) -> None:
        for _ in range(5):
            assert sign_in(browser, password="guess guess guess").status_code == 401
        locked = sign_in(browser)
        assert locked.status_code == 429
        assert "pavedroad users unlock" in locked.text
        assert len(events(secure_runtime, "auth.locked")) == 1
        with secure_runtime.db.session() as session:
            accounts.unlock_account(session, "ada", actor=OPERATOR)
        assert sign_in(browser).status_code == 303

    def test_unknown_usernames_lock_like_real_ones(self, browser: TestClient) -> None:
        for _ in range(5):
            sign_in(browser, username="ghost", password="guess guess guess")
        assert sign_in(browser, username="ghost", password="guess guess guess").status_code == 429

    def test_many_failures_from_one_address_make_it_wait(
        self, secure_runtime: Runtime, browser: TestClient
    ) -> None:
        for name in ("a1", "a2", "a3", "a4") * 5:  # 20 failures, none locking one account
            sign_in(browser, username=name, password="guess guess guess")
        response = sign_in(browser)
        assert response.status_code == 429 and "this address" in response.text
        assert events(secure_runtime, "auth.failed")[-1].details["reason"] == "rate-limited"

    def test_a_sign_in_form_from_elsewhere_is_refused(self, browser: TestClient) -> None:
        browser.get("/sign-in")
        forged = browser.post(
            "/sign-in",
            data={"username": "ada", "password": PASSWORD, "csrf_token": "made-up"},
            follow_redirects=False,
        )
        assert forged.status_code == 403
        assert "came from another site" in forged.text
        assert SESSION_COOKIE not in browser.cookies

    def test_a_session_id_planted_before_sign_in_is_never_used(
        self, browser: TestClient, secure_runtime: Runtime
    ) -> None:
        browser.cookies.set(SESSION_COOKIE, "planted-by-an-attacker", domain="testserver.local")
        sign_in(browser)
        issued = browser.cookies.get(SESSION_COOKIE, domain="testserver.local")
        assert issued != "planted-by-an-attacker"
        with new_client(secure_runtime) as attacker:
            attacker.cookies.set(SESSION_COOKIE, "planted-by-an-attacker")
            assert attacker.get("/api/identity/me").status_code == 401

    @pytest.mark.parametrize(
        "target",
        [
            "https://evil.example/",
            "//evil.example/path",
            "/\\evil.example",
            "javascript:alert(1)",
            "/\x0d\x0aLocation: https://evil.example",
        ],
    )
    def test_after_sign_in_only_paths_of_this_site_are_followed(
        self, browser: TestClient, target: str
    ) -> None:
        response = sign_in(browser, next=target)
        assert response.status_code == 303
        assert response.headers["location"] == "/"

    def test_an_expired_session_is_signed_out(
        self, signed_in: Callable[[str], TestClient], secure_runtime: Runtime
    ) -> None:
        client = signed_in("ada")
        with secure_runtime.db.session() as session:
            past = datetime.now(UTC) - timedelta(minutes=1)
            session.execute(update(UserSession).values(expires_at=past))
        assert client.get("/api/identity/me").status_code == 401

    def test_local_accounts_can_be_turned_off(self, secure_runtime: Runtime) -> None:
        settings = secure_runtime.settings
        auth = settings.auth.model_copy(update={"local_accounts": False})
        off = dataclasses.replace(
            secure_runtime, settings=settings.model_copy(update={"auth": auth})
        )
        with new_client(off) as client:
            page = client.get("/sign-in").text
            assert 'name="password"' not in page
            assert sign_in_attempt(client).status_code == 401


def sign_in_attempt(client: TestClient) -> Response:
    token = client.cookies.get("pavedroad_sign_in", "")
    data = {"username": "ada", "password": PASSWORD, "csrf_token": token}
    return client.post("/sign-in", data=data, follow_redirects=False)


class TestCsrf:
    def test_a_form_post_without_the_sessions_token_is_refused(
        self, signed_in: Callable[[str], TestClient]
    ) -> None:
        client = signed_in("ada")
        page = "/catalog/default/component/ledger"
        refused = client.post(f"{page}/star", data={"star": "on"}, headers=HTML)
        assert refused.status_code == 403
        assert "security token (CSRF)" in refused.text
        accepted = client.post(
            f"{page}/star",
            data={"star": "on", "csrf_token": csrf_of(client)},
            headers=HTML,
            follow_redirects=False,
        )
        assert accepted.status_code == 303

    def test_htmx_sends_the_token_as_a_header(self, signed_in: Callable[[str], TestClient]) -> None:
        client = signed_in("ada")
        token = csrf_of(client)
        page = client.get("/catalog/default/component/ledger", headers=HTML).text
        assert f'hx-headers=\'{{"X-CSRF-Token": "{token}"}}\'' in page
        response = client.post(
            "/catalog/default/component/ledger/star",
            data={"star": "on"},
            headers={**HTML, "hx-request": "true", "x-csrf-token": token},
        )
        assert response.status_code == 200 and "Starred" in response.text


class TestSignOut:
    def test_signing_out_ends_the_session(
        self, signed_in: Callable[[str], TestClient], secure_runtime: Runtime
    ) -> None:
        client = signed_in("ada")
        stolen = client.cookies[SESSION_COOKIE]
        response = client.post(
            "/sign-out", data={"csrf_token": csrf_of(client)}, follow_redirects=False
        )
        assert response.status_code == 303 and response.headers["location"].startswith("/sign-in")
        with new_client(secure_runtime) as replay:
            replay.cookies.set(SESSION_COOKIE, stolen)
            assert replay.get("/api/identity/me").status_code == 401
        assert len(events(secure_runtime, "auth.signed-out")) == 1

    def test_signing_out_everywhere_ends_every_browsers_session(
        self, signed_in: Callable[[str], TestClient]
    ) -> None:
        laptop, phone = signed_in("ada"), signed_in("ada")
        other = signed_in("bo")
        laptop.post("/sign-out/everywhere", data={"csrf_token": csrf_of(laptop)})
        assert phone.get("/api/identity/me").status_code == 401
        assert laptop.get("/api/identity/me").status_code == 401
        assert other.get("/api/identity/me").status_code == 200


class TestAccounts:
    def test_passwords_are_argon2_hashes(self, secure_runtime: Runtime) -> None:
        with secure_runtime.db.session() as session:
            account = session.scalar(select(LocalAccount).where(LocalAccount.username == "ada"))
            assert account is not None
            assert account.password_hash.startswith("$argon2id$")
            assert PASSWORD not in account.password_hash

    def test_a_short_password_is_refused_with_the_rule(self, secure_runtime: Runtime) -> None:
        with secure_runtime.db.session() as session, pytest.raises(Exception) as error:
            accounts.create_account(
                session, username="cy", user_ref="cy", password="short", actor=OPERATOR
            )
        assert "at least 12" in str(error.value)

    def test_a_username_that_is_taken_is_a_conflict(self, secure_runtime: Runtime) -> None:
        with secure_runtime.db.session() as session, pytest.raises(Exception) as error:
            accounts.create_account(
                session, username="ADA", user_ref="ada", password=PASSWORD, actor=OPERATOR
            )
        assert "already a local account called ada" in str(error.value)

    def test_the_sign_in_page_offers_what_is_configured(self, browser: TestClient) -> None:
        page = browser.get("/sign-in").text
        assert 'name="password"' in page and form_token(page)
        assert "/auth/oidc/login" not in page  # no single sign-on configured here


class TestCrossSiteRequests:
    def test_a_form_posted_from_another_site_is_refused_even_in_demo_mode(
        self, client: TestClient
    ) -> None:
        page = "/catalog/default/component/x/star"
        for headers in ({"origin": "https://evil.example"}, {"sec-fetch-site": "cross-site"}):
            response = client.post(page, data={"star": "on"}, headers={**HTML, **headers})
            assert response.status_code == 403
            assert "came from another site" in response.text

    def test_the_portals_own_pages_may_post(self, client: TestClient) -> None:
        response = client.post(
            "/api/catalog/locations",
            json={"type": "file", "target": "/nowhere/catalog-info.yaml"},
            headers={"origin": "http://testserver", "sec-fetch-site": "same-origin"},
        )
        assert response.status_code != 403
