"""The ``pavedroad`` command: serving, the demo, database upkeep, and each domain's commands."""

from __future__ import annotations

import logging
import os
import sys
from typing import Annotated, Any

import typer
import uvicorn
from rich.console import Console
from typer.core import TyperGroup

from pavedroad import __version__
from pavedroad import demo as demo_organisation
from pavedroad.audit import cli as audit_cli
from pavedroad.catalog import cli as catalog_cli
from pavedroad.catalog import service as catalog_service
from pavedroad.cli_support import fail, runtime_for_cli
from pavedroad.config import Settings, get_settings
from pavedroad.core import migrations
from pavedroad.core.errors import PavedroadError
from pavedroad.core.telemetry import configure_logging, prepare_multiprocess_metrics
from pavedroad.demo.deployments_data import load_deployments
from pavedroad.demo.rollback_demo import demo_rollback_command
from pavedroad.demo.security_data import load_security
from pavedroad.deploy import cli as deploy_cli
from pavedroad.identity import cli as identity_cli
from pavedroad.identity.startup import UnsafeSetupError, check_sign_in_is_possible
from pavedroad.permissions import cli as permissions_cli
from pavedroad.pipelines import cli as pipelines_cli
from pavedroad.pipelines import cli_runs as pipelines_cli_runs
from pavedroad.scaffolder import cli as scaffolder_cli
from pavedroad.scaffolder.upgrades import cli as upgrades_cli
from pavedroad.security import cli as security_cli
from pavedroad.security import gate_cli as security_gate_cli
from pavedroad.security.advisories import cli as advisories_cli


class _Commands(TyperGroup):
    """Turns a domain error anywhere below into a clear message and exit code 1."""

    def invoke(self, ctx: Any) -> Any:  # typer vendors click: its Context is private
        try:
            return super().invoke(ctx)
        except PavedroadError as error:
            fail(error.message, str(error.details.get("hint", "")))


app = typer.Typer(
    cls=_Commands,
    name="pavedroad",
    help="pavedroad: an internal developer platform with a Backstage-compatible catalog.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(
    help="Database schema: upgrade, show the current revision.", no_args_is_help=True
)
app.add_typer(db_app, name="db")
app.add_typer(catalog_cli.app, name="catalog")
app.add_typer(permissions_cli.app, name="permissions")
app.add_typer(audit_cli.app, name="audit")
app.add_typer(identity_cli.users_app, name="users")
app.add_typer(identity_cli.tokens_app, name="tokens")
app.add_typer(upgrades_cli.app, name="templates")
app.add_typer(pipelines_cli.app, name="pipeline")
app.add_typer(advisories_cli.app, name="advisories")
app.add_typer(security_gate_cli.app, name="security")
app.add_typer(security_cli.app, name="scan")
app.add_typer(deploy_cli.deployments_app, name="deployments")
app.command("create")(scaffolder_cli.create)
app.command("deploy")(deploy_cli.deploy_command)
app.command("rollback")(deploy_cli.rollback_command)
app.command("worker")(pipelines_cli_runs.worker_command)
app.command("login")(identity_cli.login)
app.command("logout")(identity_cli.logout)
app.command("whoami")(identity_cli.whoami)
app.command("demo-rollback")(demo_rollback_command)

console = Console(stderr=True, soft_wrap=True)
DEMO_USER = "user:default/esi.mensah"  # a developer of team-checkout and a team lead


@app.callback(invoke_without_command=True)
def main_callback(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    if version:
        typer.echo(__version__)
        raise typer.Exit()


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (default 8000).")] = None,
    migrate: Annotated[
        bool, typer.Option(help="Upgrade the database schema before starting.")
    ] = True,
) -> None:
    """Start the portal and API server."""
    settings = _settings_with(host, port)
    _serve(settings, migrate=migrate)


@app.command()
def demo(
    host: Annotated[str | None, typer.Option(help="Address to bind (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (default 8000).")] = None,
) -> None:
    """Set up the embedded database, load the demo organisation and start the portal."""
    settings = _settings_with(host, port)
    if "log_format" not in settings.model_fields_set:  # a person is watching: readable lines
        settings = settings.with_overrides(log_format="console")
        os.environ["PAVEDROAD_LOG_FORMAT"] = "console"
        get_settings.cache_clear()  # the server process reads its settings again
    if not settings.auth.demo_user_ref and settings.binds_loopback:
        # The demo signs everyone in as one of the organisation's developers (loopback only).
        auth = {**settings.auth.model_dump(), "demo_user_ref": DEMO_USER}
        settings = settings.with_overrides(auth=auth)
        os.environ["PAVEDROAD_AUTH__DEMO_USER_REF"] = DEMO_USER
        get_settings.cache_clear()
    configure_logging(settings.log_level, settings.log_format)
    migrations.upgrade(settings.resolved_database_url)
    runtime = runtime_for_cli(settings)
    with runtime.db.session() as session:
        loaded = demo_organisation.load(session, runtime.catalog)
        if loaded is not None:
            console.print(
                f"[green]Loaded the demo organisation:[/] {loaded.report.entities} entities "
                f"from {loaded.report.files} files"
            )
        count = catalog_service.count_entities(session)
    with runtime.db.session() as session:
        security = load_security(session, demo_organisation.DEMO_ACTOR)
        if security is not None:
            console.print(
                f"[green]Loaded the demo's security data:[/] {security.advisories} advisories, "
                f"{security.sboms} SBOMs"
            )
    with runtime.db.session() as session:
        deployments = load_deployments(session, demo_organisation.DEMO_ACTOR)
        if deployments is not None:
            console.print(
                f"[green]Loaded the demo's deployment history:[/] {deployments.deployments} "
                f"deployments of {deployments.components} components"
            )
    runtime.close()
    console.print(f"The catalog holds {count} entities. Open {settings.resolved_base_url}/api/docs")
    _serve(settings, migrate=False)


def _settings_with(host: str | None, port: int | None) -> Settings:
    settings = get_settings()
    overrides: dict[str, object] = {}
    if host is not None:
        overrides["host"] = host
    if port is not None:
        overrides["port"] = port
    return settings.with_overrides(**overrides) if overrides else settings


def _serve(settings: Settings, *, migrate: bool) -> None:
    configure_logging(settings.log_level, settings.log_format)
    if migrate:
        migrations.upgrade(settings.resolved_database_url)
    runtime = runtime_for_cli(settings)  # fails early, with a clear message, if the schema is off
    try:
        check_sign_in_is_possible(runtime)
    except UnsafeSetupError as error:
        fail(error.message)
    finally:
        runtime.close()
    workers = settings.resolved_workers
    logging.getLogger(__name__).info(
        "listening", extra={"url": settings.resolved_base_url, "workers": workers}
    )
    # Worker processes build their settings from the environment: hand them the command line's.
    os.environ["PAVEDROAD_HOST"] = settings.host
    os.environ["PAVEDROAD_PORT"] = str(settings.port)
    if workers > 1:
        prepare_multiprocess_metrics(settings.data_dir / f"metrics-{os.getpid()}")
        # Replace this process with a bare uvicorn supervisor: it only watches the workers, and
        # should not keep this command's ~80 MB of imports alive while doing so.
        os.execv(
            sys.executable,
            [
                sys.executable,
                "-m",
                "uvicorn",
                "pavedroad.app:create_app_from_environment",
                "--factory",
                "--host",
                settings.host,
                "--port",
                str(settings.port),
                "--workers",
                str(workers),
                "--no-access-log",
                "--log-level",
                "warning",
            ],
        )
    uvicorn.run(
        "pavedroad.app:create_app_from_environment",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=workers,
        log_config=None,
        access_log=False,
    )


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Apply schema migrations up to REVISION."""
    settings = get_settings()
    migrations.upgrade(settings.resolved_database_url, revision)
    console.print(
        f"[green]Database at {migrations.head_revision() if revision == 'head' else revision}[/]"
    )


@db_app.command("current")
def db_current() -> None:
    """Show the schema revision the database is at, and the newest one."""
    runtime = runtime_for_cli(get_settings())
    current = migrations.current_revision(runtime.db.engine)
    typer.echo(f"current: {current or 'empty'}\nhead:    {migrations.head_revision()}")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
