"""``pavedroad scan sbom PATH``: the CycloneDX SBOM of a folder (or one lockfile), offline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from pavedroad.cli_support import err_console
from pavedroad.security.sbom.generate import generate_sbom

SHOWN_UNPINNED = 20


def sbom_command(
    path: Annotated[Path, typer.Argument(help="A repository folder or a single lockfile.")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the JSON here (default: stdout).")
    ] = None,
    component: Annotated[
        str | None,
        typer.Option(help="The component's catalog ref (default: component:default/<folder>)."),
    ] = None,
    version: Annotated[str | None, typer.Option(help="The component's version.")] = None,
    commit: Annotated[str | None, typer.Option(help="The commit scanned.")] = None,
    exclude: Annotated[
        list[str] | None, typer.Option(help="Skip paths matching this glob (repeatable).")
    ] = None,
) -> None:
    """Write the CycloneDX 1.6 SBOM of PATH's lockfiles; exit 1 when one does not parse."""
    if not path.exists():
        err_console.print(f"[bold red]error:[/] {path} does not exist", highlight=False)
        raise typer.Exit(1)
    folder = path.resolve() if path.is_dir() else path.resolve().parent
    ref = component or f"component:default/{folder.name.lower()}"
    generated = generate_sbom(
        path, component_ref=ref, version=version, commit=commit, exclude=exclude or ()
    )
    inventory = generated.inventory
    for read in inventory.files:
        err_console.print(f"read {read.file} ({read.format}): {len(read.packages)} packages")
    for warning in inventory.warnings:
        err_console.print(f"[yellow]warning:[/] {warning}", highlight=False)
    for unpinned in inventory.unpinned[:SHOWN_UNPINNED]:
        err_console.print(f"[yellow]unpinned:[/] {unpinned}", highlight=False)
    if len(inventory.unpinned) > SHOWN_UNPINNED:
        err_console.print(f"… and {len(inventory.unpinned) - SHOWN_UNPINNED} more unpinned")
    if generated.document is None or generated.problems:
        for problem in generated.problems:
            err_console.print(f"[bold red]error:[/] {problem}", highlight=False)
        err_console.print("[bold red]No SBOM written.[/]")
        raise typer.Exit(1)
    if not inventory.files:
        err_console.print(f"[yellow]warning:[/] no lockfile found under {path}", highlight=False)
    text = json.dumps(generated.document, indent=2) + "\n"
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        err_console.print(
            f"[green]Wrote {output}:[/] {len(inventory.packages)} packages, CycloneDX 1.6, valid"
        )
