"""``pavedroad deploy``, ``pavedroad rollback`` and ``pavedroad deployments list|show``.

Like the other domains' commands these call the services directly, as the operator or as the
owner of ``PAVEDROAD_TOKEN`` (checked against the policy: ``deployment.trigger`` on the
environment). With ``--wait`` the deployment is carried out by this command and followed to its
end (exit 1 unless it succeeded); without it, a running server takes it within seconds.
"""

from __future__ import annotations

from typing import Annotated

import typer

from pavedroad.catalog.refs import RefError, parse_ref
from pavedroad.cli_support import (
    OutputFormat,
    authorize_cli,
    emit,
    err_console,
    fail,
    out_console,
    runtime_for_cli,
)
from pavedroad.config import get_settings
from pavedroad.core.errors import PavedroadError
from pavedroad.deploy import runner, service
from pavedroad.deploy.models import Deployment
from pavedroad.deploy.permissions import READ, TRIGGER
from pavedroad.runtime import Runtime

deployments_app = typer.Typer(help="Deployments of a component.", no_args_is_help=True)
COLUMNS = [
    ("Deployment", "id"),
    ("Environment", "environment"),
    ("Version", "version"),
    ("Commit", "commit"),
    ("Kind", "kind"),
    ("Status", "status"),
    ("By", "triggeredBy"),
    ("Created", "createdAt"),
]
STYLES = {"succeeded": "green", "failed": "red", "rolled_back": "red", "refused": "red"}
Component = Annotated[str, typer.Argument(help="A component: ref or name (shop).")]
Environment = Annotated[str, typer.Option("--env", "-e", help="dev, staging, production...")]
Wait = Annotated[
    bool, typer.Option("--wait", help="Carry it out here and follow it to its end.")
]  # fmt: skip


def _ref(given: str) -> str:
    try:
        return str(parse_ref(given, default_kind="component")).lower()
    except RefError as error:
        fail(str(error), "give a component ref (component:default/shop) or its name")


def _started(runtime: Runtime, deployment: Deployment, wait: bool) -> None:
    err_console.print(
        f"{deployment.kind} {deployment.id} of {deployment.component_ref} {deployment.version} "
        f"to {deployment.environment}: {deployment.status}",
        highlight=False,
    )
    out_console.print(deployment.id)
    if not wait:
        err_console.print(
            "a running server carries it out; follow it with "
            f"`pavedroad deployments show {deployment.id}`",
            highlight=False,
        )
        return
    runner.submit(runtime, deployment.id)
    done = runner.wait_for(runtime, deployment.id)
    for line in done.evidence.get("log") or []:
        err_console.print(f"  {line}", highlight=False, markup=False)
    style = STYLES.get(done.status, "")
    reason = f": {done.error}" if done.error else ""
    err_console.print(f"[bold {style}]{done.status}[/]{reason}", highlight=False)
    raise typer.Exit(0 if done.status == "succeeded" else 1)


def deploy_command(
    component: Component,
    env: Environment,
    version: Annotated[str, typer.Option("--version", help="A git tag, a branch or a commit.")],
    wait: Wait = False,
) -> None:
    """Deploy a version of a component to an environment."""
    runtime = runtime_for_cli(get_settings())
    ref = _ref(component)
    actor = authorize_cli(runtime, TRIGGER, {"environment": env, "component": ref})
    try:
        deployment = service.deploy(
            runtime,
            component_ref=ref,
            environment=env,
            version=version,
            actor=actor,
            trigger="manual",
            start=False,
        )
    except PavedroadError as error:
        fail(error.message, error.details.get("hint", ""))
    _started(runtime, deployment, wait)


def rollback_command(
    component: Component,
    env: Environment,
    to: Annotated[
        str | None, typer.Option("--to", help="A version or deployment id; default: last good.")
    ] = None,
    wait: Wait = False,
) -> None:
    """Roll an environment back to its last good version (or to --to)."""
    runtime = runtime_for_cli(get_settings())
    ref = _ref(component)
    actor = authorize_cli(runtime, TRIGGER, {"environment": env, "component": ref})
    try:
        deployment = service.rollback(
            runtime, component_ref=ref, environment=env, actor=actor, to=to, start=False
        )
    except PavedroadError as error:
        fail(error.message, error.details.get("hint", ""))
    _started(runtime, deployment, wait)


@deployments_app.command("list")
def list_command(
    component: Component,
    env: Annotated[str | None, typer.Option("--env", "-e", help="Only this environment.")] = None,
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 20,
    output: Annotated[OutputFormat, typer.Option("--output", "-o")] = OutputFormat.table,
) -> None:
    """A component's deployments, newest first."""
    runtime = runtime_for_cli(get_settings())
    authorize_cli(runtime, READ)
    ref = _ref(component)
    with runtime.db.read_session() as session:
        rows = [service.deployment_json(d) for d in service.history(session, ref, env, limit)]
    for row in rows:
        row["commit"] = (row["commit"] or "")[:12]
    emit(rows, output, COLUMNS, title=f"Deployments of {ref}")


@deployments_app.command("show")
def show_command(
    deployment_id: Annotated[str, typer.Argument(help="The deployment's id.")],
    output: Annotated[OutputFormat, typer.Option("--output", "-o")] = OutputFormat.yaml,
) -> None:
    """One deployment with its evidence (checks, samples' verdicts, rollback) and its log."""
    runtime = runtime_for_cli(get_settings())
    authorize_cli(runtime, READ)
    try:
        with runtime.db.read_session() as session:
            deployment = service.get_deployment(session, deployment_id)
    except PavedroadError as error:
        fail(error.message)
    emit(service.deployment_json(deployment, full=True), output)
    if deployment.status in ("failed", "rolled_back", "refused"):
        raise typer.Exit(1)
