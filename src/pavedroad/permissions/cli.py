"""``pavedroad permissions ...``: check a decision and why, list permissions, validate a policy.

``check`` exits 0 when the permission is allowed and 1 otherwise; a CONDITIONAL answer (no
RESOURCE given, and the policy depends on it) prints ``conditional`` and exits 1, since the
permission is not granted as asked: name a resource to get a yes or no.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy.orm import Session

from pavedroad.catalog.refs import RefError, parse_ref
from pavedroad.cli_support import (
    OutputFormat,
    emit,
    err_console,
    fail,
    out_console,
    runtime_for_cli,
)
from pavedroad.config import Settings, get_settings
from pavedroad.identity.resolution import resolve_identity
from pavedroad.identity.schemas import Principal
from pavedroad.permissions.decision import Decision, Result
from pavedroad.permissions.policy import DEFAULT_POLICY_FILE
from pavedroad.permissions.policy_file import PolicyFileError, load_policy_file
from pavedroad.permissions.registry import (
    Permission,
    all_permissions,
    get_permission,
    get_resource_type,
)
from pavedroad.runtime import build_runtime

app = typer.Typer(
    help="Permissions: check who may do what and why, list them, validate a policy file.",
    no_args_is_help=True,
)

OutputOption = Annotated[OutputFormat, typer.Option("--output", "-o", help="table, json or yaml.")]
COLOURS = {Result.ALLOW: "green", Result.DENY: "red", Result.CONDITIONAL: "yellow"}


@app.command()
def check(
    user: Annotated[str, typer.Argument(help="A user ref: user:default/esi.mensah or esi.mensah.")],
    permission: Annotated[str, typer.Argument(help="A permission, e.g. catalog.entity.delete.")],
    resource: Annotated[
        str | None,
        typer.Argument(
            help="An entity ref, a location id, or key=value,... (environment=dev,component=x)."
        ),
    ] = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Decide PERMISSION for USER (on RESOURCE), with the deciding rule and the full trace.

    Exit code 0: allowed; 1: denied, or conditional when no RESOURCE is given.
    """
    runtime = runtime_for_cli(get_settings())
    wanted = get_permission(permission)  # after the runtime: plugins declare theirs on load
    with runtime.db.read_session() as session:
        principal = _principal(session, user)
        target = _resource(session, wanted, resource) if resource is not None else None
        decision = runtime.permissions.decide(principal, wanted, target)
        steps = runtime.permissions.explain(principal, wanted, target)
    runtime.close()
    if output is OutputFormat.table:
        _print_decision(principal, decision, steps)
    else:
        emit({"user": principal.ref, **decision.to_dict(), "trace": steps}, output)
    raise typer.Exit(0 if decision.result is Result.ALLOW else 1)


def _principal(session: Session, user: str) -> Principal:
    try:
        ref = str(parse_ref(user, default_kind="user"))
    except RefError as error:
        fail(str(error), "write the user as user:default/name or name")
    identity = resolve_identity(session, ref)
    if not identity.in_catalog:
        err_console.print(f"[yellow]note:[/] {ref} is not in the catalog: it is in no group")
    return Principal(identity.user_ref, "cli", identity)


def _resource(session: Session, permission: Permission, text: str) -> dict[str, Any]:
    if permission.resource_type is None:
        fail(f"{permission.name} is not about a resource", "leave RESOURCE out")
    resource_type = get_resource_type(permission.resource_type)
    if resource_type.lookup is None:
        return _key_values(text)
    found = resource_type.lookup(session, text)
    if found is None:
        fail(f"no {resource_type.name} {text}")
    return dict(found)


def _key_values(text: str) -> dict[str, Any]:
    pairs = [piece.partition("=") for piece in text.split(",") if piece.strip()]
    if not pairs or any(not equals for _, equals, _ in pairs):
        fail(f"cannot read {text!r}", "write the resource as key=value,key=value")
    return {key.strip(): value.strip() for key, _, value in pairs}


def _print_decision(principal: Principal, decision: Decision, steps: list[str]) -> None:
    colour = COLOURS[decision.result]
    out_console.print(
        f"[bold {colour}]{decision.result.value}[/] {decision.permission} for {principal.ref} "
        f"(rule: {decision.rule})",
        highlight=False,
    )
    out_console.print(decision.explanation, highlight=False)
    out_console.print("\n[bold]trace[/]")
    for number, step in enumerate(steps, 1):
        out_console.print(f"  {number:>2}. {step}", highlight=False)


@app.command("list")
def list_(output: OutputOption = OutputFormat.table) -> None:
    """Every declared permission with its resource type and description."""
    build_runtime(_without_policy_file()).close()  # loads the plugins, declaring theirs
    rows = [
        {"name": p.name, "resourceType": p.resource_type, "description": p.description}
        for p in all_permissions()
    ]
    emit(
        rows,
        output,
        [("Permission", "name"), ("Resource type", "resourceType"), ("Description", "description")],
    )


@app.command()
def validate(
    file: Annotated[
        Path | None, typer.Argument(help="A policy file (default: the configured one).")
    ] = None,
) -> None:
    """Check a policy file: every problem with its line and column; exit code 1 if any."""
    path = file or get_settings().permissions.policy_file or DEFAULT_POLICY_FILE
    runtime = build_runtime(_without_policy_file())
    try:
        policy = load_policy_file(path, runtime.permissions.rules)
    except PolicyFileError as error:
        for problem in error.problems:
            out_console.print(problem.describe(), highlight=False)
        err_console.print(f"{path}: {len(error.problems)} problem(s): [red]invalid[/]")
        raise typer.Exit(1) from None
    finally:
        runtime.close()
    summary = f"{len(policy.rules)} rule(s), default {policy.default.value}"
    err_console.print(f"{path}: {summary}: [green]valid[/]")


def _without_policy_file() -> Settings:
    """The settings, but with the default policy: a broken file must not stop its own check."""
    settings = get_settings()
    permissions = settings.permissions.model_copy(update={"policy_file": None})
    return settings.model_copy(update={"permissions": permissions})
