"""What every request gets: a request id, a server span, its metrics and one access log line.

Plain ASGI rather than Starlette's BaseHTTPMiddleware: no extra task per request, and streamed
responses stay streamed.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ${{ values.package }} import logs
from ${{ values.package }}.metrics import HttpMetrics

# Probes and scrapes would otherwise swamp a quiet service's request rate and latency.
UNOBSERVED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")

access_log = logging.getLogger("${{ values.package }}.access")


class TelemetryMiddleware:
    def __init__(self, app: ASGIApp, *, metrics: HttpMetrics, tracer: trace.Tracer) -> None:
        self.app = app
        self.metrics = metrics
        self.tracer = tracer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UNOBSERVED_PATHS:
            await self.app(scope, receive, send)
            return
        headers = {
            key.decode("latin-1"): value.decode("latin-1") for key, value in scope["headers"]
        }
        request_id = _request_id(headers.get("x-request-id", ""))
        status = 500  # what the client gets when the application raises

        async def send_with_request_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        token = logs.request_id.set(request_id)
        context = propagate.extract(headers)  # a caller's `traceparent` continues its trace
        started = time.perf_counter()
        with self.tracer.start_as_current_span("HTTP", context, kind=SpanKind.SERVER) as span:
            try:
                await self.app(scope, receive, send_with_request_id)
            finally:
                self._record(scope, status, time.perf_counter() - started, span)
                logs.request_id.reset(token)

    def _record(self, scope: Scope, status: int, seconds: float, span: trace.Span) -> None:
        method, route = scope["method"], _route_template(scope)
        span.update_name(f"{method} {route}")
        span.set_attributes(
            {
                "http.request.method": method,
                "http.route": route,
                "http.response.status_code": status,
            }
        )
        if status >= 500:
            span.set_status(Status(StatusCode.ERROR))
        self.metrics.observe(method, route, status, seconds)
        duration_ms = round(seconds * 1000, 3)
        access_log.info(
            "request handled",
            extra={"method": method, "route": route, "status": status, "duration_ms": duration_ms},
        )


def _request_id(incoming: str) -> str:
    """The caller's id when it is a sane one (it ends up in logs), else a new one."""
    return incoming if _REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex


def _route_template(scope: Scope) -> str:
    """``/orders/{order_id}``, never ``/orders/42``: one time series per route, not per URL."""
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) else "unmatched"
