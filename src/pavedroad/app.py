"""The FastAPI app factory: one process serves the API, the portal pages and background jobs."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.responses import Response

from pavedroad import __version__
from pavedroad.catalog import api as catalog_api
from pavedroad.catalog import jobs as catalog_jobs
from pavedroad.catalog.views import routes as catalog_views
from pavedroad.config import get_settings
from pavedroad.core.db import ping
from pavedroad.core.errors import ServiceUnavailableError
from pavedroad.core.jobs import Scheduler
from pavedroad.core.migrations import current_revision, head_revision
from pavedroad.core.telemetry import TelemetryMiddleware, configure_logging, metrics_text
from pavedroad.core.web import configure_read_threads, install_error_handlers, json_response
from pavedroad.runtime import Runtime, build_runtime
from pavedroad.web import home
from pavedroad.web.errors import error_page
from pavedroad.web.static_files import CachedStaticFiles
from pavedroad.web.templating import STATIC

log = logging.getLogger(__name__)


def create_app(runtime: Runtime | None = None, *, run_jobs: bool = True) -> FastAPI:
    """The whole application; ``runtime`` defaults to one built from the environment."""
    runtime = runtime or build_runtime()
    scheduler = Scheduler()
    if run_jobs:
        _schedule_jobs(scheduler, runtime)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        scheduler.start()
        log.info("pavedroad started", extra={"base_url": runtime.settings.resolved_base_url})
        try:
            yield
        finally:
            scheduler.stop()

    app = FastAPI(
        title="pavedroad",
        version=__version__,
        description="Internal developer platform. The catalog API is compatible with Backstage's.",
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    configure_read_threads(1)
    app.state.head_revision = head_revision()
    install_error_handlers(app)
    app.add_middleware(TelemetryMiddleware)
    for router in catalog_api.routers:
        app.include_router(router)
    for router in (home.router, catalog_views.router):
        app.include_router(router)
    app.mount("/static", CachedStaticFiles(directory=STATIC), name="static")
    app.state.html_error_page = error_page
    _add_operational_routes(app)
    return app


def create_app_from_environment() -> FastAPI:
    """The app of one server process, configured from the environment (uvicorn's factory)."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    return create_app(build_runtime(settings))


def _schedule_jobs(scheduler: Scheduler, runtime: Runtime) -> None:
    interval = runtime.settings.catalog.refresh_interval_seconds
    if interval > 0:
        scheduler.every(
            min(interval, 30),
            "catalog.refresh",
            lambda: catalog_jobs.refresh_due_locations(runtime),
            delay=5,
        )
        if runtime.catalog.providers:
            scheduler.every(
                interval,
                "catalog.providers",
                lambda: catalog_jobs.refresh_providers(runtime),
                delay=5,
            )


def _add_operational_routes(app: FastAPI) -> None:
    @app.get("/healthz", tags=["operations"], summary="The process is alive")
    async def healthz() -> Response:
        return json_response({"status": "ok"})

    @app.get("/readyz", tags=["operations"], summary="The database is reachable and migrated")
    async def readyz(request: Request) -> Response:
        runtime: Runtime = request.app.state.runtime

        def check() -> str | None:
            with runtime.db.read_session() as session:
                ping(session)
            return current_revision(runtime.db.read_engine)

        try:
            revision = await run_in_threadpool(check)
        except Exception as error:
            raise ServiceUnavailableError(f"database unreachable: {type(error).__name__}") from None
        expected = request.app.state.head_revision
        if revision != expected:
            raise ServiceUnavailableError(
                f"database schema is at {revision or 'nothing'}, expected {expected}; "
                "run 'pavedroad db upgrade'"
            )
        return json_response({"status": "ready", "revision": revision})

    @app.get("/metrics", tags=["operations"], summary="Prometheus metrics")
    async def metrics() -> Response:
        return Response(metrics_text(), media_type=CONTENT_TYPE_LATEST)
