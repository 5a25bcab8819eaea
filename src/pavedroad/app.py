"""The FastAPI app factory: one process serves the API, the portal pages and background jobs."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from fastapi import Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.openapi.docs import get_swagger_ui_html
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.responses import Response

from pavedroad import __version__
from pavedroad.audit import api as audit_api
from pavedroad.audit import jobs as audit_jobs
from pavedroad.audit import views as audit_views
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
from pavedroad.deploy import api as deploy_api
from pavedroad.deploy import dora_api as deploy_dora_api
from pavedroad.deploy import metrics as deploy_metrics
from pavedroad.deploy import runner as deploy_runner
from pavedroad.deploy.views import actions as deploy_views
from pavedroad.deploy.views import home_card as deploy_home_card  # noqa: F401 - its card
from pavedroad.deploy.views import overview as deploy_overview
from pavedroad.identity import api as identity_api
from pavedroad.identity import cli_login as identity_cli_login
from pavedroad.identity import settings_page as identity_settings
from pavedroad.identity import views as identity_views
from pavedroad.identity.authentication import Authenticator, authentication_dependency
from pavedroad.identity.startup import check_sign_in_is_possible
from pavedroad.permissions.dependencies import require
from pavedroad.pipelines import api as pipeline_api
from pavedroad.pipelines import jobs as pipeline_jobs
from pavedroad.pipelines import metrics as pipeline_metrics
from pavedroad.pipelines import polling as pipeline_polling
from pavedroad.pipelines import webhooks as pipeline_webhooks
from pavedroad.pipelines.views import routes as pipeline_views
from pavedroad.pipelines.worker import PipelineWorker
from pavedroad.runtime import Runtime, build_runtime
from pavedroad.scaffolder import api as scaffolder_api
from pavedroad.scaffolder import jobs as scaffolder_jobs
from pavedroad.scaffolder.runner import TaskRunner
from pavedroad.scaffolder.views import runs as scaffolder_runs
from pavedroad.scaffolder.views import wizard as scaffolder_wizard
from pavedroad.security import gate_api as security_gate_api
from pavedroad.security import home_card as security_home_card  # noqa: F401 - its card
from pavedroad.security import impact_api as security_impact_api
from pavedroad.security import osv_api as security_osv_api
from pavedroad.security import views as security_views
from pavedroad.security.sbom import api as security_sbom_api
from pavedroad.web import home
from pavedroad.web.errors import error_page
from pavedroad.web.static_files import CachedStaticFiles
from pavedroad.web.templating import STATIC, static_url

log = logging.getLogger(__name__)


def create_app(runtime: Runtime | None = None, *, run_jobs: bool = True) -> FastAPI:
    """The whole application; ``runtime`` defaults to one built from the environment."""
    runtime = runtime or build_runtime()
    check_sign_in_is_possible(runtime)
    scheduler = Scheduler()
    if run_jobs:
        _schedule_jobs(scheduler, runtime)

    runner = TaskRunner(runtime)
    pipeline_metrics.attach(runtime.db)
    deploy_metrics.attach(runtime.db)
    slots = runtime.settings.pipelines.workers_in_server
    pipeline_worker = PipelineWorker(runtime, slots) if run_jobs and slots > 0 else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if run_jobs:
            await run_in_threadpool(scaffolder_jobs.fail_abandoned_tasks, runtime)
            await run_in_threadpool(deploy_runner.recover_deployments, runtime)
            await run_in_threadpool(deploy_runner.resume_environments, runtime)
        scheduler.start()
        if pipeline_worker is not None:
            pipeline_worker.start()
        log.info("pavedroad started", extra={"base_url": runtime.settings.resolved_base_url})
        try:
            yield
        finally:
            scheduler.stop()
            runner.shutdown()
            if pipeline_worker is not None:
                await run_in_threadpool(pipeline_worker.stop)

    app = FastAPI(
        title="pavedroad",
        version=__version__,
        description="Internal developer platform. The catalog API is compatible with Backstage's.",
        # Served by _add_api_docs_routes: behind sign-in, with the vendored Swagger UI.
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        # Every route needs a signed-in principal but the public ones (PUBLIC_ROUTES).
        dependencies=[Depends(authentication_dependency(_authenticator))],
    )
    app.state.runtime = runtime
    app.state.scaffolder_runner = runner
    app.state.pipeline_worker = pipeline_worker
    app.state.authenticator = Authenticator(runtime.settings, runtime.db, runtime.catalog.cache)
    configure_read_threads(1)
    app.state.head_revision = head_revision()
    install_error_handlers(app)
    app.add_middleware(TelemetryMiddleware)
    for router in catalog_api.routers:
        app.include_router(router)
    app.include_router(audit_api.router)
    app.include_router(identity_api.router)
    app.include_router(scaffolder_api.router)
    app.include_router(security_osv_api.router)
    app.include_router(security_sbom_api.router)
    app.include_router(security_gate_api.router)
    app.include_router(security_impact_api.router)
    app.include_router(deploy_api.router)
    app.include_router(deploy_dora_api.router)
    for router in pipeline_api.routers:
        app.include_router(router)
    pages = (
        identity_views.router,
        identity_settings.router,
        identity_cli_login.router,
        scaffolder_wizard.router,
        scaffolder_runs.router,
        home.router,
        catalog_views.router,
        pipeline_views.router,
        security_views.router,
        deploy_views.router,
        deploy_overview.router,
    )
    for router in (*pages, audit_views.router):
        app.include_router(router)
    app.mount("/static", CachedStaticFiles(directory=STATIC), name="static")
    app.state.html_error_page = error_page
    _add_operational_routes(app)
    _add_api_docs_routes(app)
    return app


def _authenticator(request: Request) -> Authenticator:
    authenticator: Authenticator = request.app.state.authenticator
    return authenticator


def create_app_from_environment() -> FastAPI:
    """The app of one server process, configured from the environment (uvicorn's factory)."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    return create_app(build_runtime(settings))


def _schedule_jobs(scheduler: Scheduler, runtime: Runtime) -> None:
    scheduler.every(
        deploy_runner.RECOVERY_SECONDS,
        "deploy.recovery",
        lambda: deploy_runner.run_jobs(runtime),
        delay=deploy_runner.RECOVERY_SECONDS,
    )
    scheduler.every(
        30,
        "scaffolder.abandoned",
        lambda: scaffolder_jobs.fail_abandoned_tasks(runtime),
        delay=30,
    )
    scheduler.every(
        pipeline_jobs.RECOVERY_SECONDS,
        "pipelines.recovery",
        lambda: pipeline_jobs.recover_expired_runs(runtime),
        delay=pipeline_jobs.RECOVERY_SECONDS,
    )
    scheduler.every(
        pipeline_jobs.DAILY,
        "pipelines.artifact_retention",
        lambda: pipeline_jobs.prune_expired_artifacts(runtime),
        delay=120,
    )
    scheduler.every(
        pipeline_jobs.DAILY,
        "pipelines.webhook_deliveries",
        lambda: pipeline_webhooks.prune_webhook_deliveries(runtime),
        delay=180,
    )
    if runtime.settings.pipelines.poll_interval_seconds > 0:
        scheduler.every(
            runtime.settings.pipelines.poll_interval_seconds,
            "pipelines.poll",
            lambda: pipeline_polling.poll_watched_repositories(runtime),
            delay=5,
        )
    scheduler.every(
        audit_jobs.DAILY,
        "audit.retention",
        lambda: audit_jobs.prune_expired_events(runtime),
        delay=60,
    )
    interval = runtime.settings.catalog.refresh_interval_seconds
    if interval > 0:
        scheduler.every(
            min(interval, 30),
            "catalog.refresh",
            lambda: catalog_jobs.refresh_due_locations(runtime),
            delay=5,
        )
    for name, every in catalog_jobs.provider_schedule(runtime).items():
        scheduler.every(
            every,
            f"catalog.provider.{name}",
            partial(catalog_jobs.refresh_provider, runtime, name),
            delay=5,
        )


def _add_api_docs_routes(app: FastAPI) -> None:
    reader = Depends(require("api.docs.read"))

    @app.get("/api/openapi.json", include_in_schema=False, dependencies=[reader])
    async def openapi_document() -> Response:
        return json_response(app.openapi())

    @app.get("/api/docs", include_in_schema=False, dependencies=[reader])
    async def api_docs() -> Response:
        return get_swagger_ui_html(
            openapi_url="/api/openapi.json",
            title="pavedroad API",
            swagger_js_url=static_url("vendor/swagger-ui/swagger-ui-bundle.js"),
            swagger_css_url=static_url("vendor/swagger-ui/swagger-ui.css"),
            swagger_favicon_url=static_url("favicon.svg"),
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
