"""``pavedroad templates drift`` and ``pavedroad templates upgrade``: which generated
repositories are behind their template, and a branch that brings one up to date."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from pavedroad.cli_support import (
    OutputFormat,
    authorize_cli,
    emit,
    err_console,
    out_console,
    runtime_for_cli,
)
from pavedroad.config import get_settings
from pavedroad.core.errors import InputError
from pavedroad.scaffolder.permissions import READ_TASKS
from pavedroad.scaffolder.upgrades import clones
from pavedroad.scaffolder.upgrades.drift import drift_report, generated_repositories
from pavedroad.scaffolder.upgrades.record import short_version
from pavedroad.scaffolder.upgrades.upgrade import NOTE_PATH, Upgrade, upgrade_repository
from pavedroad.scaffolder.upgrades.versions import CurrentTemplates

app = typer.Typer(
    help="Repositories generated from templates: which are behind, and upgrading them.",
    no_args_is_help=True,
)
COLUMNS = [
    ("repository", "repository"),
    ("template", "template"),
    ("generated version", "generatedVersion"),
    ("current version", "currentVersion"),
    ("status", "status"),
]
TemplateDir = Annotated[
    Path | None,
    typer.Option(
        "--template-dir",
        help="A folder holding template.yaml: the current version of that template "
        "(default: the catalog's).",
    ),
]


@app.command("drift")
def drift(
    repositories: Annotated[
        list[str] | None,
        typer.Argument(
            help="Clone URLs or paths; default every repository published by a completed run."
        ),
    ] = None,
    template_dir: TemplateDir = None,
    output: Annotated[OutputFormat, typer.Option("--output", "-o")] = OutputFormat.table,
) -> None:
    """List generated repositories and whether each is behind its template.

    A report: exits 0 whatever it finds (1 only for arguments that name nothing).
    """
    runtime = runtime_for_cli(get_settings())
    authorize_cli(runtime, READ_TASKS)
    if template_dir is not None:
        CurrentTemplates(runtime, template_dir)  # refused here if it holds no template
    if repositories:
        for repository in repositories:
            clones.remote_url(repository)  # an argument that names nothing is an error
        given = list(repositories)
    else:
        with runtime.db.read_session() as session:
            given = generated_repositories(session)
    rows = [row.to_json() for row in drift_report(runtime, given, template_dir=template_dir)]
    if output is not OutputFormat.table:
        emit(rows, output)
        return
    if not rows:
        err_console.print("No generated repositories: no completed run has published one.")
        return
    shown = [_short(row) for row in rows]
    columns = COLUMNS + ([("problem", "problem")] if any("problem" in r for r in rows) else [])
    emit(shown, output, columns)


@app.command("upgrade")
def upgrade(
    repository: Annotated[str, typer.Argument(help="The repository's clone URL or path.")],
    branch: Annotated[
        str | None,
        typer.Option(help="The branch to create (default pavedroad/upgrade-<template>-<version>)."),
    ] = None,
    template_dir: TemplateDir = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="A parameter the new version needs, name=value; repeatable."),
    ] = None,
    push: Annotated[
        bool, typer.Option("--push/--no-push", help="--no-push: leave the clone, print its path.")
    ] = True,
) -> None:
    """Merge the template's current version into the repository on a new branch and push it.

    Exits 1 when files conflict: the branch is still pushed, with conflict markers, so they can
    be resolved on it.
    """
    runtime = runtime_for_cli(get_settings())
    actor = authorize_cli(runtime, "scaffolder.template.run")
    done = upgrade_repository(
        runtime,
        repository,
        actor=actor,
        branch=branch,
        template_dir=template_dir,
        values=_values(set_ or []),
        push=push,
    )
    if not done.branch:
        out_console.print(
            f"{repository} is at {done.template} {short_version(done.to_version)}, the current "
            "version: nothing to do.",
            highlight=False,
        )
        return
    _report(done)
    if done.conflicts:
        where = "pushed" if done.pushed else "committed"
        err_console.print(
            f"[bold red]{len(done.conflicts)} conflict(s):[/] the branch is {where} with them "
            f"(conflict markers in the files, listed in {NOTE_PATH}); resolve them on the "
            "branch before merging it.",
            highlight=False,
        )
        raise typer.Exit(1)


def _report(done: Upgrade) -> None:
    out_console.print(
        f"{done.template} {short_version(done.from_version)} → "
        f"{short_version(done.to_version)} on branch {done.branch}",
        highlight=False,
    )
    for change in done.changes:
        reason = f": {change.reason}" if change.reason else ""
        out_console.print(f"  {change.kind:<8} {change.path}{reason}", highlight=False)
    if not done.changes:
        out_console.print("  no file changes; only the record is updated", highlight=False)
    if done.pushed:
        out_console.print(f"Pushed {done.branch} to {done.repository}", highlight=False)
    else:
        out_console.print(f"Not pushed; the clone is in {done.clone}", highlight=False)


def _short(row: dict[str, Any]) -> dict[str, Any]:
    versions = {k: short_version(row[k]) for k in ("generatedVersion", "currentVersion")}
    return {**row, **versions}


def _values(pairs: list[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or not name.strip():
            raise InputError(f"--set {pair} is not name=value", hint="e.g. --set port=8080")
        # As `pavedroad create` reads them: numbers, booleans and lists typed, the rest text.
        try:
            parsed = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            parsed = raw
        values[name.strip()] = parsed if isinstance(parsed, bool | int | float | list) else raw
    return values
