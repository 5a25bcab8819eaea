"""The HTTP application: health probes, Prometheus metrics, and the telemetry every route gets."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager

from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ${{ values.package }} import tracing
from ${{ values.package }}.config import Settings
from ${{ values.package }}.metrics import HttpMetrics, service_registry
from ${{ values.package }}.middleware import TelemetryMiddleware

ReadinessCheck = Callable[[], bool]


def create_app(
    settings: Settings | None = None,
    *,
    tracer_provider: TracerProvider | None = None,
    readiness_checks: Mapping[str, ReadinessCheck] | None = None,
) -> FastAPI:
    """The application. ``readiness_checks`` name what must answer before traffic is sent here
    (a database, a queue); ``tracer_provider`` replaces the one the settings choose."""
    settings = settings or Settings.from_environment()
    owned_provider = tracing.tracer_provider(settings) if tracer_provider is None else None
    provider = tracer_provider or owned_provider
    checks = dict(readiness_checks or {})
    registry = service_registry()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        if owned_provider is not None:
            owned_provider.shutdown()  # exports the spans still buffered

    app = FastAPI(title=settings.service_name, lifespan=lifespan)
    app.add_middleware(
        TelemetryMiddleware,
        metrics=HttpMetrics(registry),
        tracer=trace.get_tracer(__name__, tracer_provider=provider),
    )

    @app.get("/healthz", tags=["operations"])
    def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"])
    def readyz() -> JSONResponse:
        """Readiness: everything the service needs to answer requests is there."""
        failing = sorted(name for name, check in checks.items() if not check())
        if failing:
            return JSONResponse({"status": "unavailable", "failing": failing}, status_code=503)
        return JSONResponse({"status": "ready"})

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return app
