"""``pavedroad scan sast PATH`` and ``pavedroad scan secrets PATH``: the code scanners on a
folder, without a pipeline, offline. Exit 1 on a blocking finding, 2 when a scanner could not
scan (missing, crashed, timed out): never a silent "no findings"."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from pavedroad.cli_support import err_console, out_console
from pavedroad.core.errors import PavedroadError
from pavedroad.security.findings import Finding
from pavedroad.security.sarif import write_sarif
from pavedroad.security.sast import DEFAULT_TIMEOUT_SECONDS, scan_sast
from pavedroad.security.scan_steps import FAIL_ON, blocking
from pavedroad.security.secrets import BASELINE_FILE, scan_secrets


def _folder(path: Path) -> Path:
    if not path.is_dir():
        err_console.print(f"[bold red]error:[/] {path} is not a folder", highlight=False)
        raise typer.Exit(2)
    return path.resolve()


def _could_not_scan(error: PavedroadError) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {error.message}", highlight=False)
    hint = str(error.details.get("hint", ""))
    if hint:
        err_console.print(f"[yellow]hint:[/] {hint}", highlight=False)
    return typer.Exit(2)


def _table(findings: Sequence[Finding], title: str) -> None:
    table = Table(title=title, title_justify="left")
    for column in ("where", "rule", "severity", "message"):
        table.add_column(column, overflow="fold")
    for finding in sorted(findings, key=lambda f: (f.file or "", f.line or 0, f.rule)):
        table.add_row(finding.where, finding.rule, finding.severity, finding.message)
    out_console.print(table)


def sast_command(
    path: Annotated[Path, typer.Argument(help="The repository folder to scan.")],
    sarif: Annotated[Path | None, typer.Option(help="Also write the findings as SARIF.")] = None,
    fail_on: Annotated[
        str, typer.Option(help=f"Lowest severity that fails: {', '.join(FAIL_ON)}.")
    ] = "high",
    timeout: Annotated[float, typer.Option(help="Seconds each scanner may run.")] = (
        DEFAULT_TIMEOUT_SECONDS
    ),
    exclude_tests: Annotated[bool, typer.Option(help="Skip tests/ and test/ folders.")] = False,
    rules: Annotated[
        list[Path] | None, typer.Option(help="More semgrep rule files or folders (repeatable).")
    ] = None,
) -> None:
    """Static analysis of PATH: bandit (Python) and semgrep with pavedroad's rules."""
    if fail_on not in FAIL_ON:
        err_console.print(f"[bold red]error:[/] --fail-on must be one of {', '.join(FAIL_ON)}")
        raise typer.Exit(2)
    root = _folder(path)
    try:
        result = scan_sast(
            root,
            env=dict(os.environ),  # the scanners run as this command would run them
            timeout_seconds=timeout,
            exclude_tests=exclude_tests,
            extra_rules=[rule.resolve() for rule in rules or []],
        )
    except PavedroadError as error:
        raise _could_not_scan(error) from None
    if sarif is not None:
        write_sarif(sarif, result)
    scanned = ", ".join(f"{tool} {count} files" for tool, count in result.files_scanned.items())
    _table(result.findings, f"SAST of {path} ({scanned})")
    blocked = blocking(result.findings, fail_on)
    counts = ", ".join(f"{n} {severity}" for severity, n in result.counts.items() if n)
    err_console.print(f"{len(result.findings)} findings ({counts or 'none'}); {len(blocked)} block")
    if blocked:
        raise typer.Exit(1)


def secrets_command(
    path: Annotated[Path, typer.Argument(help="The repository folder to scan.")],
    update_baseline: Annotated[
        bool, typer.Option(help=f"Accept every current finding into {BASELINE_FILE}.")
    ] = False,
    baseline: Annotated[str, typer.Option(help="The baseline file, relative to PATH.")] = (
        BASELINE_FILE
    ),
    sarif: Annotated[Path | None, typer.Option(help="Also write the findings as SARIF.")] = None,
) -> None:
    """Secrets in PATH's files; any not in the baseline exits 1. Secrets are shown masked."""
    root = _folder(path)
    try:
        result = scan_secrets(root, baseline_file=baseline, update_baseline=update_baseline)
    except PavedroadError as error:
        raise _could_not_scan(error) from None
    if sarif is not None:
        write_sarif(sarif, result.as_scan_result())
    _table(result.new, f"Secrets in {path} ({result.files_scanned} files)")
    if update_baseline:
        err_console.print(f"{len(result.accepted)} finding(s) accepted into {root / baseline}")
        return
    err_console.print(
        f"{len(result.new)} new secret(s); {len(result.accepted)} accepted in {baseline}"
    )
    if result.new:
        err_console.print(
            "Remove and rotate each secret; accept a false positive with --update-baseline "
            "(and write its reason in the baseline file)."
        )
        raise typer.Exit(1)
