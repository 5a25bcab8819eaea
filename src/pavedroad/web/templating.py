"""Server-rendered pages: one Jinja2 environment over every domain's ``templates`` folder."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, PackageLoader, select_autoescape
from starlette.responses import HTMLResponse

from pavedroad import __version__
from pavedroad.catalog.refs import entity_path, short_ref
from pavedroad.web import navigation

STATIC = Path(__file__).parent / "static"
TEMPLATE_PACKAGES = (
    "pavedroad.web",
    "pavedroad.catalog",
    "pavedroad.identity",
    "pavedroad.scaffolder",
    "pavedroad.audit",
    "pavedroad.pipelines",
    "pavedroad.security",
    "pavedroad.deploy",
)


@cache
def static_url(path: str) -> str:
    """``/static/<path>?v=<content hash>``: cached for a year, refreshed when the file changes."""
    digest = hashlib.sha256((STATIC / path).read_bytes()).hexdigest()[:10]
    return f"/static/{path}?v={digest}"


def _environment() -> Environment:
    environment = Environment(
        loader=ChoiceLoader([PackageLoader(package, "templates") for package in TEMPLATE_PACKAGES]),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.globals.update(
        static=static_url, nav_sections=navigation.sections, version=__version__
    )
    environment.filters.update(entity_url=entity_path, short_ref=short_ref)
    return environment


templates = Jinja2Templates(env=_environment())


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """A page or fragment; pages get the viewer, the portal's title and the current path."""
    runtime = request.app.state.runtime
    full = {
        "request": request,
        "portal_title": runtime.settings.portal.title,
        "current_path": request.url.path,
        "viewer": getattr(request.state, "viewer", None),
        "csrf_token": csrf_token_of(request),
        **(context or {}),
    }
    response: HTMLResponse = templates.TemplateResponse(
        request, template, full, status_code=status_code, headers=headers
    )
    return response


def csrf_token_of(request: Request) -> str:
    """The token forms carry back: the session's, or before sign-in the sign-in form's cookie."""
    principal = getattr(request.state, "principal", None)
    token = getattr(principal, "csrf_token", None) or getattr(request.state, "form_csrf", None)
    return str(token or "")


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"
