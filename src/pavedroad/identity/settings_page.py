"""The signed-in person's own settings: who they are here, where they are signed in, and their
API tokens (created with the secret shown once, revoked with one click)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from pavedroad.core.errors import PavedroadError
from pavedroad.identity import sessions, tokens
from pavedroad.identity.api import revoke_for
from pavedroad.permissions.dependencies import Grant, require
from pavedroad.web import navigation
from pavedroad.web.templating import render
from pavedroad.web.viewer import Viewer, attach_viewer

if TYPE_CHECKING:
    from pavedroad.runtime import Runtime

router = APIRouter(include_in_schema=False)
navigation.register(navigation.NavItem("Settings", "/settings", "⚙", 80, section="Administration"))
EXPIRY_CHOICES = (7, 30, 90, 366)


@router.get("/settings")
async def settings_page(
    request: Request,
    grant: Annotated[Grant, Depends(require("identity.self.read"))],
    viewer: Annotated[Viewer, Depends(attach_viewer)],
) -> Response:
    return await _page(request, grant)


@router.post("/settings/tokens")
async def create_token(
    request: Request,
    grant: Annotated[Grant, Depends(require("identity.token.create"))],
    viewer: Annotated[Viewer, Depends(attach_viewer)],
    name: Annotated[str, Form()] = "",
    scopes: Annotated[str, Form()] = "*",
    expires_in_days: Annotated[int, Form()] = 90,
) -> Response:
    runtime: Runtime = request.app.state.runtime

    def create() -> str:
        with runtime.db.session() as session:
            secret, _ = tokens.create_token(
                session,
                name=name,
                owner_ref=grant.principal.ref,
                scopes=scopes.replace(",", " ").split(),
                expires_in_days=expires_in_days,
                actor=grant.actor,
            )
            return secret

    try:
        secret = await run_in_threadpool(create)
    except PavedroadError as error:
        return await _page(request, grant, error=error, status_code=error.status_code)
    return await _page(request, grant, new_secret=secret, new_name=name.strip(), status_code=201)


@router.post("/settings/tokens/{token_id}/revoke")
async def revoke_token(
    request: Request,
    token_id: str,
    grant: Annotated[Grant, Depends(require("identity.token.revoke"))],
) -> Response:
    await revoke_for(request, grant, token_id)
    return RedirectResponse("/settings?revoked=1#tokens", status_code=303)


async def _page(
    request: Request,
    grant: Grant,
    *,
    new_secret: str | None = None,
    new_name: str = "",
    error: PavedroadError | None = None,
    status_code: int = 200,
) -> Response:
    runtime: Runtime = request.app.state.runtime
    ref = grant.principal.ref

    def read() -> dict[str, Any]:
        with runtime.db.read_session() as session:
            return {
                "sessions": sessions.live_sessions(session, ref),
                "tokens": tokens.list_tokens(session, owner_ref=ref),
            }

    context = {
        **(await run_in_threadpool(read)),
        "principal": grant.principal,
        "current_session": grant.principal.session_id,
        "new_secret": new_secret,
        "new_name": new_name,
        "error": error,
        "expiry_choices": EXPIRY_CHOICES,
        "revoked": request.query_params.get("revoked"),
        "breadcrumbs": [("Settings", None)],
    }
    return render(request, "identity/settings.html", context, status_code=status_code)
