"""What every domain's CLI commands share: the runtime, errors, and --output formats."""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any, NoReturn

import yaml
from rich.console import Console
from rich.table import Table

from pavedroad.config import Settings
from pavedroad.core import migrations
from pavedroad.core.actors import Actor
from pavedroad.core.errors import PavedroadError
from pavedroad.identity.authentication import Authenticator
from pavedroad.identity.cli_credentials import load_token
from pavedroad.identity.schemas import Principal
from pavedroad.permissions.dependencies import deny
from pavedroad.runtime import Runtime, build_runtime

# Messages are not hard-wrapped: a path split over two lines cannot be grepped or copied.
err_console = Console(stderr=True, soft_wrap=True)
out_console = Console(soft_wrap=True)


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    yaml = "yaml"


def runtime_for_cli(settings: Settings) -> Runtime:
    """The runtime, with the database schema current: the embedded SQLite database is upgraded
    on the spot (it is ours); a PostgreSQL database must be upgraded by its operator."""
    try:
        runtime = build_runtime(settings)
    except PavedroadError as error:
        fail(error.message)
    current = migrations.current_revision(runtime.db.engine)
    head = migrations.head_revision()
    if current != head:
        if runtime.db.is_postgres:
            fail(
                f"the database schema is at {current or 'nothing'}, this version needs {head}",
                "run: pavedroad db upgrade",
            )
        migrations.upgrade(settings.resolved_database_url)
    return runtime


def fail(message: str, hint: str = "", code: int = 1) -> NoReturn:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    if hint:
        err_console.print(f"[yellow]hint:[/] {hint}", highlight=False)
    sys.exit(code)


def emit(
    data: Any, fmt: OutputFormat, columns: Sequence[tuple[str, str]] = (), title: str = ""
) -> None:
    """Print ``data`` (a list of dicts, or one dict) as a table, JSON or YAML."""
    if fmt is OutputFormat.json:
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
        return
    if fmt is OutputFormat.yaml:
        documents = data if isinstance(data, list) else [data]
        sys.stdout.write(yaml.safe_dump_all(documents, sort_keys=False, allow_unicode=True))
        return
    rows = data if isinstance(data, list) else [data]
    table = Table(title=title or None, show_lines=False, header_style="bold")
    for header, _ in columns:
        table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(*(_cell(row, key) for _, key in columns))
    out_console.print(table)


def _cell(row: dict[str, Any], key: str) -> str:
    value: Any = row
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def cli_principal(runtime: Runtime) -> Principal:
    """Who a command acts as: the owner of ``PAVEDROAD_TOKEN`` when it is set (refused when it
    is not a live token), else the operator at this machine."""
    settings = runtime.settings
    secret = settings.token.get_secret_value() or load_token(
        settings.credentials_file, settings.resolved_base_url
    )
    if not secret:
        return Principal(f"system:cli/{getpass.getuser()}", "cli", None)
    resolution = Authenticator(runtime.settings, runtime.db, runtime.catalog.cache).resolve(
        f"Bearer {secret}", None
    )
    if resolution.principal is None:
        fail(
            f"PAVEDROAD_TOKEN (or the token of `pavedroad login`) was refused: "
            f"{resolution.failure}",
            "create a new one with `pavedroad tokens create` (as an administrator) or unset it",
        )
    return resolution.principal


def authorize_cli(
    runtime: Runtime, permission: str, resource: Mapping[str, Any] | None = None
) -> Actor:
    """The actor of a command that needs ``permission``; exit 1 with the policy's explanation
    (and an audit row) when it is not allowed."""
    principal = cli_principal(runtime)
    if principal.method == "cli":
        return principal.actor
    decision = runtime.permissions.decide(principal, permission, resource)
    if decision.result.name != "ALLOW":
        try:
            deny(runtime, principal, permission, decision, f"cli:{permission}")
        except PavedroadError as error:
            fail(error.message, "`pavedroad permissions check` explains decisions")
    return principal.actor
