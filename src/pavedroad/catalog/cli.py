"""``pavedroad catalog ...``: validate, register, list, get, refresh, discover, errors."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
import yaml
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from pavedroad.catalog import queries, service
from pavedroad.catalog.discovery_cli import discover as discover_command
from pavedroad.catalog.entity_json import entity_dict
from pavedroad.catalog.permission_rules import location_resource
from pavedroad.catalog.reading import FileProblem, FileResult, read_location_files
from pavedroad.catalog.sources import SourceError, SourceTree, infer_type
from pavedroad.cli_support import (
    OutputFormat,
    authorize_cli,
    cli_principal,
    emit,
    err_console,
    fail,
    out_console,
    runtime_for_cli,
)
from pavedroad.config import get_settings
from pavedroad.core.errors import PavedroadError

app = typer.Typer(
    help="The software catalog: entities, locations and their errors.", no_args_is_help=True
)
app.command("discover")(discover_command)

OutputOption = Annotated[OutputFormat, typer.Option("--output", "-o", help="table, json or yaml.")]


def _runtime() -> Any:
    return runtime_for_cli(get_settings())


# -- validate --------------------------------------------------------------------------------


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="Descriptor files to check.")],
    output: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
) -> None:
    """Check descriptor files against every catalog rule; exit code 1 if any problem.

    Usable as a pre-commit hook and in any CI: problems print as file:line:column with the
    field, what is wrong and how to fix it. Nothing is stored.
    """
    runtime = _runtime()
    problems: list[FileProblem] = []
    entity_count = 0
    for file in files:
        result = _validate_file(runtime, file)
        entity_count += len(result.entities)
        for problem in result.problems:
            problem.file = str(file)
            problems.append(problem)
    if output == "json":
        sys.stdout.write(json.dumps([_problem_dict(p) for p in problems], indent=2) + "\n")
    else:
        for problem in problems:
            out_console.print(problem.describe(), highlight=False, soft_wrap=True)
        verdict = "[red]invalid[/]" if problems else "[green]valid[/]"
        err_console.print(
            f"{len(files)} file(s), {entity_count} entities, {len(problems)} problem(s): {verdict}"
        )
    raise typer.Exit(1 if problems else 0)


def _validate_file(runtime: Any, file: Path) -> FileResult:
    if not file.is_file():
        return FileResult(
            str(file),
            None,
            0,
            problems=[
                FileProblem(
                    "location-read-failed",
                    f"{file} does not exist or is not a file",
                    "read",
                    file=str(file),
                )
            ],
        )
    directory = file.resolve().parent
    root = next((d for d in (directory, *directory.parents) if (d / ".git").exists()), directory)
    tree = SourceTree(root, f"file:{root}/", runtime.settings.catalog.max_file_bytes)
    results = read_location_files(
        tree,
        [tree.resolve(None, str(file.resolve()))],
        runtime.catalog.pipeline,
        origin=f"file:{file.resolve()}",
        max_depth=runtime.settings.catalog.max_location_depth,
    )
    return next(results)


def _problem_dict(problem: FileProblem) -> dict[str, Any]:
    return {
        "file": problem.file,
        "line": problem.line,
        "column": problem.column,
        "document": problem.document_index,
        "field": problem.field,
        "entityRef": problem.entity_ref,
        "category": problem.category,
        "message": problem.message,
        "hint": problem.hint,
    }


# -- register / unregister / refresh -----------------------------------------------------------


@app.command()
def register(
    targets: Annotated[list[str], typer.Argument(help="Files, globs, directories or git URLs.")],
    type_: Annotated[
        str | None, typer.Option("--type", help="file, glob, dir or git (guessed).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be ingested; store nothing.")
    ] = False,
) -> None:
    """Register locations and ingest everything they hold (all at once, breadth first)."""
    runtime = _runtime()
    actor = authorize_cli(runtime, "catalog.location.create")
    pairs = [(type_ or infer_type(target), target) for target in targets]
    if dry_run:
        _dry_run(runtime, pairs)
        return
    with _progress() as progress:
        task = progress.add_task(f"Reading {len(pairs)} location(s)", total=None)
        counted = {"files": 0, "entities": 0, "failed": 0}

        def on_file(result: FileResult) -> None:
            counted["files"] += 1
            counted["entities"] += len(result.entities)
            counted["failed"] += int(result.failed)
            progress.update(
                task,
                description=f"{counted['files']} files read, {counted['entities']} entities, "
                f"{counted['failed']} file(s) refused",
            )

        try:
            with runtime.db.session() as session:
                results = service.register_locations(
                    session, runtime.catalog, pairs, actor=actor, on_file=on_file
                )
        except PavedroadError as error:
            progress.stop()
            fail(error.message, error.details.get("hint", ""))
    failed = False
    for item in results:
        failed = failed or bool(item.report.errors)
        _print_refresh(item)
    raise typer.Exit(1 if failed else 0)


def _dry_run(runtime: Any, pairs: list[tuple[str, str]]) -> None:
    failed = False
    for type_, target in pairs:
        with runtime.db.read_session() as session:
            result = service.dry_run_location(session, runtime.catalog, type_, target)
        out_console.print(f"[bold]{type_}:{target}[/] would ingest {len(result.entities)} entities")
        for processed in result.entities:
            out_console.print(f"  {processed.ref}", highlight=False)
        for problem in result.problems:
            out_console.print(f"  [red]✗[/] {problem.describe()}", highlight=False)
        failed = failed or bool(result.problems)
    raise typer.Exit(1 if failed else 0)


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    )


def _print_refresh(item: service.LocationRefresh) -> None:
    report = item.report
    location = item.location
    colour = "green" if not report.errors else "yellow" if report.entities else "red"
    out_console.print(
        f"[{colour}]{location.type}:{location.target}[/] ({location.id}): {report.files} file(s), "
        f"{report.created} created, {report.updated} updated, {report.unchanged} unchanged, "
        f"{report.deleted} deleted, {len(report.errors)} error(s)",
        highlight=False,
    )
    for problem in report.errors[:20]:
        out_console.print(f"  [red]✗[/] {problem.describe()}", highlight=False, soft_wrap=True)
    if len(report.errors) > 20:
        out_console.print(
            f"  … and {len(report.errors) - 20} more: "
            f"pavedroad catalog errors --location {location.id}"
        )


@app.command()
def unregister(
    location: Annotated[str, typer.Argument(help="Location id, or its target as registered.")],
) -> None:
    """Remove a location and every entity it brought in."""
    runtime = _runtime()
    with runtime.db.session() as session:
        location_id = _location_id(session, location)
        found = service.get_location(session, location_id)
        actor = authorize_cli(runtime, "catalog.location.delete", location_resource(found))
        kind, target = found.type, found.target
        count = service.unregister_location(session, location_id, actor=actor)
    service.forget_pasted_descriptor(runtime.catalog, kind, target)
    out_console.print(f"Unregistered {location}; {count} entities deleted")


def _location_id(session: Any, given: str) -> str:
    for item in service.list_locations(session):
        if given in (item.id, item.target) or os.path.abspath(given) == item.target:
            return item.id
    return fail(f"No location {given}", "list them with: pavedroad catalog locations")


@app.command()
def refresh(
    entity_ref: Annotated[
        str | None, typer.Argument(help="Refresh the location this entity comes from.")
    ] = None,
    location: Annotated[str | None, typer.Option(help="Location id or target.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every location.")] = False,
    provider: Annotated[str | None, typer.Option(help="An entity provider's name.")] = None,
) -> None:
    """Read locations again now, instead of waiting for the schedule."""
    runtime = _runtime()
    with _progress() as progress:
        progress.add_task("Refreshing", total=None)
        with runtime.db.session() as session:
            if provider:
                actor = authorize_cli(runtime, "catalog.location.refresh")
                report = service.refresh_provider(session, runtime.catalog, provider, actor=actor)
                out_console.print(service.summarize(report))
                return
            if all_:
                ids = list(service.iter_location_ids(session))
            elif location:
                ids = [_location_id(session, location)]
            elif entity_ref:
                ids = [service.location_of_entity(session, entity_ref).id]
            else:
                fail("Say what to refresh: an entity ref, --location or --all")
            actor = cli_principal(runtime).actor
            for location_id in ids:
                found = service.get_location(session, location_id)
                authorize_cli(runtime, "catalog.location.refresh", location_resource(found))
            results = service.refresh_locations(session, runtime.catalog, ids, actor=actor)
    for item in results:
        _print_refresh(item)


# -- reading ---------------------------------------------------------------------------------


@app.command()
def locations(output: OutputOption = OutputFormat.table) -> None:
    """Registered locations with their status and counts."""
    runtime = _runtime()
    authorize_cli(runtime, "catalog.location.read")
    with runtime.db.read_session() as session:
        rows = [
            {
                "id": location.id,
                "type": location.type,
                "target": location.target,
                "status": location.status,
                "entities": location.entity_count,
                "errors": location.error_count,
                "refreshed": location.refreshed_at.isoformat(timespec="seconds")
                if location.refreshed_at
                else None,
            }
            for location in service.list_locations(session)
        ]
    emit(
        rows,
        output,
        [
            ("ID", "id"),
            ("Type", "type"),
            ("Target", "target"),
            ("Status", "status"),
            ("Entities", "entities"),
            ("Errors", "errors"),
            ("Refreshed", "refreshed"),
        ],
    )


@app.command("list")
def list_(
    filters: Annotated[
        list[str] | None, typer.Option("--filter", "-f", help="key=value[,key=value] (repeat = OR)")
    ] = None,
    kind: Annotated[str | None, typer.Option(help="Only this kind.")] = None,
    search: Annotated[str | None, typer.Option("--search", "-s", help="Full-text filter.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many.")] = 50,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Entities matching filters, with Backstage's filter syntax."""
    params = list(filters or [])
    if kind:
        params = [f"{p},kind={kind}" for p in params] or [f"kind={kind}"]
    runtime = _runtime()
    authorize_cli(runtime, "catalog.entity.read")
    query = queries.EntityQuery(queries.parse_filters(params), queries.Order(None), search)
    with runtime.db.read_session() as session:
        page = queries.query_entities(session, query, limit=limit)
        entities = [orjson.loads(body) for _, _, body, _ in page.rows]
    if output is OutputFormat.table:
        rows = [
            {
                "ref": f"{e['kind']}:{e['metadata']['namespace']}/{e['metadata']['name']}",
                "type": (e.get("spec") or {}).get("type"),
                "owner": (e.get("spec") or {}).get("owner"),
                "lifecycle": (e.get("spec") or {}).get("lifecycle"),
                "description": (e["metadata"].get("description") or "")[:60],
            }
            for e in entities
        ]
        emit(
            rows,
            output,
            [
                ("Entity", "ref"),
                ("Type", "type"),
                ("Owner", "owner"),
                ("Lifecycle", "lifecycle"),
                ("Description", "description"),
            ],
            title=f"{len(rows)} of {page.total}",
        )
    else:
        emit(entities, output)


@app.command()
def get(
    entity_ref: Annotated[str, typer.Argument(help="kind:namespace/name (namespace optional).")],
    output: OutputOption = OutputFormat.yaml,
) -> None:
    """One entity, as stored, with its relations."""
    runtime = _runtime()
    authorize_cli(runtime, "catalog.entity.read")
    with runtime.db.read_session() as session:
        stored = service.get_entity_row(session, entity_ref)
        row = queries.entity_row(session, stored.ref)
        assert row is not None
        entity = entity_dict(row[2], row[3])
    if output is OutputFormat.table:
        output = OutputFormat.yaml
    emit(entity, output)


@app.command()
def errors(
    location: Annotated[str | None, typer.Option(help="Only this location (id or target).")] = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Everything that failed to ingest, by location, with line numbers and fixes."""
    runtime = _runtime()
    authorize_cli(runtime, "catalog.location.read")
    with runtime.db.read_session() as session:
        location_id = _location_id(session, location) if location else None
        names = {loc.id: f"{loc.type}:{loc.target}" for loc in service.list_locations(session)}
        rows = [
            {
                "location": names.get(e.location_id or "", f"provider:{e.provider}"),
                "where": FileProblem(
                    e.category,
                    e.message,
                    e.stage,
                    file=e.file,
                    document_index=e.document_index,
                    line=e.line,
                    column=e.column,
                    field=e.field,
                    hint=e.hint,
                ).describe(),
                "category": e.category,
                "entity": e.entity_ref,
            }
            for e in service.list_errors(session, location_id=location_id)
        ]
    if not rows and output is OutputFormat.table:
        out_console.print("[green]No ingestion errors.[/]")
        return
    emit(rows, output, [("Location", "location"), ("Problem", "where"), ("Category", "category")])


def _yaml_dump(entities: list[dict[str, Any]]) -> str:
    return yaml.safe_dump_all(entities, sort_keys=False, allow_unicode=True)


def _source_error(error: SourceError) -> None:
    fail(error.message, error.hint)
