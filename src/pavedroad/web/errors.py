"""Error pages for people: what happened and where to go from here."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from fastapi import Request
from starlette.responses import RedirectResponse, Response

from pavedroad.core.telemetry import request_id_var
from pavedroad.web.templating import render


def sign_in_url(request: Request) -> str:
    """The sign-in page, coming back to where the person was."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    current = urlsplit(request.headers.get("hx-current-url", ""))  # the page an HTMX call came from
    if current.path:
        here = current.path + (f"?{current.query}" if current.query else "")
    return "/sign-in" if here == "/" else f"/sign-in?{urlencode({'next': here})}"


HEADINGS = {
    400: "That request did not make sense",
    401: "Sign in first",
    429: "Slow down",
    403: "You may not do that",
    404: "Nothing here",
    409: "That conflicts with what is there",
    500: "Something went wrong",
}


def error_page(request: Request, status: int, message: str) -> Response:
    if status == 401 and request.headers.get("hx-request"):
        # An HTMX swap would put the sign-in page inside a fragment: send the whole page there.
        return Response(status_code=401, headers={"hx-redirect": sign_in_url(request)})
    if status == 401 and request.method in ("GET", "HEAD"):
        return RedirectResponse(sign_in_url(request), status_code=303)
    heading = HEADINGS.get(status, "Something went wrong" if status >= 500 else "That did not work")
    if status == 404 and message.startswith("No route for"):
        message = (
            f"There is no page at {request.url.path}. It may have moved, or the link is wrong."
        )
    context = {
        "status": status,
        "heading": heading,
        "message": message,
        "request_id": request_id_var.get() if status >= 500 else None,
    }
    return render(request, "errors/error.html", context, status_code=status)
