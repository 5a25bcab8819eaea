"""The OpenID Connect client, against a real provider over HTTP on 127.0.0.1."""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

import httpx
import pytest

from pavedroad.config import OidcSettings
from pavedroad.identity.oidc import (
    AuthorizationRequest,
    OidcClient,
    OidcConfigurationError,
    OidcError,
    OidcUnavailableError,
)
from tests.identity.oidc_provider import OidcTestProvider

CALLBACK = "http://127.0.0.1:8000/auth/oidc/callback"
ADA = {"email": "ada@example.com", "name": "Ada Lovelace"}


@pytest.fixture(scope="module")
def running_provider() -> Iterator[OidcTestProvider]:
    with OidcTestProvider(redirect_uris=[CALLBACK]) as provider:
        yield provider


@pytest.fixture(scope="module")
def browser() -> Iterator[httpx.Client]:
    """The person's browser, minus the redirect to pavedroad that a test makes by hand."""
    with httpx.Client(timeout=5) as http:
        yield http


@pytest.fixture
def provider(running_provider: OidcTestProvider) -> OidcTestProvider:
    running_provider.reset()
    running_provider.auto_sign_in = ADA
    return running_provider


@pytest.fixture
def client(provider: OidcTestProvider) -> Iterator[OidcClient]:
    with OidcClient(settings_for(provider), CALLBACK) as oidc:
        yield oidc


def settings_for(provider: OidcTestProvider, **changes: Any) -> OidcSettings:
    values: dict[str, Any] = {
        "issuer": provider.issuer,
        "client_id": provider.client_id,
        "client_secret": provider.client_secret,
        **changes,
    }
    return OidcSettings(**values)


def visit_provider(browser: httpx.Client, request: AuthorizationRequest) -> dict[str, str]:
    """What the browser does: go to the provider and come back; returns the callback's query."""
    response = browser.get(request.url)
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(CALLBACK + "?")
    return dict(parse_qsl(urlsplit(location).query))


def complete(
    client: OidcClient, request: AuthorizationRequest, query: dict[str, str], **changes: str
) -> dict[str, Any]:
    expected: dict[str, str] = {
        "expected_state": request.state,
        "nonce": request.nonce,
        "code_verifier": request.code_verifier,
        **changes,
    }
    return client.complete(query=query, **expected)


def sign_in(client: OidcClient, browser: httpx.Client) -> dict[str, Any]:
    request = client.authorization_request()
    return complete(client, request, visit_provider(browser, request))


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class TestAuthorizationRequest:
    def test_url_carries_state_nonce_and_an_s256_challenge_of_the_verifier(
        self, client: OidcClient, provider: OidcTestProvider
    ) -> None:
        request = client.authorization_request()

        url = urlsplit(request.url)
        params = {name: values[0] for name, values in parse_qs(url.query).items()}
        assert f"{url.scheme}://{url.netloc}{url.path}" == f"{provider.issuer}/authorize"
        assert params == {
            "response_type": "code",
            "client_id": "pavedroad",
            "redirect_uri": CALLBACK,
            "scope": "openid profile email",
            "state": request.state,
            "nonce": request.nonce,
            "code_challenge": s256(request.code_verifier),
            "code_challenge_method": "S256",
        }

    def test_every_request_has_fresh_random_values_and_a_valid_pkce_verifier(
        self, client: OidcClient
    ) -> None:
        first, second = client.authorization_request(), client.authorization_request()

        assert first.state != second.state
        assert first.nonce != second.nonce
        assert first.code_verifier != second.code_verifier
        assert re.fullmatch(r"[A-Za-z0-9\-._~]{43,128}", first.code_verifier)
        assert first.code_verifier not in repr(first)

    def test_scope_always_asks_for_openid(self, provider: OidcTestProvider) -> None:
        with OidcClient(settings_for(provider, scopes=["email"]), CALLBACK) as client:
            url = client.authorization_request().url

        assert parse_qs(urlsplit(url).query)["scope"] == ["openid email"]

    def test_discovery_is_read_once_and_reused(
        self, browser: httpx.Client, client: OidcClient, provider: OidcTestProvider
    ) -> None:
        sign_in(client, browser)
        sign_in(client, browser)

        assert len(provider.requests_to("/.well-known/openid-configuration")) == 1
        assert len(provider.requests_to("/jwks")) == 1

    def test_discovery_is_read_again_once_its_ttl_has_passed(
        self, provider: OidcTestProvider
    ) -> None:
        with OidcClient(settings_for(provider), CALLBACK, discovery_ttl_seconds=0) as client:
            client.authorization_request()
            client.authorization_request()

        assert len(provider.requests_to("/.well-known/openid-configuration")) == 2

    def test_unreachable_issuer_is_named_in_the_error(self) -> None:
        with socket.socket() as unused:
            unused.bind(("127.0.0.1", 0))
            issuer = f"http://127.0.0.1:{unused.getsockname()[1]}"
        settings = OidcSettings(issuer=issuer, client_id="pavedroad", timeout_seconds=2)

        with OidcClient(settings, CALLBACK) as client, pytest.raises(OidcUnavailableError) as error:
            client.authorization_request()

        assert f"{issuer}/.well-known/openid-configuration" in error.value.message
        assert error.value.status_code == 503

    def test_discovery_document_for_another_issuer_is_refused(
        self, client: OidcClient, provider: OidcTestProvider
    ) -> None:
        provider.tamper = "wrong-discovery-issuer"

        with pytest.raises(OidcConfigurationError) as error:
            client.authorization_request()

        assert "is for issuer 'https://elsewhere.example'" in error.value.message
        assert error.value.status_code == 500

    def test_plain_http_issuer_off_this_machine_is_refused(self) -> None:
        with pytest.raises(OidcConfigurationError, match="must be an https URL"):
            OidcClient(OidcSettings(issuer="http://sso.example.com", client_id="x"), CALLBACK)


class TestComplete:
    def test_sign_in_returns_the_id_token_claims(
        self, browser: httpx.Client, client: OidcClient, provider: OidcTestProvider
    ) -> None:
        claims = sign_in(client, browser)

        assert claims["email"] == "ada@example.com"
        assert claims["name"] == "Ada Lovelace"
        assert claims["iss"] == provider.issuer
        assert claims["aud"] == "pavedroad"
        assert claims["sub"].startswith("user-")
        assert provider.requests_to("/userinfo") == []

    def test_provider_received_the_s256_challenge_and_then_the_verifier(
        self, browser: httpx.Client, client: OidcClient, provider: OidcTestProvider
    ) -> None:
        request = client.authorization_request()
        complete(client, request, visit_provider(browser, request))

        (authorize,) = provider.requests_to("/authorize")
        (token,) = provider.requests_to("/token")
        assert authorize.query["code_challenge_method"] == "S256"
        assert authorize.query["code_challenge"] == s256(request.code_verifier)
        assert token.form["code_verifier"] == request.code_verifier
        assert token.form["redirect_uri"] == CALLBACK
        assert token.headers["authorization"].startswith("Basic ")
        assert "client_secret" not in token.form

    def test_client_secret_post_is_used_when_the_provider_allows_only_that(
        self, browser: httpx.Client, client: OidcClient, provider: OidcTestProvider
    ) -> None:
        provider.token_auth_methods = ["client_secret_post"]

        assert sign_in(client, browser)["email"] == "ada@example.com"

        (token,) = provider.requests_to("/token")
        assert "authorization" not in token.headers
        assert token.form["client_id"] == "pavedroad"

    def test_es256_signed_id_token_is_accepted(
        self, browser: httpx.Client, client: OidcClient, provider: OidcTestProvider
    ) -> None:
        provider.signing_alg = "ES256"

        assert sign_in(client, browser)["email"] == "ada@example.com"

    def test_signing_in_through_the_providers_form(
        self, browser: httpx.Client, client: OidcClient, provider: OidcTestProvider
    ) -> None:
        provider.auto_sign_in = None
        request = client.authorization_request()

        page = browser.get(request.url)
        assert page.status_code == 200
        assert 'name="email"' in page.text
        assert ">Sign in</button>" in page.text
        fields = dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
        answer = browser.post(
            f"{provider.issuer}/authorize", data={**fields, "email": "grace@x.org"}
        )
        assert answer.status_code == 303
        query = dict(parse_qsl(urlsplit(answer.headers["location"]).query))

        assert complete(client, request, query)["email"] == "grace@x.org"

    def test_wrong_code_verifier_is_refused_by_the_provider(
        self, browser: httpx.Client, client: OidcClient
    ) -> None:
        request = client.authorization_request()
        query = visit_provider(browser, request)

        with pytest.raises(OidcError) as error:
            complete(client, request, query, code_verifier="x" * 64)

        assert "token endpoint refused the sign-in (invalid_grant: PKCE" in error.value.message
        assert "Start the sign-in again" in error.value.message

    def test_state_mismatch_asks_to_start_again_and_sends_nothing_to_the_provider(
        self, browser: httpx.Client, client: OidcClient, provider: OidcTestProvider
    ) -> None:
        request = client.authorization_request()
        query = visit_provider(browser, request)

        with pytest.raises(OidcError, match=r"state does not match\)\. Start the sign-in again"):
            complete(client, request, query, expected_state="another-sign-in")

        assert provider.requests_to("/token") == []

    def test_access_denied_at_the_provider_says_so(
        self, browser: httpx.Client, client: OidcClient, provider: OidcTestProvider
    ) -> None:
        provider.auto_deny = True
        request = client.authorization_request()

        with pytest.raises(OidcError) as error:
            complete(client, request, visit_provider(browser, request))

        assert "did not let you sign in (access_denied: Denied.)" in error.value.message
        assert error.value.details == {"provider_error": "access_denied"}
        assert error.value.status_code == 401

    def test_id_token_for_another_audience_names_both(
        self, browser: httpx.Client, client: OidcClient, provider: OidcTestProvider
    ) -> None:
        provider.tamper = "wrong-audience"

        with pytest.raises(OidcError, match=r"meant for \['someone-else'\].*is 'pavedroad'"):
            sign_in(client, browser)

    def test_id_token_from_another_issuer_names_both(
        self, browser: httpx.Client, client: OidcClient, provider: OidcTestProvider
    ) -> None:
        provider.tamper = "wrong-issuer"

        with pytest.raises(OidcError) as error:
            sign_in(client, browser)

        assert "issued by 'https://impostor.example'" in error.value.message
        assert f"but '{provider.issuer}' was expected" in error.value.message

    def test_expired_id_token_is_refused(
        self, browser: httpx.Client, client: OidcClient, provider: OidcTestProvider
    ) -> None:
        provider.tamper = "expired"

        with pytest.raises(OidcError, match="The ID token expired at"):
            sign_in(client, browser)

    def test_id_token_with_a_bad_signature_is_refused(
        self, browser: httpx.Client, client: OidcClient, provider: OidcTestProvider
    ) -> None:
        provider.tamper = "bad-signature"

        with pytest.raises(OidcError, match="signature does not verify"):
            sign_in(client, browser)

    def test_unsigned_id_token_is_refused(
        self, browser: httpx.Client, client: OidcClient, provider: OidcTestProvider
    ) -> None:
        provider.tamper = "unsigned"

        with pytest.raises(OidcError, match="Algorithm of 'none' is not allowed"):
            sign_in(client, browser)

    def test_id_token_of_another_sign_in_is_refused(
        self, browser: httpx.Client, client: OidcClient, provider: OidcTestProvider
    ) -> None:
        provider.tamper = "wrong-nonce"

        with pytest.raises(OidcError, match="nonce does not match"):
            sign_in(client, browser)

    def test_match_claim_missing_from_the_id_token_is_read_from_userinfo(
        self, browser: httpx.Client, client: OidcClient, provider: OidcTestProvider
    ) -> None:
        provider.tamper = "no-email-in-id-token"

        claims = sign_in(client, browser)

        assert claims["email"] == "ada@example.com"
        (userinfo,) = provider.requests_to("/userinfo")
        assert userinfo.headers["authorization"].startswith("Bearer ")

    def test_claim_the_provider_never_sends_is_left_for_user_matching_to_report(
        self, browser: httpx.Client, provider: OidcTestProvider
    ) -> None:
        with OidcClient(settings_for(provider, match_claim="employee_id"), CALLBACK) as client:
            claims = sign_in(client, browser)

        assert "employee_id" not in claims
        assert len(provider.requests_to("/userinfo")) == 1

    def test_code_can_be_used_only_once(self, browser: httpx.Client, client: OidcClient) -> None:
        request = client.authorization_request()
        query = visit_provider(browser, request)
        complete(client, request, query)

        with pytest.raises(OidcError, match="invalid_grant: The code is unknown or was already"):
            complete(client, request, query)

    def test_expired_code_is_refused(
        self, browser: httpx.Client, client: OidcClient, provider: OidcTestProvider
    ) -> None:
        provider.code_ttl_seconds = -1

        with pytest.raises(OidcError, match="invalid_grant: The code has expired"):
            sign_in(client, browser)

    def test_rotated_signing_keys_are_read_again_once(
        self, browser: httpx.Client, client: OidcClient, provider: OidcTestProvider
    ) -> None:
        sign_in(client, browser)
        provider.rotate_keys()

        assert sign_in(client, browser)["email"] == "ada@example.com"
        assert len(provider.requests_to("/jwks")) == 2

    def test_answer_naming_another_issuer_is_refused(
        self, browser: httpx.Client, client: OidcClient
    ) -> None:
        request = client.authorization_request()
        query = {**visit_provider(browser, request), "iss": "https://impostor.example"}

        with pytest.raises(OidcError, match=r"comes from issuer 'https://impostor\.example'"):
            complete(client, request, query)

    def test_wrong_client_secret_is_refused_with_a_hint(
        self, browser: httpx.Client, provider: OidcTestProvider
    ) -> None:
        settings = settings_for(provider, client_secret="not-the-secret-91c2")
        with OidcClient(settings, CALLBACK) as client, pytest.raises(OidcError) as error:
            sign_in(client, browser)

        assert "invalid_client" in error.value.message
        assert "check auth.oidc.client_id, auth.oidc.client_secret" in error.value.message
        assert "not-the-secret-91c2" not in error.value.message


class TestSecrecy:
    def test_client_secret_codes_and_tokens_stay_out_of_logs_and_messages(
        self,
        browser: httpx.Client,
        client: OidcClient,
        provider: OidcTestProvider,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        # The browser's visits happen first: its own requests log the codes, the client's must not.
        tampers = [
            None,
            "wrong-audience",
            "wrong-issuer",
            "expired",
            "bad-signature",
            "wrong-nonce",
        ]
        visits = [(client.authorization_request(), tamper) for tamper in tampers]
        answers = [
            (request, visit_provider(browser, request), tamper) for request, tamper in visits
        ]
        caplog.set_level(logging.DEBUG)

        messages = []
        for request, query, tamper in answers:
            provider.tamper = tamper
            if tamper is None:
                complete(client, request, query)  # signs in; the replay below fails
            messages.append(failure_message(client, request, query))

        said = "\n".join([*messages, caplog.text])
        codes = [token.form["code"] for token in provider.requests_to("/token")]
        verifiers = [request.code_verifier for request, _ in visits]
        assert len(codes) == len(tampers) + 1  # the first code was tried twice
        for secret in [provider.client_secret, *verifiers, *codes, *provider.issued]:
            assert secret not in said


def failure_message(
    client: OidcClient, request: AuthorizationRequest, query: dict[str, str]
) -> str:
    with pytest.raises(OidcError) as error:
        complete(client, request, query)
    return error.value.message
