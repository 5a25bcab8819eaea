"""Error pages for people: what happened and where to go from here."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from pavedroad.core.telemetry import request_id_var
from pavedroad.web.templating import render

HEADINGS = {
    400: "That request did not make sense",
    403: "You may not do that",
    404: "Nothing here",
    409: "That conflicts with what is there",
    500: "Something went wrong",
}


def error_page(request: Request, status: int, message: str) -> Response:
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
