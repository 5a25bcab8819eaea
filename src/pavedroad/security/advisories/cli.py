"""``pavedroad advisories ...``: import OSV records, and ask what affects a package version."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from pavedroad.cli_support import (
    OutputFormat,
    authorize_cli,
    emit,
    err_console,
    out_console,
    runtime_for_cli,
)
from pavedroad.config import get_settings
from pavedroad.security.advisories.importer import ImportReport, import_advisories
from pavedroad.security.advisories.matching import PackageVersion, vulnerabilities_of
from pavedroad.security.advisories.versions import SUPPORTED_ECOSYSTEMS
from pavedroad.security.alerts import notify_alerts, record_alerts
from pavedroad.security.permissions import IMPORT_ADVISORIES, READ_ADVISORIES

app = typer.Typer(help="Vulnerability advisories (OSV), imported offline.", no_args_is_help=True)
SHOWN_PROBLEMS = 20


@app.command("import")
def import_command(
    path: Annotated[
        Path, typer.Argument(help="An OSV export zip, a directory of records or one record.")
    ],
    output: Annotated[OutputFormat, typer.Option("--output", "-o")] = OutputFormat.table,
) -> None:
    """Import OSV records: new and changed ones are written, the rest left as they are."""
    runtime = runtime_for_cli(get_settings())
    actor = authorize_cli(runtime, IMPORT_ADVISORIES)
    with Progress(
        TextColumn("Reading records"),
        BarColumn(),
        TextColumn("{task.completed}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as progress:
        task = progress.add_task("records", total=None)
        with runtime.db.session() as session:
            report = import_advisories(
                session, path, actor=actor, on_record=lambda: progress.advance(task)
            )
            alerts = record_alerts(session, report.changed)
            alert_ids = [alert.id for alert in alerts]
            affected = len({alert.component_ref for alert in alerts})
    sent = notify_alerts(runtime, alert_ids)
    runtime.close()
    if output is not OutputFormat.table:
        emit(report.as_dict(), output)
    else:
        _print_report(report)
    if alert_ids:
        sent_note = f"; {sent} sent to the alert webhooks" if sent else ""
        err_console.print(
            f"{len(alert_ids)} new alert(s): the imported advisories affect {affected} "
            f"scanned component(s){sent_note}.",
            highlight=False,
        )
    if report.refused:
        raise typer.Exit(1)


@app.command("check")
def check_command(
    ecosystem: Annotated[str, typer.Argument(help=f"One of {', '.join(SUPPORTED_ECOSYSTEMS)}.")],
    name: Annotated[str, typer.Argument(help="The package name.")],
    version: Annotated[str, typer.Argument(help="The version in use.")],
    output: Annotated[OutputFormat, typer.Option("--output", "-o")] = OutputFormat.table,
) -> None:
    """Which advisories affect a package at a version, and what to upgrade to."""
    runtime = runtime_for_cli(get_settings())
    authorize_cli(runtime, READ_ADVISORIES)
    package = PackageVersion(ecosystem, name, version)
    with runtime.db.read_session() as session:
        found = vulnerabilities_of(session, [package])[package]
    runtime.close()
    if output is not OutputFormat.table:
        emit(
            [
                {
                    "id": v.advisory_id,
                    "aliases": list(v.aliases),
                    "severity": v.severity,
                    "score": v.score,
                    "fixed": v.fixed,
                    "summary": v.summary,
                }
                for v in found
            ],
            output,
        )
        return
    if not found:
        out_console.print(f"No known advisory affects {name} {version}.")
        return
    for vulnerability in found:
        aliases = f" ({', '.join(vulnerability.aliases)})" if vulnerability.aliases else ""
        severity = vulnerability.severity or "severity unknown"
        out_console.print(
            f"[bold]{vulnerability.advisory_id}[/]{aliases} {severity}: {vulnerability.fix_text}",
            highlight=False,
        )


def _print_report(report: ImportReport) -> None:
    out_console.print(
        f"Read {report.read} record(s): {report.added} added, {report.updated} updated, "
        f"{report.unchanged} unchanged, {report.withdrawn} withdrawn, "
        f"{len(report.refused)} refused.",
        highlight=False,
    )
    for source, problem in report.refused[:SHOWN_PROBLEMS]:
        err_console.print(f"[red]refused[/] {source}: {problem}", highlight=False)
    if len(report.refused) > SHOWN_PROBLEMS:
        err_console.print(f"... and {len(report.refused) - SHOWN_PROBLEMS} more (use -o json)")
    if report.notes:
        err_console.print(
            f"{len(report.notes)} affected entr(ies) left out (ecosystems not supported: "
            f"{', '.join(SUPPORTED_ECOSYSTEMS)} are); -o json lists them.",
            highlight=False,
        )
