"""A small but real OpenID Connect provider that tests run on 127.0.0.1, on a free port.

It speaks the parts of OIDC that pavedroad's sign-in uses: discovery, JWKS, the authorization
endpoint (PKCE S256 only) with a tiny sign-in form, the token endpoint (single-use codes,
client_secret_basic and client_secret_post) and userinfo. Tests steer it with attributes:

``auto_sign_in``  claims to sign in with at once, skipping the form (``None``: show the form)
``auto_deny``     answer every authorization request with ``access_denied``
``tamper``        one of :data:`TAMPERS`, to make the ID token (or discovery) lie
``signing_alg``   ``"RS256"`` or ``"ES256"``
``token_auth_methods``, ``code_ttl_seconds``, ``rotate_keys()``

and read back ``requests``, everything it received, and ``issued``, every token it gave out.

    with OidcTestProvider(redirect_uris=[callback_url]) as provider:
        provider.auto_sign_in = {"email": "ada@example.com"}
        settings = OidcSettings(issuer=provider.issuer, client_id=provider.client_id,
                                client_secret=provider.client_secret)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import secrets
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlencode

import uvicorn
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

TAMPERS = (
    "wrong-audience",
    "wrong-issuer",
    "expired",
    "bad-signature",
    "wrong-nonce",
    "no-email-in-id-token",
    "unsigned",
    "wrong-discovery-issuer",
)
AUTH_METHODS = ("client_secret_basic", "client_secret_post")


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the provider received it."""

    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    headers: dict[str, str]


@dataclass(frozen=True)
class _Grant:
    """What an authorization code stands for until it is redeemed."""

    client_id: str
    redirect_uri: str
    code_challenge: str
    nonce: str | None
    claims: dict[str, Any]
    expires_at: float


class OidcTestProvider:
    """An OIDC provider with one registered client, served by uvicorn in a background thread."""

    def __init__(
        self,
        *,
        client_id: str = "pavedroad",
        client_secret: str = "provider-test-secret-7f3a",
        redirect_uris: Iterable[str] = (),
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uris = set(redirect_uris)
        self.rotate_keys()
        self._lock = threading.Lock()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._port: int | None = None
        self.reset()
        self.app = Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self._discovery),
                Route("/jwks", self._jwks),
                Route("/authorize", self._authorize, methods=["GET"]),
                Route("/authorize", self._sign_in_form_submitted, methods=["POST"]),
                Route("/token", self._token, methods=["POST"]),
                Route("/userinfo", self._userinfo, methods=["GET", "POST"]),
            ]
        )

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def issuer(self) -> str:
        if self._port is None:
            raise RuntimeError("The test provider has not been started.")
        return f"http://127.0.0.1:{self._port}"

    def start(self) -> OidcTestProvider:
        # Binding the socket here (port 0) hands uvicorn a port that is known to be free.
        # IPPROTO_TCP spelled out: asyncio turns Nagle off only on sockets that say so, and
        # with Nagle on every keep-alive request waits ~40 ms for a delayed ACK.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        # log_config=None and the default access_log: uvicorn then leaves the test run's
        # logging configuration alone (access_log=False would stop uvicorn.access propagating).
        config = uvicorn.Config(
            self.app,
            log_config=None,
            lifespan="off",
            loop="asyncio",
            http="h11",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True, name="oidc-provider"
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("The test OIDC provider did not start.")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> OidcTestProvider:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- knobs -----------------------------------------------------------------------------

    def reset(self) -> None:
        """Back to a well-behaved provider with no history (keys and client stay)."""
        self.auto_sign_in: dict[str, Any] | None = None
        self.auto_deny = False
        self.tamper = None
        self.signing_alg = "RS256"
        self.token_auth_methods: list[str] = list(AUTH_METHODS)
        self.code_ttl_seconds = 60.0
        self.token_ttl_seconds = 300
        self.requests: list[RecordedRequest] = []
        self._codes: dict[str, _Grant] = {}
        self._redeemed: dict[str, str] = {}  # code -> the access token it bought
        self._access_tokens: dict[str, dict[str, Any]] = {}
        self.issued: list[str] = []  # every access and ID token, for tests of leaks

    @property
    def tamper(self) -> str | None:
        return self._tamper

    @tamper.setter
    def tamper(self, value: str | None) -> None:
        if value is not None and value not in TAMPERS:
            raise ValueError(f"Unknown tamper {value!r}; choose one of {', '.join(TAMPERS)}.")
        self._tamper = value

    def rotate_keys(self) -> None:
        """New signing keys under new key ids; the JWKS stops publishing the old ones."""
        suffix = secrets.token_hex(4)
        self._keys: dict[str, RSAKey | ECKey] = {
            "RS256": RSAKey.generate_key(2048, {"kid": f"rsa-{suffix}", "use": "sig"}),
            "ES256": ECKey.generate_key("P-256", {"kid": f"ec-{suffix}", "use": "sig"}),
        }

    def requests_to(self, path: str) -> list[RecordedRequest]:
        with self._lock:
            return [request for request in self.requests if request.path == path]

    # -- endpoints -------------------------------------------------------------------------

    async def _discovery(self, request: Request) -> Response:
        await self._record(request)
        issuer = self.issuer
        claimed = "https://elsewhere.example" if self.tamper == "wrong-discovery-issuer" else issuer
        return JSONResponse(
            {
                "issuer": claimed,
                "authorization_endpoint": f"{issuer}/authorize",
                "token_endpoint": f"{issuer}/token",
                "userinfo_endpoint": f"{issuer}/userinfo",
                "jwks_uri": f"{issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256", "ES256"],
                "scopes_supported": ["openid", "profile", "email"],
                "token_endpoint_auth_methods_supported": self.token_auth_methods,
                "code_challenge_methods_supported": ["S256"],
                "grant_types_supported": ["authorization_code"],
                "authorization_response_iss_parameter_supported": True,
            }
        )

    async def _jwks(self, request: Request) -> Response:
        await self._record(request)
        keys = [key.as_dict(private=False) for key in self._keys.values()]
        return JSONResponse({"keys": keys})

    async def _authorize(self, request: Request) -> Response:
        params = await self._record(request)
        refusal = self._refuse_authorization(params)
        if refusal is not None:
            return refusal
        if self.auto_deny:
            return self._back(params, 302, error="access_denied", error_description="Denied.")
        if self.auto_sign_in is not None:
            return self._back(params, 302, code=self._issue_code(params, self.auto_sign_in))
        return HTMLResponse(_sign_in_page(params))

    async def _sign_in_form_submitted(self, request: Request) -> Response:
        params = await self._record(request)
        refusal = self._refuse_authorization(params)
        if refusal is not None:
            return refusal
        if params.get("action") == "cancel":
            return self._back(params, 303, error="access_denied", error_description="Cancelled.")
        claims = {"email": params.get("email", "")}
        return self._back(params, 303, code=self._issue_code(params, claims))

    async def _token(self, request: Request) -> Response:
        form = await self._record(request)
        client_id = self._authenticated_client(request.headers.get("authorization"), form)
        if client_id is None:
            return JSONResponse(
                {"error": "invalid_client", "error_description": "Client authentication failed."},
                status_code=401,
                headers={"WWW-Authenticate": 'Basic realm="oidc-test-provider"'},
            )
        if form.get("grant_type") != "authorization_code":
            return _token_error("unsupported_grant_type", "Only authorization_code is offered.")
        code = form.get("code", "")
        with self._lock:
            grant = self._codes.pop(code, None)
            if grant is None and code in self._redeemed:
                # RFC 6749 4.1.2: a code used twice revokes what its first use bought.
                self._access_tokens.pop(self._redeemed[code], None)
        problem = _grant_problem(grant, client_id, form)
        if problem is not None or grant is None:
            return _token_error("invalid_grant", problem or "The code is unknown.")
        access_token = secrets.token_urlsafe(32)
        id_token = self._id_token(grant)
        with self._lock:
            self._access_tokens[access_token] = grant.claims
            self._redeemed[code] = access_token
            self.issued += [access_token, id_token]
        return JSONResponse(
            {
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": self.token_ttl_seconds,
                "id_token": id_token,
            },
            headers={"Cache-Control": "no-store"},
        )

    async def _userinfo(self, request: Request) -> Response:
        await self._record(request)
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        claims = self._access_tokens.get(token) if scheme.lower() == "bearer" else None
        if claims is None:
            return JSONResponse(
                {"error": "invalid_token"},
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        return JSONResponse(claims)

    # -- the parts -------------------------------------------------------------------------

    async def _record(self, request: Request) -> dict[str, str]:
        """Keep the request for the test; return its parameters (query, then form)."""
        form = {key: str(value) for key, value in (await request.form()).items()}
        recorded = RecordedRequest(
            method=request.method,
            path=request.url.path,
            query=dict(request.query_params),
            form=form,
            headers=dict(request.headers),
        )
        with self._lock:
            self.requests.append(recorded)
        return {**recorded.query, **form}

    def _refuse_authorization(self, params: dict[str, str]) -> Response | None:
        # RFC 6749 4.1.2.1: with an unknown client or redirect URI, never redirect anywhere.
        if params.get("client_id") != self.client_id:
            return HTMLResponse("<p>Unknown client_id.</p>", status_code=400)
        if params.get("redirect_uri") not in self.redirect_uris:
            return HTMLResponse("<p>This redirect_uri is not registered.</p>", status_code=400)
        if params.get("response_type") != "code":
            return self._back(params, 302, error="unsupported_response_type")
        if "openid" not in params.get("scope", "").split():
            return self._back(params, 302, error="invalid_scope", error_description="No openid.")
        if params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
            return self._back(params, 302, error="invalid_request", error_description="PKCE S256.")
        return None

    def _back(self, params: dict[str, str], status: int, **answer: str) -> Response:
        """Send the browser back to the client's redirect URI with ``answer``."""
        answer = {**answer, "state": params.get("state", ""), "iss": self.issuer}
        uri = params["redirect_uri"]
        separator = "&" if "?" in uri else "?"
        return RedirectResponse(f"{uri}{separator}{urlencode(answer)}", status_code=status)

    def _issue_code(self, params: dict[str, str], claims: dict[str, Any]) -> str:
        code = secrets.token_urlsafe(24)
        email = str(claims.get("email") or "someone@example.com")
        person = {
            "sub": "user-" + hashlib.sha256(email.encode()).hexdigest()[:16],
            "email": email,
            "email_verified": True,
            "name": email.split("@")[0].replace(".", " ").title(),
        }
        with self._lock:
            self._codes[code] = _Grant(
                client_id=params["client_id"],
                redirect_uri=params["redirect_uri"],
                code_challenge=params["code_challenge"],
                nonce=params.get("nonce"),
                claims={**person, **claims},
                expires_at=time.time() + self.code_ttl_seconds,
            )
        return code

    def _authenticated_client(self, authorization: str | None, form: dict[str, str]) -> str | None:
        """The client id when the client proved who it is by a method we allow, else None."""
        if authorization and authorization.lower().startswith("basic "):
            method = "client_secret_basic"
            try:
                decoded = base64.b64decode(authorization[6:], validate=True).decode()
            except ValueError:  # binascii.Error and UnicodeDecodeError are ValueErrors
                return None
            client_id, _, secret = (unquote(part) for part in decoded.partition(":"))
        else:
            method = "client_secret_post"
            client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        if method not in self.token_auth_methods or (authorization and "client_secret" in form):
            return None
        known = hmac.compare_digest(client_id, self.client_id)
        return client_id if known and hmac.compare_digest(secret, self.client_secret) else None

    def _id_token(self, grant: _Grant) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            **grant.claims,
            "iss": self.issuer,
            "aud": self.client_id,
            "iat": now,
            "exp": now + self.token_ttl_seconds,
        }
        if grant.nonce is not None:
            claims["nonce"] = grant.nonce
        key = self._keys[self.signing_alg]
        header = {"alg": self.signing_alg, "kid": key.kid, "typ": "JWT"}
        match self.tamper:
            case "wrong-audience":
                claims["aud"] = "someone-else"
            case "wrong-issuer":
                claims["iss"] = "https://impostor.example"
            case "expired":
                claims["iat"], claims["exp"] = now - 1200, now - 600
            case "wrong-nonce":
                claims["nonce"] = "a-nonce-from-another-sign-in"
            case "no-email-in-id-token":
                claims.pop("email", None)
                claims.pop("email_verified", None)
            case "bad-signature":
                # Signed by another key under the real key's id: only the signature is wrong.
                key = _impostor_key(self.signing_alg)
            case "unsigned":
                return f"{_b64_json({**header, 'alg': 'none'})}.{_b64_json(claims)}."
        return jwt.encode(header, claims, key)


def _grant_problem(grant: _Grant | None, client_id: str, form: dict[str, str]) -> str | None:
    """Why the code cannot buy tokens, or None when it can."""
    if grant is None:
        return "The code is unknown or was already used."
    if time.time() > grant.expires_at:
        return "The code has expired."
    if grant.client_id != client_id:
        return "The code was issued to another client."
    if form.get("redirect_uri") != grant.redirect_uri:
        return "redirect_uri differs from the authorization request's."
    verifier = form.get("code_verifier", "")
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    if not verifier or not hmac.compare_digest(challenge, grant.code_challenge):
        return "PKCE verification failed: the code_verifier does not match the code_challenge."
    return None


_IMPOSTORS: dict[str, RSAKey | ECKey] = {}


def _impostor_key(alg: str) -> RSAKey | ECKey:
    if alg not in _IMPOSTORS:
        _IMPOSTORS[alg] = (
            RSAKey.generate_key(2048) if alg == "RS256" else ECKey.generate_key("P-256")
        )
    return _IMPOSTORS[alg]


def _b64_json(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def _token_error(error: str, description: str) -> Response:
    return JSONResponse(
        {"error": error, "error_description": description},
        status_code=400,
        headers={"Cache-Control": "no-store"},
    )


def _sign_in_page(params: dict[str, str]) -> str:
    """The provider's sign-in form; it carries the authorization request in hidden fields."""
    hidden = "\n".join(
        f'<input type="hidden" name="{html.escape(name)}" value="{html.escape(value)}">'
        for name, value in params.items()
    )
    return f"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Test identity provider: sign in</title></head>
<body>
<main>
<h1>Test identity provider</h1>
<form method="post" action="/authorize">
{hidden}
<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="email" required>
<button type="submit" name="action" value="sign-in">Sign in</button>
<button type="submit" name="action" value="cancel" formnovalidate>Cancel</button>
</form>
</main>
</body>
</html>
"""
