"""``pavedroad pipeline watch|unwatch|watched``: the repositories polled for new commits."""

from __future__ import annotations

from typing import Annotated

import typer

from pavedroad.cli_support import OutputFormat, authorize_cli, emit, fail, runtime_for_cli
from pavedroad.config import get_settings
from pavedroad.core.errors import PavedroadError
from pavedroad.pipelines import watched
from pavedroad.pipelines.cli import app
from pavedroad.pipelines.permissions import READ_RUNS, START_RUN

COLUMNS = [("Repository", "url"), ("Component", "component"), ("Checked", "checkedAt")]


@app.command("watch")
def watch(
    url: Annotated[str, typer.Argument(help="A local path, file:// URL or git URL.")],
    component: Annotated[
        str | None,
        typer.Option(
            "--component", help="Its component's ref; default: the one it is the repo of."
        ),
    ] = None,
) -> None:
    """Poll a repository for new commits: each new commit on a branch starts its pipeline."""
    runtime = runtime_for_cli(get_settings())
    actor = authorize_cli(runtime, START_RUN)
    try:
        with runtime.db.session() as session:
            row = watched.watch_repository(session, url, component_ref=component, actor=actor)
            shown = watched.watched_json(row)
    except PavedroadError as error:
        fail(error.message, error.details.get("hint", ""))
    typer.echo(f"watching {shown['url']} (component: {shown['component'] or 'none'})")


@app.command("unwatch")
def unwatch(url: Annotated[str, typer.Argument(help="The repository, as watched.")]) -> None:
    """Stop polling a repository."""
    runtime = runtime_for_cli(get_settings())
    actor = authorize_cli(runtime, START_RUN)
    try:
        with runtime.db.session() as session:
            watched.unwatch_repository(session, url, actor=actor)
    except PavedroadError as error:
        fail(error.message, error.details.get("hint", ""))
    typer.echo(f"no longer watching {url}")


@app.command("watched")
def list_watched(
    output: Annotated[OutputFormat, typer.Option("--output", "-o")] = OutputFormat.table,
) -> None:
    """The watched repositories, when each was last checked, and the last error."""
    runtime = runtime_for_cli(get_settings())
    authorize_cli(runtime, READ_RUNS)
    with runtime.db.read_session() as session:
        rows = [watched.watched_json(row) for row in watched.list_watched(session)]
    columns = [*COLUMNS, ("Branches", "branches"), ("Error", "error")]
    for row in rows:
        row["branches"] = sorted(row["heads"])
    emit(rows, output, columns, title="Watched repositories")
