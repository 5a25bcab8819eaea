"""``pavedroad audit ...``: read the audit log, export it, apply retention.

``pavedroad audit`` alone shows the newest events; ``pavedroad audit list --preset
failed-sign-ins`` answers one of the usual questions in one command.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Annotated, Any, TypeVar

import orjson
import typer
from rich import box
from rich.table import Table
from rich.text import Text

from pavedroad.audit.export import export_format, export_text, record_export
from pavedroad.audit.filters import (
    AuditFilter,
    FilterError,
    FilterInput,
    page_size,
    parse_filters,
)
from pavedroad.audit.models import AuditEvent
from pavedroad.audit.permissions import APPLY_RETENTION
from pavedroad.audit.presets import PRESETS, Preset
from pavedroad.audit.queries import iter_events, search_events
from pavedroad.audit.retention import prune_audit_log
from pavedroad.audit.schemas import event_json, utc
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
from pavedroad.runtime import Runtime

app = typer.Typer(help="The audit log: who did what, when, from where, and how it ended.")

T = TypeVar("T")
R = TypeVar("R")
RECENT = 20
RESULT_STYLES = {"success": "green", "denied": "yellow", "failed": "red"}
PRESET_NAMES = ", ".join(PRESETS)

Actor_ = Annotated[str | None, typer.Option("--actor", help="Who acted: user:default/jane.")]
Action = Annotated[
    str | None, typer.Option("--action", help="An action, or a prefix: deployment.*")
]
Resource = Annotated[str | None, typer.Option("--resource", help="The resource's ref.")]
ResourceType = Annotated[
    str | None, typer.Option("--resource-type", help="e.g. catalog-entity, catalog-location.")
]
Result = Annotated[str | None, typer.Option("--result", help="success, denied or failed.")]
Since = Annotated[str | None, typer.Option("--since", help="7d, 24h, 30m or a timestamp.")]
Until = Annotated[str | None, typer.Option("--until", help="7d, 24h, 30m or a timestamp.")]
Where = Annotated[
    list[str] | None,
    typer.Option("--where", help="details.<key>=<value> (repeat: all must hold)."),
]
PresetName = Annotated[str | None, typer.Option("--preset", help=f"One of: {PRESET_NAMES}.")]


@app.callback(invoke_without_command=True)
def audit(ctx: typer.Context) -> None:
    """Without a command: the newest events."""
    if ctx.invoked_subcommand is None:
        _show(FilterInput(), RECENT, OutputFormat.table)


@app.command("list")
def list_command(
    actor: Actor_ = None,
    action: Action = None,
    resource: Resource = None,
    resource_type: ResourceType = None,
    result: Result = None,
    since: Since = None,
    until: Until = None,
    where: Where = None,
    preset: PresetName = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="At most this many (≤ 500).")] = 50,
    output: Annotated[
        OutputFormat, typer.Option("--output", "-o", help="table, json or yaml.")
    ] = OutputFormat.table,
) -> None:
    """Events matching every filter given, newest first."""
    raw = FilterInput(
        actor, action, resource, resource_type, result, since, until, tuple(where or ()), preset
    )
    _show(raw.cleaned(), limit, output)


@app.command("export")
def export_command(
    actor: Actor_ = None,
    action: Action = None,
    resource: Resource = None,
    resource_type: ResourceType = None,
    result: Result = None,
    since: Since = None,
    until: Until = None,
    where: Where = None,
    preset: PresetName = None,
    format_name: Annotated[str, typer.Option("--format", help="jsonl or csv.")] = "jsonl",
    file: Annotated[Path | None, typer.Option("--file", help="Write here, not stdout.")] = None,
) -> None:
    """Every matching event as JSON Lines or CSV (the export is itself audited)."""
    raw = FilterInput(
        actor, action, resource, resource_type, result, since, until, tuple(where or ()), preset
    ).cleaned()
    query = _parsed(raw)
    fmt = _checked(export_format, format_name)
    runtime = _runtime()
    exporter = authorize_cli(runtime, "audit.export")
    with runtime.db.session() as session:
        record_export(session, actor=exporter, fmt=fmt, raw=raw)
    counted = [0]
    with runtime.db.read_session() as session:
        chunks = export_text(_counting(iter_events(session, query), counted), fmt)
        if file is None:
            for chunk in chunks:
                sys.stdout.write(chunk)
        else:
            with open(file, "w", encoding="utf-8", newline="") as target:
                target.writelines(chunks)
    runtime.close()
    where_to = f" to {file}" if file else ""
    err_console.print(f"Exported {counted[0]} event(s){where_to}", highlight=False)


@app.command("prune")
def prune_command(
    days: Annotated[
        int | None, typer.Option("--days", help="Keep this many days (default: the setting).")
    ] = None,
) -> None:
    """Apply retention now: delete the events older than the retention period."""
    runtime = _runtime()
    actor = authorize_cli(runtime, APPLY_RETENTION)
    keep = days if days is not None else runtime.settings.audit.retention_days
    with runtime.db.session() as session:
        deleted = prune_audit_log(session, retention_days=keep, actor=actor)
    runtime.close()
    out_console.print(f"Deleted {deleted} audit event(s) older than {keep} day(s).")


def _runtime() -> Runtime:
    return runtime_for_cli(get_settings())


def _parsed(raw: FilterInput) -> AuditFilter:
    return _checked(parse_filters, raw)


def _checked(parse: Callable[[T], R], value: T) -> R:
    """``parse(value)``; a bad value ends the command naming its option (exit code 1)."""
    try:
        return parse(value)
    except FilterError as error:
        option = "resource-type" if error.parameter == "resourceType" else error.parameter
        fail(f"--{option}: {error.reason}", "pavedroad audit list --help shows every option")


def _show(raw: FilterInput, limit: int, output: OutputFormat) -> None:
    query = _parsed(raw)
    size = _checked(page_size, limit)
    runtime = _runtime()
    authorize_cli(runtime, "audit.read")
    with runtime.db.read_session() as session:
        page = search_events(session, query, limit=size)
    runtime.close()
    if output is not OutputFormat.table:
        emit([event_json(event) for event in page.events], output)
        return
    out_console.print(_table(page.events, query, PRESETS[raw.preset] if raw.preset else None))
    if not page.events:
        err_console.print("No audit events match; widen --since or drop a filter.")
    elif page.older is not None:
        err_console.print(
            f"Showing the newest {size}; --limit shows more, pavedroad audit export shows all.",
            highlight=False,
        )


def _table(events: list[AuditEvent], query: AuditFilter, preset: Preset | None) -> Table:
    """A table that fits a terminal: the action goes to the title when the filter fixes it,
    and a preset's own metadata columns replace the whole metadata."""
    extra = list(preset.columns) if preset else []
    table = Table(
        title=query.action,
        header_style="bold",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        padding=(0, 1, 0, 0),
    )
    table.add_column("Time (UTC)", no_wrap=True)
    table.add_column("Actor", overflow="fold")
    if query.action is None:
        table.add_column("Action", overflow="fold")
    table.add_column("Resource", overflow="fold")
    table.add_column("Result", no_wrap=True)
    for heading, _ in extra:
        table.add_column(heading, overflow="fold")
    if not extra:
        table.add_column("Metadata", overflow="fold")
    for event in events:
        cells = [Text(f"{utc(event.at):%Y-%m-%d %H:%M:%S}"), Text(event.actor)]
        if query.action is None:
            cells.append(Text(event.event))
        cells += [
            Text(event.target),
            Text(event.result, style=RESULT_STYLES.get(event.result, "")),
            *(Text(_text(event.details.get(key))) for _, key in extra),
        ]
        if not extra:
            cells.append(
                Text("\n".join(f"{k}={_text(v)}" for k, v in sorted(event.details.items())))
            )
        table.add_row(*cells)
    return table


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def _counting(events: Iterable[AuditEvent], counted: list[int]) -> Iterator[AuditEvent]:
    for event in events:
        counted[0] += 1
        yield event
