"""Web plumbing shared by every domain's router: error bodies, JSON responses, the actor.

Errors are answered in Backstage's shape::

    {"error": {"name": "NotFoundError", "message": "..."},
     "request": {"method": "GET", "url": "/api/catalog/..."},
     "response": {"statusCode": 404}}

Every mutating route depends on :func:`require`; until sign-in exists it answers with the
configured default actor, and the permission layer replaces :data:`Authorizer` later.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio
import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from pavedroad.core.actors import Actor
from pavedroad.core.errors import PavedroadError
from pavedroad.core.telemetry import request_id_var

log = logging.getLogger(__name__)
T = TypeVar("T")

# Database reads run on one thread per process, not on the 40 of the default pool: several
# threads doing short database calls hand the GIL back and forth with the event loop and
# starve it. Measured at 16 concurrent clients: with SQLite, one thread serves twice the
# requests of four; with PostgreSQL, two or more threads leave some requests waiting for
# seconds while one thread answers every request within 30 ms. Parallelism comes from worker
# processes instead.
_read_threads: dict[str, int] = {"limit": 1}
_limiters: dict[int, anyio.CapacityLimiter] = {}


def configure_read_threads(count: int) -> None:
    _read_threads["limit"] = max(1, count)


async def run_read(work: Callable[[], T]) -> T:
    """Run blocking read ``work`` on one of the few threads reserved for database reads."""
    limit = _read_threads["limit"]
    limiter = _limiters.get(limit)
    if limiter is None:
        limiter = _limiters[limit] = anyio.CapacityLimiter(limit)
    return await anyio.to_thread.run_sync(work, limiter=limiter)


Authorizer = Callable[[Request, str], Awaitable[Actor]]
"""Decides whether the request may do ``permission`` and returns who is acting."""

_STATUS_NAMES = {
    400: "InputError",
    401: "AuthenticationError",
    403: "NotAllowedError",
    404: "NotFoundError",
    405: "MethodNotAllowedError",
    409: "ConflictError",
    413: "PayloadTooLargeError",
}


def json_response(
    content: Any, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS),
        status_code=status_code,
        media_type="application/json",
        headers=headers,
    )


def error_body(request: Request, status: int, error: dict[str, Any]) -> dict[str, Any]:
    url = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return {
        "error": error,
        "request": {"method": request.method, "url": url},
        "response": {"statusCode": status},
    }


HtmlErrorPage = Callable[[Request, int, str], Response]
"""Renders an error as a page for people (set on ``app.state.html_error_page`` by the portal)."""


def _as_page(request: Request, status: int, message: str) -> Response | None:
    """The error as an HTML page when a browser asked for a page (not for the API)."""
    renderer: HtmlErrorPage | None = getattr(request.app.state, "html_error_page", None)
    wants_html = "text/html" in request.headers.get("accept", "")
    if renderer is None or not wants_html or request.url.path.startswith("/api/"):
        return None
    return renderer(request, status, message)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(PavedroadError)
    async def domain_error(request: Request, error: PavedroadError) -> Response:
        page = _as_page(request, error.status_code, error.message)
        if page is not None:
            return page
        headers = (
            {"www-authenticate": 'Bearer realm="pavedroad"'} if error.status_code == 401 else None
        )
        return json_response(
            error_body(request, error.status_code, error.to_dict()), error.status_code, headers
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> Response:
        problems = []
        for item in error.errors():
            where = ".".join(str(part) for part in item.get("loc", ()) if part != "body")
            problems.append(f"{where}: {item.get('msg')}")
        message = "Malformed request: " + "; ".join(problems)
        return json_response(
            error_body(request, 400, {"name": "InputError", "message": message}), 400
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        name = _STATUS_NAMES.get(error.status_code, "Error")
        message = str(error.detail)
        if error.status_code == 404 and message == "Not Found":
            message = f"No route for {request.method} {request.url.path}"
        page = _as_page(request, error.status_code, message)
        if page is not None:
            return page
        body = error_body(request, error.status_code, {"name": name, "message": message})
        return json_response(body, error.status_code, headers=getattr(error, "headers", None))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> Response:
        log.exception("unhandled error", extra={"path": request.url.path})
        message = (
            "Internal error; the server log has the details under request id "
            f"{request_id_var.get()}"
        )
        page = _as_page(request, 500, "Something went wrong on our side.")
        if page is not None:
            return page
        return json_response(error_body(request, 500, {"name": "Error", "message": message}), 500)


async def allow_default_actor(request: Request, permission: str) -> Actor:
    """Before identity exists: everyone acts as the configured default user."""
    settings = getattr(getattr(request.app.state, "runtime", None), "settings", None)
    ref = (settings.auth.demo_user_ref if settings is not None else "") or "user:default/guest"
    return Actor(ref=ref.lower())


def require(permission: str) -> Callable[[Request], Awaitable[Actor]]:
    """A dependency that authorises ``permission`` and returns the acting :class:`Actor`."""

    async def dependency(request: Request) -> Actor:
        authorize: Authorizer = getattr(request.app.state, "authorize", allow_default_actor)
        return await authorize(request, permission)

    dependency.__name__ = f"require_{permission.replace('.', '_')}"
    return dependency
