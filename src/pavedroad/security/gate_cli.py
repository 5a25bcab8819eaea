"""``pavedroad security ...``: who is affected, what blocks a commit, and the exceptions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer
from sqlalchemy import select

from pavedroad.cli_support import (
    OutputFormat,
    authorize_cli,
    emit,
    fail,
    out_console,
    runtime_for_cli,
)
from pavedroad.config import get_settings
from pavedroad.runtime import Runtime
from pavedroad.security.gate import (
    add_exception,
    describe_blocker,
    gate_of_commit,
    revoke_exception,
)
from pavedroad.security.gate_api import decision_json, exception_json
from pavedroad.security.impact import answer_question
from pavedroad.security.models import SecurityException
from pavedroad.security.permissions import (
    GRANT_EXCEPTION,
    READ_EXCEPTIONS,
    READ_GATE,
    READ_IMPACT,
    REVOKE_EXCEPTION,
)

app = typer.Typer(
    help="Security questions: who is affected, what blocks a deploy.", no_args_is_help=True
)
exceptions_app = typer.Typer(help="Exceptions to the security policy.", no_args_is_help=True)
app.add_typer(exceptions_app, name="exceptions")
IMPACT_COLUMNS = (
    ("Component", "component"),
    ("Owner", "owner"),
    ("System", "system"),
    ("Lifecycle", "lifecycle"),
    ("Advisories", "advisories"),
    ("Fix", "fixed"),
)


def _runtime() -> Runtime:
    return runtime_for_cli(get_settings())


@app.command("affected")
def affected_command(
    advisory: Annotated[str | None, typer.Option(help="CVE-2021-44228, GHSA-…, PYSEC-…")] = None,
    package: Annotated[
        str | None,
        typer.Option(
            help="pkg:maven/org.apache.logging.log4j/log4j-core (or a name with --ecosystem)"
        ),
    ] = None,
    versions: Annotated[str | None, typer.Option(help="<2.17.1, or >=2.0,<2.17.1")] = None,
    ecosystem: Annotated[str | None, typer.Option(help="PyPI, npm, Go, Maven, crates.io")] = None,
    output: Annotated[OutputFormat, typer.Option("--output", "-o")] = OutputFormat.table,
) -> None:
    """Which components an advisory affects, or which ship a package in a version range."""
    runtime = _runtime()
    authorize_cli(runtime, READ_IMPACT)
    with runtime.db.read_session() as session:
        answer = answer_question(
            session, advisory=advisory, package=package, versions=versions, ecosystem=ecosystem
        )
    runtime.close()
    if output is not OutputFormat.table:
        emit(answer.to_json(), output)
        return
    out_console.print(f"{len(answer.components)} component(s): {answer.question}", highlight=False)
    if answer.components:
        emit(answer.to_json()["items"], output, IMPACT_COLUMNS)


@app.command("gate")
def gate_command(
    component: Annotated[str, typer.Argument(help="component:default/payments")],
    commit: Annotated[str, typer.Argument(help="The commit (full SHA)")],
    output: Annotated[OutputFormat, typer.Option("--output", "-o")] = OutputFormat.table,
) -> None:
    """What the security gate decided on a commit; exit 1 when it is blocked."""
    runtime = _runtime()
    authorize_cli(runtime, READ_GATE)
    with runtime.db.read_session() as session:
        decision = gate_of_commit(session, component.lower(), commit)
    runtime.close()
    if decision is None:
        fail(f"no gate decision for {component} at {commit}", "run its pipeline first")
    if output is not OutputFormat.table:
        emit(decision_json(decision), output)
    elif not decision.blocked:
        out_console.print(f"{component} at {commit[:12]} may be deployed.")
    else:
        out_console.print(f"{component} at {commit[:12]} is blocked by:", highlight=False)
        for blocker in decision.reasons:
            out_console.print(f"  - {describe_blocker(blocker)}", highlight=False)
    if decision.blocked:
        raise typer.Exit(1)


@exceptions_app.command("list")
def list_exceptions_command(
    component: Annotated[str | None, typer.Option(help="Only this component's")] = None,
    output: Annotated[OutputFormat, typer.Option("--output", "-o")] = OutputFormat.table,
) -> None:
    """Exceptions granted, newest first."""
    runtime = _runtime()
    authorize_cli(runtime, READ_EXCEPTIONS)
    query = select(SecurityException).order_by(SecurityException.created_at.desc())
    if component:
        query = query.where(SecurityException.component_ref == component.lower())
    with runtime.db.read_session() as session:
        rows = [exception_json(row) for row in session.scalars(query)]
    runtime.close()
    emit(
        rows,
        output,
        (
            ("Id", "id"),
            ("Component", "component"),
            ("Rule", "rule"),
            ("Expires", "expiresAt"),
            ("Revoked", "revokedAt"),
            ("Reason", "reason"),
        ),
    )


@exceptions_app.command("add")
def add_exception_command(
    component: Annotated[str, typer.Argument(help="component:default/payments")],
    rule: Annotated[str, typer.Argument(help="The advisory or rule accepted: PYSEC-2019-13, B105")],
    reason: Annotated[str, typer.Option(help="Why it is acceptable, and what will be done")],
    days: Annotated[int, typer.Option(help="How long the exception lasts")] = 30,
    fingerprint: Annotated[str | None, typer.Option(help="Only this one finding")] = None,
) -> None:
    """Accept a finding of a component for a while (audited)."""
    runtime = _runtime()
    actor = authorize_cli(runtime, GRANT_EXCEPTION)
    with runtime.db.session() as session:
        exception = add_exception(
            session,
            component_ref=component.lower(),
            rule=rule,
            fingerprint=fingerprint,
            reason=reason,
            expires_at=datetime.now(UTC) + timedelta(days=days),
            actor=actor,
            policy=runtime.settings.security.gate,
        )
        shown = exception_json(exception)
    runtime.close()
    out_console.print(
        f"Exception {shown['id']} granted until {shown['expiresAt']}.", highlight=False
    )


@exceptions_app.command("revoke")
def revoke_exception_command(
    exception_id: Annotated[str, typer.Argument(help="The exception's id")],
) -> None:
    """Revoke an exception: its findings block again (audited)."""
    runtime = _runtime()
    actor = authorize_cli(runtime, REVOKE_EXCEPTION)
    with runtime.db.session() as session:
        revoke_exception(session, exception_id, actor=actor)
    runtime.close()
    out_console.print(f"Exception {exception_id} revoked.")
