"""Signing the CLI in through the portal: ``pavedroad login`` listens on a loopback port and
sends the person to ``/cli/authorize``; once they are signed in there (by single sign-on or a
local account) and allow it, the portal creates a personal token and hands it to the CLI by a
form posted to that loopback port, never through a URL or the server's logs."""

from __future__ import annotations

import re
import socket
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response

from pavedroad.core.errors import InputError
from pavedroad.identity import tokens
from pavedroad.permissions.dependencies import Grant, require
from pavedroad.web.templating import render
from pavedroad.web.viewer import Viewer, attach_viewer

if TYPE_CHECKING:
    from pavedroad.runtime import Runtime

router = APIRouter(include_in_schema=False)
STATE = re.compile(r"^[A-Za-z0-9_-]{16,128}$")
CLI_TOKEN_DAYS = 30


def _checked(port: str, state: str, name: str) -> tuple[int, str, str]:
    if not port.isdigit() or not 1024 <= int(port) <= 65535:
        raise InputError("This sign-in link is broken (port). Run `pavedroad login` again.")
    if not STATE.match(state):
        raise InputError("This sign-in link is broken (state). Run `pavedroad login` again.")
    label = re.sub(r"[^A-Za-z0-9._ -]", "", name)[:60] or socket.gethostname()[:60]
    return int(port), state, label


@router.get("/cli/authorize")
async def authorize_page(
    request: Request,
    grant: Annotated[Grant, Depends(require("identity.token.create"))],
    viewer: Annotated[Viewer, Depends(attach_viewer)],
    port: str = "",
    state: str = "",
    name: str = "",
) -> Response:
    checked_port, checked_state, label = _checked(port, state, name)
    context = {"port": checked_port, "state": checked_state, "name": label, "bare": True}
    context["days"] = CLI_TOKEN_DAYS
    return render(request, "identity/cli_authorize.html", context)


@router.post("/cli/authorize")
async def authorize(
    request: Request,
    grant: Annotated[Grant, Depends(require("identity.token.create"))],
    viewer: Annotated[Viewer, Depends(attach_viewer)],
    port: Annotated[str, Form()] = "",
    state: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
) -> Response:
    runtime: Runtime = request.app.state.runtime
    checked_port, checked_state, label = _checked(port, state, name)

    def create() -> str:
        with runtime.db.session() as session:
            secret, _ = tokens.create_token(
                session,
                name=f"CLI on {label}",
                owner_ref=grant.principal.ref,
                expires_in_days=CLI_TOKEN_DAYS,
                actor=grant.actor,
            )
            return secret

    secret = await run_in_threadpool(create)
    context = {
        "callback": f"http://127.0.0.1:{checked_port}/callback",
        "state": checked_state,
        "token": secret,
        "name": label,
        "bare": True,
    }
    # The page carries a secret: no cache, no referrer to the loopback page.
    headers = {"cache-control": "no-store", "referrer-policy": "no-referrer"}
    return render(request, "identity/cli_handoff.html", context, headers=headers)
