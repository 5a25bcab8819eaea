"""``pavedroad scan ...``: the security scanners, run on a folder without a pipeline."""

from __future__ import annotations

import typer

from pavedroad.security.code_scan_cli import sast_command, secrets_command
from pavedroad.security.dast.cli import dast_command
from pavedroad.security.sbom.cli import sbom_command

app = typer.Typer(
    help="Scan a folder (SBOM, SAST, secrets) or a running service (DAST).", no_args_is_help=True
)
app.command("sbom")(sbom_command)
app.command("sast")(sast_command)
app.command("secrets")(secrets_command)
app.command("dast")(dast_command)
