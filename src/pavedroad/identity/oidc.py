"""Sign-in with an OpenID Connect provider: the authorization-code flow with PKCE (S256).

The sign-in routes call :meth:`OidcClient.authorization_request` to send the browser to the
provider and :meth:`OidcClient.complete` on the provider's callback. Both block: the routes run
them in a thread pool. Authlib supplies the random tokens, PKCE and the authorization URL;
joserfc verifies the ID token against the provider's JWKS. HTTP goes through one plain httpx
client rather than Authlib's OAuth2Client, because Authlib builds that one on httpx2 whenever
httpx2 is installed, and it would then not take the ``httpx`` transport that tests and
operators pass in.
"""

from __future__ import annotations

import base64
import hmac
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeGuard
from urllib.parse import quote, urlsplit

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.errors import BadSignatureError, InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import extract_compact

from pavedroad.config import LOOPBACK_HOSTS, OidcSettings
from pavedroad.core.errors import AuthenticationError, PavedroadError, ServiceUnavailableError

__all__ = [
    "AuthorizationRequest",
    "OidcClient",
    "OidcConfigurationError",
    "OidcError",
    "OidcUnavailableError",
    "ProviderMetadata",
]

log = logging.getLogger(__name__)

DISCOVERY_TTL_SECONDS = 3600.0
CLOCK_LEEWAY_SECONDS = 60
# Asymmetric algorithms only: "none" needs no key at all, and HS256 would turn the client secret
# into a signing key that anyone holding the secret could forge ID tokens with.
SIGNING_ALGORITHMS = tuple(
    f"{kind}{bits}" for kind in ("RS", "PS", "ES") for bits in (256, 384, 512)
)
# Room for a provider's error text without letting it fill a page.
PROVIDER_TEXT_LIMIT = 300


class OidcError(AuthenticationError):
    """A sign-in that failed, with a message that says what happened and what to do."""


class OidcUnavailableError(OidcError):
    """The provider could not be reached, or answered with something that is not OIDC."""

    status_code = ServiceUnavailableError.status_code
    name = ServiceUnavailableError.name


class OidcConfigurationError(OidcError):
    """pavedroad's OIDC settings and the provider disagree; an operator has to fix them."""

    status_code = PavedroadError.status_code
    name = PavedroadError.name


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """Where to send the browser, and what the callback must match (kept server-side)."""

    url: str
    state: str
    nonce: str = field(repr=False)
    code_verifier: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class ProviderMetadata:
    """The parts of the provider's discovery document that the sign-in uses."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None
    token_endpoint_auth_methods: tuple[str, ...]

    @classmethod
    def parse(cls, document: Mapping[str, Any], *, url: str, issuer: str) -> ProviderMetadata:
        """Read a discovery document fetched from ``url`` for the configured ``issuer``."""
        missing = [
            name
            for name in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")
            if not isinstance(document.get(name), str)
        ]
        if missing:
            raise OidcUnavailableError(
                f"The discovery document at {url} lacks {', '.join(missing)}; "
                "check that auth.oidc.issuer is the provider's issuer URL."
            )
        # OIDC Discovery 4.3: the document must name the issuer it was fetched for, or anyone
        # serving a document could vouch for another issuer's tokens. A trailing slash in the
        # setting is forgiven, nothing else.
        if document["issuer"].rstrip("/") != issuer.rstrip("/"):
            raise OidcConfigurationError(
                f"The discovery document at {url} is for issuer {document['issuer']!r}, but "
                f"auth.oidc.issuer is {issuer!r}; set auth.oidc.issuer to the provider's issuer."
            )
        userinfo = document.get("userinfo_endpoint")
        methods = document.get("token_endpoint_auth_methods_supported")
        metadata = cls(
            issuer=document["issuer"],
            authorization_endpoint=document["authorization_endpoint"],
            token_endpoint=document["token_endpoint"],
            jwks_uri=document["jwks_uri"],
            userinfo_endpoint=userinfo if isinstance(userinfo, str) else None,
            # The default when absent is client_secret_basic (OIDC Discovery 3).
            token_endpoint_auth_methods=tuple(methods)
            if isinstance(methods, list) and methods
            else ("client_secret_basic",),
        )
        for endpoint in (metadata.authorization_endpoint, metadata.token_endpoint):
            if not _is_secure(endpoint):
                raise OidcUnavailableError(
                    f"The discovery document at {url} names {endpoint}, which is not https."
                )
        return metadata


class OidcClient:
    """One configured OpenID Connect provider, its discovery document and signing keys cached.

    Thread-safe: the sign-in routes share one client across the thread pool.
    """

    def __init__(
        self,
        settings: OidcSettings,
        redirect_uri: str,
        *,
        transport: httpx.BaseTransport | None = None,
        discovery_ttl_seconds: float = DISCOVERY_TTL_SECONDS,
    ) -> None:
        if not settings.issuer or not settings.client_id:
            raise OidcConfigurationError(
                "OIDC sign-in needs auth.oidc.issuer and auth.oidc.client_id to be set."
            )
        if not _is_secure(settings.issuer):
            raise OidcConfigurationError(
                f"auth.oidc.issuer {settings.issuer!r} must be an https URL "
                "(http only to this machine)."
            )
        self.settings = settings
        self.redirect_uri = redirect_uri
        self.discovery_url = settings.issuer.rstrip("/") + "/.well-known/openid-configuration"
        self._ttl = discovery_ttl_seconds
        self._http = httpx.Client(timeout=settings.timeout_seconds, transport=transport)
        self._lock = threading.Lock()
        self._metadata: tuple[float, ProviderMetadata] | None = None
        self._keys: tuple[float, KeySet] | None = None

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> OidcClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def authorization_request(self) -> AuthorizationRequest:
        """A fresh sign-in: the provider URL to redirect to, and the values to keep for later."""
        metadata = self.metadata()
        state, nonce = str(generate_token(32)), str(generate_token(32))
        code_verifier = str(generate_token(64))  # RFC 7636: 43 to 128 unreserved characters
        url = prepare_grant_uri(
            metadata.authorization_endpoint,
            client_id=self.settings.client_id,
            response_type="code",
            redirect_uri=self.redirect_uri,
            scope=" ".join(self._scopes()),
            state=state,
            nonce=nonce,
            code_challenge=create_s256_code_challenge(code_verifier),
            code_challenge_method="S256",
        )
        return AuthorizationRequest(
            url=str(url), state=state, nonce=nonce, code_verifier=code_verifier
        )

    def complete(
        self, *, query: Mapping[str, str], expected_state: str, nonce: str, code_verifier: str
    ) -> dict[str, Any]:
        """Finish a sign-in from the callback's query; returns the person's verified claims."""
        self._check_callback(query, expected_state)
        metadata = self.metadata()
        # RFC 9207: a provider that names itself in the callback must be the configured one,
        # which defeats mix-ups between several providers.
        if "iss" in query and query["iss"] != metadata.issuer:
            raise OidcError(
                f"The sign-in answer comes from issuer {query['iss']!r}, expected "
                f"{metadata.issuer!r}. Start the sign-in again."
            )
        tokens = self._exchange_code(metadata, query["code"], code_verifier)
        claims = self._verified_claims(str(tokens["id_token"]), metadata, nonce)
        return self._with_userinfo(claims, tokens, metadata)

    def metadata(self) -> ProviderMetadata:
        """The provider's discovery document, read again once it is older than the TTL."""
        with self._lock:
            if self._metadata is None or time.monotonic() - self._metadata[0] > self._ttl:
                document = self._get_json(self.discovery_url, "discovery document")
                parsed = ProviderMetadata.parse(
                    document, url=self.discovery_url, issuer=self.settings.issuer
                )
                self._metadata = (time.monotonic(), parsed)
                log.info("Read the OIDC discovery document at %s", self.discovery_url)
            return self._metadata[1]

    def _scopes(self) -> list[str]:
        # Without "openid" the provider runs plain OAuth and sends no ID token.
        scopes = list(self.settings.scopes)
        return scopes if "openid" in scopes else ["openid", *scopes]

    def _check_callback(self, query: Mapping[str, str], expected_state: str) -> None:
        # The state is checked before the provider's error is shown, so that a forged callback
        # cannot put its own words on our error page.
        state = query.get("state", "")
        if not expected_state or not hmac.compare_digest(state.encode(), expected_state.encode()):
            raise OidcError(
                "This answer from the provider does not belong to the sign-in started in this "
                "browser (the state does not match). Start the sign-in again."
            )
        if "error" in query:
            error = self._provider_text(query["error"])
            description = self._provider_text(query.get("error_description", ""))
            said = f"{error}: {description}" if description else error
            if query["error"] == "access_denied":
                raise OidcError(
                    f"The provider did not let you sign in ({said}). If you cancelled, start the "
                    "sign-in again; otherwise ask an administrator to give you access to "
                    "pavedroad at the provider.",
                    provider_error=error,
                )
            raise OidcError(
                f"The provider refused the sign-in ({said}). Start the sign-in again; if it keeps "
                "failing, an administrator should check the client's settings at the provider.",
                provider_error=error,
            )
        if not query.get("code"):
            raise OidcError("The provider's answer carries no authorization code. Start again.")

    def _exchange_code(
        self, metadata: ProviderMetadata, code: str, code_verifier: str
    ) -> dict[str, Any]:
        secrets = (code, code_verifier)  # kept out of any provider text that we repeat
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.redirect_uri,
            "code_verifier": code_verifier,
        }
        headers = {"Accept": "application/json"}
        secret = self.settings.client_secret.get_secret_value()
        method = self._client_auth_method(metadata)
        if method == "client_secret_basic":
            headers["Authorization"] = _basic_authorization(self.settings.client_id, secret)
        else:
            form["client_id"] = self.settings.client_id
            if method == "client_secret_post":
                form["client_secret"] = secret
        url = metadata.token_endpoint
        response = self._send("POST", url, "token endpoint", data=form, headers=headers)
        body = _json_object(response)
        if body is not None and "error" in body:
            raise OidcError(
                "The provider's token endpoint refused the sign-in "
                f"({self._provider_error(body, secrets)}). Start the sign-in again; if it keeps "
                "failing, check auth.oidc.client_id, auth.oidc.client_secret and that the "
                f"provider has {self.redirect_uri} registered as a redirect URI.",
                provider_error=self._provider_text(str(body["error"]), *secrets),
            )
        tokens = self._json_body(response, body, url, "token endpoint")
        if not isinstance(tokens.get("id_token"), str):
            raise OidcError(
                f"The token endpoint at {url} sent no ID token; allow the 'openid' scope for "
                "this client at the provider."
            )
        return tokens

    def _client_auth_method(self, metadata: ProviderMetadata) -> str:
        if not self.settings.client_secret.get_secret_value():
            return "none"  # a public client: PKCE alone protects the code
        for method in ("client_secret_basic", "client_secret_post"):
            if method in metadata.token_endpoint_auth_methods:
                return method
        raise OidcConfigurationError(
            "The provider authenticates clients at its token endpoint only by "
            f"{', '.join(metadata.token_endpoint_auth_methods)}; pavedroad supports "
            "client_secret_basic and client_secret_post."
        )

    def _verified_claims(
        self, id_token: str, metadata: ProviderMetadata, nonce: str
    ) -> dict[str, Any]:
        try:
            claims = _decode(id_token, self._key_set(metadata))
        except InvalidKeyIdError:
            # The provider has rotated its keys since they were read: read them once more.
            log.info("The ID token names a key not in the cached JWKS; reading the JWKS again")
            try:
                claims = _decode(id_token, self._key_set(metadata, refresh=True))
            except InvalidKeyIdError as error:
                kid = extract_compact(id_token.encode()).headers().get("kid")
                raise OidcError(
                    f"The ID token is signed with key {kid!r}, which the provider's key set at "
                    f"{metadata.jwks_uri} does not hold."
                ) from error
        _check_claims(claims, metadata.issuer, self.settings.client_id, nonce)
        return claims

    def _key_set(self, metadata: ProviderMetadata, *, refresh: bool = False) -> KeySet:
        with self._lock:
            stale = self._keys is None or time.monotonic() - self._keys[0] > self._ttl
            if refresh or stale:
                document = self._get_json(metadata.jwks_uri, "key set (JWKS)")
                try:
                    keys = KeySet.import_key_set(document)  # type: ignore[arg-type]
                except (JoseError, KeyError, TypeError, ValueError) as error:
                    raise OidcUnavailableError(
                        f"The provider's key set at {metadata.jwks_uri} holds no usable keys."
                    ) from error
                self._keys = (time.monotonic(), keys)
            assert self._keys is not None
            return self._keys[1]

    def _with_userinfo(
        self, claims: dict[str, Any], tokens: Mapping[str, Any], metadata: ProviderMetadata
    ) -> dict[str, Any]:
        match_claim = self.settings.match_claim
        if match_claim in claims:
            return claims
        access_token = tokens.get("access_token")
        url = metadata.userinfo_endpoint
        if url is None or not isinstance(access_token, str):
            return claims  # nothing more to learn; matching the person reports the gap
        headers = {"Authorization": f"Bearer {access_token}", "Accept": "application/json"}
        response = self._send("GET", url, "userinfo endpoint", headers=headers)
        userinfo = self._json_body(response, _json_object(response), url, "userinfo endpoint")
        # OIDC Core 5.3.2: userinfo about someone else must not be mixed into this sign-in.
        if userinfo.get("sub") != claims["sub"]:
            raise OidcError(
                "The provider's userinfo describes another person than the ID token. "
                "Start the sign-in again."
            )
        return {**userinfo, **claims}  # the signed ID token wins where both speak

    def _get_json(self, url: str, what: str) -> dict[str, Any]:
        response = self._send("GET", url, what, headers={"Accept": "application/json"})
        return self._json_body(response, _json_object(response), url, what)

    def _send(self, method: str, url: str, what: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._http.request(method, url, **kwargs)
        except httpx.TransportError as error:
            raise OidcUnavailableError(
                f"Could not reach the OIDC provider's {what} at {url} "
                f"({type(error).__name__}: {error}). Check auth.oidc.issuer and that this server "
                "can reach the provider."
            ) from error

    def _json_body(
        self, response: httpx.Response, body: dict[str, Any] | None, url: str, what: str
    ) -> dict[str, Any]:
        if response.is_success and body is not None:
            return body
        status = response.status_code
        if response.is_client_error:
            said = f": {self._provider_error(body)}" if body and "error" in body else ""
            raise OidcError(
                f"The provider's {what} at {url} refused the request (HTTP {status}{said})."
            )
        raise OidcUnavailableError(
            f"The provider's {what} at {url} answered HTTP {status}"
            f"{'' if body is not None else ' without a JSON object'}; try again later."
        )

    def _provider_error(self, body: Mapping[str, Any], secrets: tuple[str, ...] = ()) -> str:
        error = self._provider_text(str(body["error"]), *secrets)
        description = self._provider_text(str(body.get("error_description") or ""), *secrets)
        return f"{error}: {description}" if description else error

    def _provider_text(self, text: str, *secrets: str) -> str:
        """A provider's words, fit for a message: short, and never echoing what is secret."""
        for secret in (self.settings.client_secret.get_secret_value(), *secrets):
            if secret:
                text = text.replace(secret, "[redacted]")
        return text[:PROVIDER_TEXT_LIMIT]


def _decode(id_token: str, keys: KeySet) -> dict[str, Any]:
    """The ID token's claims once its signature verifies; InvalidKeyIdError for unknown keys."""
    try:
        return dict(jwt.decode(id_token, keys, algorithms=SIGNING_ALGORITHMS).claims)
    except InvalidKeyIdError:
        raise
    except BadSignatureError as error:
        raise OidcError(
            "The ID token's signature does not verify against the provider's keys, so it was "
            "not issued by the configured provider. Start the sign-in again; if it keeps "
            "failing, check auth.oidc.issuer."
        ) from error
    except (JoseError, ValueError) as error:
        reason = (error.description or error.error) if isinstance(error, JoseError) else error
        raise OidcError(
            f"The provider's ID token cannot be verified ({reason}); pavedroad accepts tokens "
            f"signed with {', '.join(SIGNING_ALGORITHMS)}."
        ) from error


def _check_claims(claims: Mapping[str, Any], issuer: str, client_id: str, nonce: str) -> None:
    """OIDC Core 3.1.3.7: who issued the token, for whom, when, and for which sign-in."""
    if claims.get("iss") != issuer:
        raise OidcError(
            f"The ID token was issued by {claims.get('iss')!r}, but {issuer!r} was expected; "
            "check auth.oidc.issuer."
        )
    audience = claims.get("aud")
    audiences = [audience] if isinstance(audience, str) else list(audience or [])
    if client_id not in audiences:
        raise OidcError(
            f"The ID token is meant for {audiences!r}, but this client is {client_id!r} "
            "(auth.oidc.client_id); check the client id registered at the provider."
        )
    azp = claims.get("azp")
    if (len(audiences) > 1 or azp is not None) and azp != client_id:
        raise OidcError(
            f"The ID token was issued to party {azp!r} (azp), but {client_id!r} was expected."
        )
    _check_times(claims)
    if not nonce or not hmac.compare_digest(str(claims.get("nonce", "")).encode(), nonce.encode()):
        raise OidcError(
            "The ID token belongs to another sign-in (the nonce does not match). "
            "Start the sign-in again."
        )
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise OidcError("The ID token names nobody (it has no 'sub' claim).")


def _check_times(claims: Mapping[str, Any]) -> None:
    now = time.time()
    expires, issued = claims.get("exp"), claims.get("iat")
    if not _is_number(expires) or not _is_number(issued):
        raise OidcError("The ID token lacks its expiry (exp) or issue time (iat).")
    if now > expires + CLOCK_LEEWAY_SECONDS:
        raise OidcError(
            f"The ID token expired at {_when(expires)} (it is now {_when(now)}). Start the "
            "sign-in again; if this repeats, check this server's clock."
        )
    if issued > now + CLOCK_LEEWAY_SECONDS:
        raise OidcError(
            f"The ID token was issued in the future ({_when(issued)}, it is now {_when(now)}); "
            "this server's clock or the provider's is wrong."
        )


def _is_number(value: object) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _when(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _basic_authorization(client_id: str, secret: str) -> str:
    # RFC 6749 2.3.1: both parts are form-encoded before they are joined and base64-encoded.
    joined = f"{quote(client_id, safe='')}:{quote(secret, safe='')}"
    return "Basic " + base64.b64encode(joined.encode()).decode("ascii")


def _is_secure(url: str) -> bool:
    """https, or http to this machine (tests and local providers)."""
    parts = urlsplit(url)
    return parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS)
