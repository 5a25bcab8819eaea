"""``pavedroad scan dast URL``: scan a running service from a terminal."""

from __future__ import annotations

from typing import Annotated

import typer

from pavedroad.cli_support import OutputFormat, emit, fail, out_console
from pavedroad.security.dast import ScannerError, scan_url

BLOCKING = ("critical", "high")


def dast_command(
    url: Annotated[str, typer.Argument(help="The running service, e.g. http://127.0.0.1:8080/")],
    time_limit: Annotated[int, typer.Option("--time-limit", help="Seconds, at most")] = 120,
    no_wapiti: Annotated[bool, typer.Option("--no-wapiti", help="Only pavedroad's probes")] = False,
    output: Annotated[OutputFormat, typer.Option("--output", "-o")] = OutputFormat.table,
) -> None:
    """Scan a running service (wapiti and pavedroad's probes); exit 1 on a high finding."""
    try:
        report = scan_url(url, time_limit=time_limit, use_wapiti=not no_wapiti)
    except ScannerError as error:
        fail(f"the scan did not run: {error}")
    rows = [f.to_json() | {"where": f.where} for f in report.findings]
    if output is not OutputFormat.table:
        emit(rows, output)
    else:
        out_console.print(f"{len(rows)} finding(s) in {report.seconds:.0f} s", highlight=False)
        if rows:
            emit(
                rows,
                output,
                (
                    ("Severity", "severity"),
                    ("Tool", "tool"),
                    ("Rule", "rule"),
                    ("Where", "where"),
                    ("Message", "message"),
                ),
            )
    if any(f.severity in BLOCKING for f in report.findings):
        raise typer.Exit(1)
