"""``pavedroad pipeline run|logs|list|cancel`` and ``pavedroad worker``: runs from the terminal.

Like the other domains' commands these call the services directly, as the operator or as the
owner of ``PAVEDROAD_TOKEN`` (checked against the policy).
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer
from sqlalchemy import select

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
from pavedroad.pipelines import jobs, service
from pavedroad.pipelines.access import component_entity
from pavedroad.pipelines.cli import app
from pavedroad.pipelines.models import PipelineLogChunk, PipelineRun, PipelineStep
from pavedroad.pipelines.permissions import CANCEL_RUN, READ_RUNS, START_RUN
from pavedroad.pipelines.queue import FINISHED_RUN
from pavedroad.pipelines.repositories import repository_of_entity
from pavedroad.pipelines.run_json import run_json
from pavedroad.pipelines.worker import PipelineWorker
from pavedroad.runtime import Runtime

POLL_SECONDS = 0.3
STATUS_STYLES = {
    "succeeded": "green",
    "failed": "red",
    "rejected": "red",
    "cancelled": "yellow",
    "skipped": "yellow",
    "running": "cyan",
}
LIST_COLUMNS = [
    ("Run", "id"),
    ("#", "number"),
    ("Component", "component"),
    ("Branch", "branch"),
    ("Commit", "commit"),
    ("Status", "status"),
    ("Trigger", "trigger"),
    ("Created", "createdAt"),
    ("Seconds", "durationSeconds"),
]


def _what_to_run(runtime: Runtime, given: str) -> tuple[str, str | None]:
    """A component's repository (``component:default/payments`` or ``payments``), else
    ``given`` itself as a repository (a path or a URL)."""
    if Path(given).exists() or "://" in given or given.startswith("git@"):
        return given, None
    try:
        ref = str(parse_ref(given, default_kind="component")).lower()
    except RefError as error:
        fail(str(error), "give a component ref, a repository path or a git URL")
    with runtime.db.read_session() as session:
        entity = component_entity(session, ref)
    repository = repository_of_entity(entity)
    if repository is None:
        fail(
            f"{ref} names no repository",
            "give it a backstage.io/source-location annotation, or run the repository's URL",
        )
    return repository, ref


@app.command("run")
def run_command(
    target: Annotated[str, typer.Argument(help="A component (ref or name), a path or a git URL.")],
    branch: Annotated[
        str | None, typer.Option("--branch", help="Default: the default branch.")
    ] = None,
    commit: Annotated[str | None, typer.Option("--commit", help="A commit id.")] = None,
    wait: Annotated[
        bool,
        typer.Option(
            "--wait", help="Follow the run's log to its end (running it here if no worker does)."
        ),
    ] = False,
) -> None:
    """Start a pipeline run; with --wait, follow it and exit 1 unless it succeeds."""
    runtime = runtime_for_cli(get_settings())
    actor = authorize_cli(runtime, START_RUN)
    repository, component = _what_to_run(runtime, target)
    try:
        run = service.start_run(
            runtime,
            repository=repository,
            trigger="manual",
            actor=actor,
            branch=branch,
            commit=commit,
            component_ref=component,
        )
    except PavedroadError as error:
        fail(error.message, error.details.get("hint", ""))
    err_console.print(
        f"run #{run.number} {run.id} of {run.repository} at {run.branch} {run.commit[:12]}: "
        f"{run.status}",
        highlight=False,
    )
    if run.status == "rejected":
        for problem in run.problems:
            err_console.print(f"[bold red]error:[/] {_problem(problem)}", highlight=False)
        raise typer.Exit(1)
    out_console.print(run.id)
    if not wait:
        return
    # A worker of this command takes the run unless a server's or `pavedroad worker` does first.
    worker = PipelineWorker(runtime, 1, only=run.id)
    worker.start()
    try:
        status = _follow(runtime, run.id)
    finally:
        worker.stop()
    raise typer.Exit(0 if status == "succeeded" else 1)


def _problem(problem: dict[str, Any]) -> str:
    where = problem.get("file", "")
    if problem.get("line"):
        where += f":{problem['line']}:{problem.get('column') or 1}"
    hint = f" — {problem['hint']}" if problem.get("hint") else ""
    return f"{where}: {problem.get('message', '')}{hint}"


@app.command("logs")
def logs_command(
    run_id: Annotated[str, typer.Argument(help="The run's id.")],
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Until the run ends.")] = False,
) -> None:
    """A run's log, step by step; with -f, follow it live. Exit 1 when the run did not succeed."""
    runtime = runtime_for_cli(get_settings())
    authorize_cli(runtime, READ_RUNS)
    with runtime.db.read_session() as session:
        service.get_run(session, run_id)
    if follow:
        status = _follow(runtime, run_id)
    else:
        status = _print_log(runtime, run_id, after=0, seen={})[0]
        _print_end(runtime, run_id)
    raise typer.Exit(1 if status in ("failed", "rejected", "cancelled") else 0)


def _print_log(
    runtime: Runtime, run_id: str, *, after: int, seen: dict[int, str]
) -> tuple[str, int]:
    """Print the chunks after ``after`` (a header when the step changes); (status, last id)."""
    with runtime.db.read_session() as session:
        run = service.get_run(session, run_id)
        status = run.status
        steps = {
            step.id: step
            for step in session.scalars(
                select(PipelineStep)
                .where(PipelineStep.run_id == run_id)
                .order_by(PipelineStep.position)
            )
        }
        chunks = session.scalars(
            select(PipelineLogChunk)
            .where(PipelineLogChunk.step_id.in_(steps), PipelineLogChunk.id > after)
            .order_by(PipelineLogChunk.id)
        ).all()
    for chunk in chunks:
        step = steps.get(chunk.step_id)
        if step is not None and seen.get(-1) != step.step_id:
            seen[-1] = step.step_id
            err_console.print(f"[bold]── {step.step_id}[/]", highlight=False)
        sys.stdout.write(chunk.text)
        after = chunk.id
    sys.stdout.flush()
    for step in steps.values():
        if (
            step.status in ("succeeded", "failed", "skipped", "cancelled")
            and seen.get(step.id) != step.status
        ):
            seen[step.id] = step.status
            style = STATUS_STYLES.get(step.status, "")
            summary = f" — {step.summary}" if step.summary else ""
            err_console.print(f"[{style}]{step.status}[/] {step.step_id}{summary}", highlight=False)
    return status, after


def _print_end(runtime: Runtime, run_id: str) -> None:
    with runtime.db.read_session() as session:
        run = service.get_run(session, run_id)
        status, error = run.status, run.error
    style = STATUS_STYLES.get(status, "")
    err_console.print(
        f"[bold {style}]run {status}[/]" + (f": {error}" if error else ""), highlight=False
    )


def _follow(runtime: Runtime, run_id: str) -> str:
    after, seen = 0, dict[int, str]()
    while True:
        status, after = _print_log(runtime, run_id, after=after, seen=seen)
        if status in FINISHED_RUN:
            status, after = _print_log(runtime, run_id, after=after, seen=seen)
            _print_end(runtime, run_id)
            return status
        time.sleep(POLL_SECONDS)


@app.command("list")
def list_command(
    component: Annotated[str | None, typer.Option("--component", help="A component ref.")] = None,
    status: Annotated[
        str | None, typer.Option("--status", help="queued, running, failed...")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=500)] = 20,
    output: Annotated[OutputFormat, typer.Option("--output", "-o")] = OutputFormat.table,
) -> None:
    """The newest runs."""
    runtime = runtime_for_cli(get_settings())
    authorize_cli(runtime, READ_RUNS)
    statement = select(PipelineRun).order_by(PipelineRun.created_at.desc()).limit(limit)
    if component:
        statement = statement.where(PipelineRun.component_ref == component.lower())
    if status:
        statement = statement.where(PipelineRun.status == status)
    with runtime.db.read_session() as session:
        runs = session.scalars(statement).all()
        rows = [run_json(run, base_url=runtime.settings.resolved_base_url) for run in runs]
    if output is OutputFormat.table:
        for row in rows:
            row["commit"] = (row["commit"] or "")[:12]
    emit(rows, output, LIST_COLUMNS, title=f"{len(rows)} runs, newest first")


@app.command("cancel")
def cancel_command(run_id: Annotated[str, typer.Argument(help="The run's id.")]) -> None:
    """Cancel a run: a queued one at once, a running one within a second."""
    runtime = runtime_for_cli(get_settings())
    actor = authorize_cli(runtime, CANCEL_RUN)
    try:
        run = service.cancel_run(runtime, run_id, actor=actor)
    except PavedroadError as error:
        fail(error.message, error.details.get("hint", ""))
    shown = "cancelling" if run.status == "running" else run.status
    typer.echo(f"run {run.id}: {shown}")


def worker_command(
    slots: Annotated[int, typer.Option("--slots", min=1, help="Runs carried out at once.")] = 2,
    grace: Annotated[
        float, typer.Option("--grace", help="Seconds runs in hand get to finish when stopped.")
    ] = 10.0,
) -> None:
    """Carry out queued pipeline runs until SIGTERM or Ctrl-C; runs still going then are put
    back in the queue for another worker."""
    runtime = runtime_for_cli(get_settings())
    worker = PipelineWorker(runtime, slots)
    stop = threading.Event()

    def on_signal(signum: int, _: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    worker.start()
    err_console.print(f"worker {worker.name}: {slots} slots, waiting for runs", highlight=False)
    while not stop.wait(jobs.RECOVERY_SECONDS):
        try:  # any worker may recover the runs of a worker that died, not only a server
            jobs.recover_expired_runs(runtime)
        except Exception as error:  # the database may be away for a moment: try again later
            err_console.print(f"could not check for abandoned runs: {error}", highlight=False)
    err_console.print(f"worker {worker.name}: stopping", highlight=False)
    worker.stop(grace_seconds=grace)
    runtime.close()
