"""``pavedroad create TEMPLATE``: run a template from the terminal, asking for what is missing,
and follow its steps live."""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from pavedroad.catalog.refs import RefError, parse_ref
from pavedroad.cli_support import authorize_cli, err_console, fail, out_console, runtime_for_cli
from pavedroad.config import get_settings
from pavedroad.core.errors import PavedroadError
from pavedroad.runtime import Runtime
from pavedroad.scaffolder import tasks
from pavedroad.scaffolder.dry_run import dry_run
from pavedroad.scaffolder.runner import TaskRunner
from pavedroad.scaffolder.service import start_run
from pavedroad.scaffolder.views.runs import output_links

POLL_SECONDS = 0.2


def create(
    template: Annotated[
        str, typer.Argument(help="A template ref or name (python-service), or a template folder.")
    ],
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="A parameter, name=value; repeatable.")
    ] = None,
    values_file: Annotated[
        Path | None, typer.Option("--values", help="A YAML or JSON file of parameters.")
    ] = None,
    dry: Annotated[
        bool, typer.Option("--dry-run", help="Render into a scratch folder; publish nothing.")
    ] = False,
    output: Annotated[
        Path | None, typer.Option("--output", help="With --dry-run: write the files here.")
    ] = None,
) -> None:
    """Run a software template: missing required parameters are asked for in a terminal."""
    runtime = runtime_for_cli(get_settings())
    actor = authorize_cli(runtime, "scaffolder.template.run")
    try:
        source = _source(runtime, template)
        values = {**_from_file(values_file), **_from_flags(set_ or [])}
        values = _ask_for_missing(source.entity, values)
        if dry:
            _dry(runtime, source.ref, values, actor, output)
            return
        runner = TaskRunner(runtime, threads=1)
        task_id = start_run(runtime, runner, source=source, values=values, actor=actor)
    except tasks.InvalidParameters as invalid:
        for problem in invalid.problems:
            err_console.print(f"[bold red]error:[/] {problem.field}: {problem.message}")
        raise typer.Exit(1) from None
    except PavedroadError as error:
        fail(error.message, error.details.get("hint", ""))
    status = _follow(runtime, task_id)
    runner.shutdown()
    raise typer.Exit(0 if status == "completed" else 1)


def _source(runtime: Runtime, given: str) -> Any:
    from pavedroad.scaffolder import engine

    folder = Path(given)
    if (folder / "template.yaml").is_file():
        return engine.template_from_directory(folder)
    try:
        ref = str(parse_ref(given, default_kind="template")).lower()
    except RefError as error:
        fail(str(error), "give a template ref such as template:default/python-service")
    with runtime.db.read_session() as session:
        return engine.load_template(runtime, session, ref)


def _from_file(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        loaded = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        fail(f"cannot read {path}: {error}", "give a YAML or JSON file of name: value pairs")
    if not isinstance(loaded, dict):
        fail(f"{path} holds no name: value pairs", "write one parameter per line: name: value")
    return loaded


def _from_flags(pairs: list[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or not name.strip():
            fail(f"--set {pair} is not name=value", "e.g. --set name=payments-api")
        parsed = yaml.safe_load(raw) if raw.strip() else ""
        values[name.strip()] = parsed if isinstance(parsed, (bool, int, float, list)) else raw
    return values


def _ask_for_missing(entity: Mapping[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """Prompt for required parameters nobody gave (in a terminal); elsewhere say which."""
    from pavedroad.scaffolder import engine

    completed = engine.apply_defaults(entity, values)
    missing = [
        (name, spec)
        for schema in engine.parameter_steps(entity)
        for name, spec in (schema.get("properties") or {}).items()
        if name in (schema.get("required") or []) and name not in completed
    ]
    if missing and not sys.stdin.isatty():
        names = ", ".join(name for name, _ in missing)
        fail(f"missing required parameters: {names}", "give them with --set name=value")
    secret = engine.secret_fields(entity)
    for name, spec in missing:
        label = spec.get("title") or name
        answer = typer.prompt(label, hide_input=name in secret)
        completed[name] = _from_flags([f"{name}={answer}"])[name]
    return completed


def _dry(
    runtime: Runtime, ref: str, values: dict[str, Any], actor: Any, output: Path | None
) -> None:
    done = dry_run(runtime, ref, values, actor=actor)
    for line in done.log:
        err_console.print(line["message"], highlight=False)
    for file in done.files:
        out_console.print(f"{file['path']}  [dim]{file['size']} bytes[/]")
        if output is not None:
            target = output / file["path"]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(file["content"])
    if done.result.error:
        fail(done.result.error)


def _follow(runtime: Runtime, task_id: str) -> str:
    """Print the task's log as it is written; its final status."""
    after = 0
    while True:
        with runtime.db.read_session() as session:
            task = tasks.get_task(session, task_id)
            status, output, error = task.status, dict(task.output or {}), task.error
            events = list(tasks.events_after(session, task_id, after))
        for event in events:
            after = event.id
            _print_event(event.kind, event.status, event.message)
        if status in tasks.FINISHED:
            break
        time.sleep(POLL_SECONDS)
    for link in output_links(output):
        out_console.print(f"{link['title']}: {link['url']}")
    if error:
        err_console.print(f"[bold red]{status}:[/] {error}", highlight=False)
    return status


def _print_event(kind: str, status: str | None, message: str) -> None:
    if kind == "step":
        colour = {"completed": "green", "failed": "red", "skipped": "yellow"}.get(status or "", "")
        label = f"[{colour}]{status}[/]" if colour else str(status)
        err_console.print(f"{label} {message}", highlight=False)
    elif kind == "log":
        err_console.print(f"  {message}", highlight=False)
