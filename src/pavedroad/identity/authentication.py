"""Who is making a request: an API token (``Authorization: Bearer``), a session cookie, or, in
a loopback demo, the configured demo user. Every route but an explicit public list needs one.

Failed token use is audited; identities are cached per catalog generation, so a request costs
one primary-key read for its session or token when nothing changed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from pavedroad.audit import service as audit
from pavedroad.catalog.read_cache import GenerationCache, read_generation
from pavedroad.config import Settings
from pavedroad.core.db import Database
from pavedroad.core.errors import AuthenticationError
from pavedroad.core.web import run_read
from pavedroad.identity import sessions, tokens
from pavedroad.identity.accounts import ANONYMOUS
from pavedroad.identity.recent_credentials import RecentCredentials
from pavedroad.identity.resolution import resolve_identity
from pavedroad.identity.schemas import Identity, Principal

log = logging.getLogger(__name__)

# Routes anyone may call. The security tests hold every other route to 401 without sign-in.
PUBLIC_ROUTES = {
    "/healthz",
    "/readyz",
    "/sign-in",
    "/auth/oidc/login",
    "/auth/oidc/callback",
    "/favicon.ico",
    # Webhooks authenticate by their signature (pavedroad.pipelines.webhooks).
    "/api/pipelines/v1/webhooks/github",
    "/api/pipelines/v1/webhooks/gitlab",
    "/api/pipelines/v1/webhooks/gitea",
    # OSV-speaking tools send no credentials; they read public advisory data only.
    "/api/security/osv/v1/query",
    "/api/security/osv/v1/querybatch",
}


@dataclass(frozen=True, slots=True)
class Resolution:
    principal: Principal | None
    failure: str | None = None  # why presented credentials were refused
    touch_session: str | None = None
    touch_token: str | None = None
    expires_at: datetime | None = None  # when the credential ends


def credential_key(authorization: str | None, session_cookie: str | None) -> str | None:
    """What identifies the presented credential in :class:`RecentCredentials`."""
    if authorization is not None:
        return "token:" + sessions.digest(authorization)
    if session_cookie:
        return "session:" + sessions.digest(session_cookie)
    return None


class Authenticator:
    """Turns a request's credentials into a :class:`Principal`."""

    def __init__(self, settings: Settings, db: Database, cache: GenerationCache) -> None:
        self.settings = settings
        self.db = db
        self.cache = cache
        self.recent = RecentCredentials()

    def recently_seen(
        self, authorization: str | None, session_cookie: str | None
    ) -> Principal | None:
        key = credential_key(authorization, session_cookie)
        return self.recent.get(key) if key is not None else None

    def remember(
        self, authorization: str | None, session_cookie: str | None, resolution: Resolution
    ) -> None:
        key = credential_key(authorization, session_cookie)
        principal = resolution.principal
        if key is not None and principal is not None and principal.method in ("token", "session"):
            self.recent.put(key, principal, resolution.expires_at)

    def resolve(self, authorization: str | None, session_cookie: str | None) -> Resolution:
        if authorization is not None or session_cookie:
            with self.db.read_session() as session:
                if authorization is not None:
                    return self._from_token(session, authorization)
                found = self._from_session(session, session_cookie or "")
                if found.principal is not None:
                    return found
        demo = self.settings.auth.demo_user_ref
        if demo and self.settings.binds_loopback:
            return Resolution(Principal(demo.lower(), "demo", self.identity(None, demo)))
        return Resolution(None)

    def identity(self, session: Session | None, user_ref: str) -> Identity:
        """The identity of ``user_ref``, computed once per catalog generation."""
        ref = user_ref.lower()

        def compute() -> Identity:
            if session is not None:
                return resolve_identity(session, ref)
            with self.db.read_session() as fresh:
                return resolve_identity(fresh, ref)

        generation = read_generation(self.db.read_engine)
        return self.cache.get_or_compute_at(generation, ("identity", ref), compute)

    def _from_token(self, session: Session, authorization: str) -> Resolution:
        scheme, _, secret = authorization.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            return Resolution(None, "the Authorization header is not 'Bearer <token>'")
        row = tokens.find_token(session, secret.strip())
        if row is None:
            return Resolution(None, "the token is unknown, expired or revoked")
        identity = None if row.kind == "service" else self.identity(session, row.owner_ref)
        principal = Principal(
            row.owner_ref, "token", identity, scopes=tuple(row.scopes), token_id=row.id
        )
        touch = row.id if tokens.needs_note(row) else None
        return Resolution(principal, touch_token=touch, expires_at=row.expires_at)

    def _from_session(self, session: Session, cookie: str) -> Resolution:
        row = sessions.find_session(session, cookie)
        if row is None:
            return Resolution(None)
        principal = Principal(
            row.user_ref,
            "session",
            self.identity(session, row.user_ref),
            session_id=row.id,
            csrf_token=row.csrf_token,
        )
        touch = row.id if sessions.needs_touch(row) else None
        return Resolution(principal, touch_session=touch, expires_at=row.expires_at)

    def record(self, resolution: Resolution, client_ip: str | None, path: str) -> None:
        """Write what a resolution asks to remember: a refused token, last use times."""
        if not (resolution.failure or resolution.touch_session or resolution.touch_token):
            return
        with self.db.session() as session:
            if resolution.failure:
                audit.record(
                    session,
                    actor=ANONYMOUS,
                    event="auth.failed",
                    target=path,
                    resource_type="route",
                    result="failed",
                    details={
                        "method": "token",
                        "reason": resolution.failure,
                        "ip_address": client_ip,
                    },
                )
            if resolution.touch_session:
                sessions.touch_session(session, resolution.touch_session)
            if resolution.touch_token:
                tokens.note_use_by_id(session, resolution.touch_token)


def forget_credentials(request: Request, matches: Callable[[Principal], bool]) -> None:
    """Stop accepting credentials this process remembers (after a revocation or sign-out)."""
    authenticator: Authenticator = request.app.state.authenticator
    authenticator.recent.forget(matches)


def client_ip_of(request: Request) -> str | None:
    return request.client.host if request.client else None


def authentication_dependency(
    authenticator_of: Callable[[Request], Authenticator],
) -> Callable[[Request], object]:
    """The app-wide dependency: resolves the principal onto ``request.state`` and refuses
    requests without one, except on :data:`PUBLIC_ROUTES`."""

    async def authenticate(request: Request) -> None:
        authenticator = authenticator_of(request)
        authorization = request.headers.get("authorization")
        cookie = request.cookies.get(sessions.SESSION_COOKIE)
        seen = authenticator.recently_seen(authorization, cookie)
        if seen is not None:  # no thread hop and no database read for a busy client
            request.state.principal = seen
            return
        resolution = await run_read(lambda: authenticator.resolve(authorization, cookie))
        authenticator.remember(authorization, cookie, resolution)
        if resolution.failure or resolution.touch_session or resolution.touch_token:
            path = request.url.path
            ip = client_ip_of(request)
            await run_in_threadpool(authenticator.record, resolution, ip, path)
        request.state.principal = resolution.principal
        route = request.scope.get("route")
        if resolution.failure:
            raise AuthenticationError(f"Not signed in: {resolution.failure}.")
        if resolution.principal is None and getattr(route, "path", None) not in _public(request):
            raise AuthenticationError(
                "Sign in first: this needs a signed-in user or an API token "
                "(`Authorization: Bearer <token>`; `pavedroad tokens create` makes one)."
            )

    return authenticate


def _public(request: Request) -> set[str]:
    runtime = request.app.state.runtime
    if runtime.settings.permissions.public_metrics:
        return PUBLIC_ROUTES | {"/metrics"}
    return PUBLIC_ROUTES
