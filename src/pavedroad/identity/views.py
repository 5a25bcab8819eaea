"""Signing in and out: the sign-in page (local accounts, single sign-on), the OIDC redirect and
callback, sign-out here and everywhere."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from pavedroad.config import Settings
from pavedroad.core.errors import NotAllowedError, PavedroadError
from pavedroad.identity import accounts, oidc_sign_in, sessions
from pavedroad.identity.authentication import client_ip_of, forget_credentials
from pavedroad.identity.oidc import OidcClient
from pavedroad.identity.schemas import Principal
from pavedroad.permissions.dependencies import Grant, require
from pavedroad.web.templating import render

if TYPE_CHECKING:
    from pavedroad.runtime import Runtime

router = APIRouter(include_in_schema=False)
FORM_CSRF_COOKIE = "pavedroad_sign_in"


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site only (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    if any(ord(character) < 32 for character in target) or "\\" in target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target


def cookie_secure(settings: Settings) -> bool:
    if settings.auth.cookie_secure != "auto":
        return settings.auth.cookie_secure == "always"
    return settings.resolved_base_url.startswith("https://") or settings.binds_loopback


_CLIENTS: dict[tuple[str, str, str], OidcClient] = {}


def oidc_client(settings: Settings) -> OidcClient:
    """One client per process and provider: it keeps the discovery document, the signing keys
    and its connections between sign-ins."""
    redirect = settings.resolved_base_url.rstrip("/") + "/auth/oidc/callback"
    oidc = settings.auth.oidc
    key = (oidc.issuer, oidc.client_id, redirect)
    if key not in _CLIENTS:
        _CLIENTS[key] = OidcClient(oidc, redirect)
    return _CLIENTS[key]


@router.get("/sign-in")
async def sign_in_page(request: Request, next: str | None = None) -> Response:
    principal = getattr(request.state, "principal", None)
    if principal is not None and principal.method == "session":
        return RedirectResponse(safe_next(next), status_code=303)
    return _form(request, next_path=safe_next(next))


@router.post("/sign-in")
async def sign_in(
    request: Request,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    runtime: Runtime = request.app.state.runtime
    expected = request.cookies.get(FORM_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(expected, csrf_token):
        error: PavedroadError = NotAllowedError(
            "The sign-in form expired or came from another site. Sign in again from this page."
        )
        return _form(request, next_path=safe_next(next), username=username, error=error)
    ip = client_ip_of(request)

    def check() -> tuple[str | None, PavedroadError | None]:
        with runtime.db.session() as session:
            outcome = accounts.sign_in_with_password(
                session, runtime.settings.auth, username=username, password=password, client_ip=ip
            )
            if outcome.account is None:
                return None, outcome.error
            token, _ = sessions.start_session(
                session,
                user_ref=outcome.account.user_ref,
                method="local",
                hours=runtime.settings.auth.session_hours,
                client_ip=ip,
                user_agent=request.headers.get("user-agent"),
            )
            return token, None

    token, failure = await run_in_threadpool(check)
    if token is None:
        return _form(request, next_path=safe_next(next), username=username, error=failure)
    return _signed_in(runtime.settings, token, safe_next(next))


@router.get("/auth/oidc/login")
async def oidc_login(request: Request, next: str | None = None) -> Response:
    runtime: Runtime = request.app.state.runtime
    if not runtime.settings.auth.oidc.issuer:
        return _form(request, next_path=safe_next(next), error=_oidc_off())

    def start() -> str:
        authorization = oidc_client(runtime.settings).authorization_request()
        with runtime.db.session() as session:
            oidc_sign_in.remember_flow(session, authorization, safe_next(next))
        return authorization.url

    try:
        url = await run_in_threadpool(start)
    except PavedroadError as error:
        return _form(request, next_path=safe_next(next), error=error)
    return RedirectResponse(url, status_code=303)


@router.get("/auth/oidc/callback")
async def oidc_callback(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    settings = runtime.settings
    if not settings.auth.oidc.issuer:
        return _form(request, next_path="/", error=_oidc_off())
    query = dict(request.query_params)
    ip = client_ip_of(request)

    def finish() -> tuple[str, str]:
        with runtime.db.session() as session:
            flow = oidc_sign_in.take_flow(session, query.get("state", ""))
            session.commit()  # the flow is spent even if what follows fails
            claims = oidc_client(settings).complete(
                query=query,
                expected_state=flow.state,
                nonce=flow.nonce,
                code_verifier=flow.code_verifier,
            )
            user_ref = oidc_sign_in.match_user(session, settings.auth.oidc, claims)
            token, _ = sessions.start_session(
                session,
                user_ref=user_ref,
                method="oidc",
                hours=settings.auth.session_hours,
                client_ip=ip,
                user_agent=request.headers.get("user-agent"),
            )
            return token, flow.next_path

    try:
        token, next_path = await run_in_threadpool(finish)
    except PavedroadError as error:
        await run_in_threadpool(_record_oidc_failure, runtime, error.message, ip)
        return _form(request, next_path="/", error=error)
    return _signed_in(settings, token, next_path)


@router.post("/sign-out")
async def sign_out(
    request: Request, grant: Annotated[Grant, Depends(require("identity.session.revoke"))]
) -> Response:
    runtime: Runtime = request.app.state.runtime
    session_id = grant.principal.session_id
    if session_id is not None:

        def end() -> None:
            with runtime.db.session() as session:
                sessions.end_session(session, session_id, actor=grant.actor)

        await run_in_threadpool(end)
        forget_credentials(request, lambda principal: principal.session_id == session_id)
    response = RedirectResponse("/sign-in?signed_out=1", status_code=303)
    response.delete_cookie(sessions.SESSION_COOKIE, path="/")
    return response


@router.post("/sign-out/everywhere")
async def sign_out_everywhere(
    request: Request, grant: Annotated[Grant, Depends(require("identity.session.revoke"))]
) -> Response:
    runtime: Runtime = request.app.state.runtime

    def end() -> None:
        with runtime.db.session() as session:
            sessions.end_all_sessions(session, grant.principal.ref, actor=grant.actor)

    await run_in_threadpool(end)
    forget_credentials(request, _sessions_of(grant.principal.ref))
    response = RedirectResponse("/sign-in?signed_out=everywhere", status_code=303)
    response.delete_cookie(sessions.SESSION_COOKIE, path="/")
    return response


def _sessions_of(user_ref: str) -> Callable[[Principal], bool]:
    return lambda principal: principal.method == "session" and principal.ref == user_ref


def _signed_in(settings: Settings, token: str, next_path: str) -> Response:
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(
        sessions.SESSION_COOKIE,
        token,
        max_age=settings.auth.session_hours * 3600,
        path="/",
        secure=cookie_secure(settings),
        httponly=True,
        samesite="lax",
    )
    response.delete_cookie(FORM_CSRF_COOKIE, path="/sign-in")
    return response


def _form(
    request: Request,
    *,
    next_path: str,
    username: str = "",
    error: PavedroadError | None = None,
) -> Response:
    """The sign-in page with a fresh form token (double-submit: cookie and hidden field)."""
    runtime: Runtime = request.app.state.runtime
    settings = runtime.settings
    form_token = secrets.token_urlsafe(24)
    request.state.form_csrf = form_token
    context = {
        "bare": True,
        "next_path": next_path,
        "username": username,
        "error": error,
        "local_accounts": settings.auth.local_accounts,
        "oidc_label": settings.auth.oidc.button_label if settings.auth.oidc.issuer else None,
        "demo_user": settings.auth.demo_user_ref if settings.binds_loopback else "",
        "signed_out": request.query_params.get("signed_out"),
    }
    status = error.status_code if error is not None else 200
    response = render(request, "identity/sign_in.html", context, status_code=status)
    response.set_cookie(
        FORM_CSRF_COOKIE,
        form_token,
        max_age=3600,
        path="/sign-in",
        secure=cookie_secure(settings),
        httponly=True,
        samesite="lax",
    )
    return response


def _oidc_off() -> PavedroadError:
    return NotAllowedError(
        "Single sign-on is not configured here: set auth.oidc.issuer, client_id and "
        "client_secret (PAVEDROAD_AUTH__OIDC__ISSUER, ...)."
    )


def _record_oidc_failure(runtime: Runtime, reason: str, client_ip: str | None) -> None:
    with runtime.db.session() as session:
        oidc_sign_in.record_failure(session, reason, client_ip)
