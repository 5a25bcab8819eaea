"""``pavedroad catalog discover``: propose descriptors for repositories nobody catalogued.

Prints the proposals (YAML with the evidence as comments, or JSON), writes them into local
repositories (``--write``), or adds them to the catalog now (``--register``): generated
descriptors go to ``<data_dir>/discovered/<name>.yaml``, one glob location reads that folder
(registered once, refreshed on later runs), and repositories that already have descriptors
are registered as locations of their own.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.orm import Session

from pavedroad.catalog import service
from pavedroad.catalog.discovery import SOURCE_LOCATION, Proposal
from pavedroad.catalog.discovery import discover as discover_targets
from pavedroad.catalog.permission_rules import location_resource
from pavedroad.catalog.sources import infer_type, normalise_target
from pavedroad.cli_support import authorize_cli, err_console, fail, out_console, runtime_for_cli
from pavedroad.config import Settings, get_settings
from pavedroad.core.errors import PavedroadError
from pavedroad.runtime import Runtime

DESCRIPTOR_NAME = "catalog-info.yaml"
DISCOVERED_FOLDER = "discovered"


class ProposalFormat(StrEnum):
    yaml = "yaml"
    json = "json"


def discover(
    targets: Annotated[
        list[str], typer.Argument(help="Repository directories, local clones or git URLs.")
    ],
    register: Annotated[
        bool,
        typer.Option(
            "--register",
            help="Add the proposals to the catalog now; register repositories that have "
            "descriptors as their own locations.",
        ),
    ] = False,
    write: Annotated[
        bool,
        typer.Option(
            "--write", help="Write catalog-info.yaml into each local repository that has none."
        ),
    ] = False,
    output: Annotated[
        ProposalFormat, typer.Option("--output", "-o", help="yaml (with evidence) or json.")
    ] = ProposalFormat.yaml,
    include_described: Annotated[
        bool,
        typer.Option(
            "--include-described",
            help="Also propose a Component for repositories that already have descriptors.",
        ),
    ] = False,
) -> None:
    """Propose Component descriptors for repositories, including ones without any.

    Each proposal's type, tags, owner, description and dependencies come from the repository's
    manifests, CODEOWNERS and README; the evidence for each is printed with it. Exit code 1 if
    any target could not be read or registered.
    """
    if register and write:
        fail(
            "--write and --register do not go together",
            "use --write, commit the descriptors, then 'pavedroad catalog register <repo>'; "
            "or use --register alone",
        )
    settings = get_settings()
    if not register:
        proposals = _scan(targets, settings, None, include_described)
        failed = _report(proposals)
        failed = _write(proposals, output) or failed if write else failed
        if not write:
            _print(proposals, output)
        raise typer.Exit(1 if failed else 0)
    runtime = runtime_for_cli(settings)
    try:
        with runtime.db.read_session() as session:
            proposals = _scan(targets, settings, session, include_described)
        failed = _report(proposals)
        failed = _register(runtime, proposals) or failed
    finally:
        runtime.close()
    raise typer.Exit(1 if failed else 0)


def _scan(
    targets: Sequence[str], settings: Settings, session: Session | None, include_described: bool
) -> list[Proposal]:
    if len(targets) < 2:
        return discover_targets(
            targets, settings=settings, session=session, include_described=include_described
        )
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as progress:
        task = progress.add_task("Scanning repositories", total=len(targets))

        def advance(target: str) -> None:
            progress.update(task, advance=1, description=f"Scanned {target}")

        return discover_targets(
            targets,
            settings=settings,
            session=session,
            include_described=include_described,
            on_target=advance,
        )


def _report(proposals: list[Proposal]) -> bool:
    """Unreadable targets and already described ones, on stderr; True if any target failed."""
    for proposal in proposals:
        if proposal.error is not None:
            _note(f"{proposal.target}: {proposal.error}", "[bold red]error:[/]")
            if proposal.hint:
                _note(proposal.hint, "  [yellow]hint:[/]")
        elif proposal.existing_descriptors and proposal.entity is None:
            _note(f"{proposal.target}: {proposal.evidence[-1]}", "[cyan]described:[/]")
    return any(proposal.error is not None for proposal in proposals)


def document(proposal: Proposal) -> str:
    """A proposal as one YAML document, its evidence as comments above it."""
    comments = [f"# {proposal.target}", *(f"#   {line}" for line in proposal.evidence)]
    text = "\n".join(" ".join(comment.splitlines()) for comment in comments)
    return text + "\n" + yaml.safe_dump(proposal.entity, sort_keys=False, allow_unicode=True)


def _print(proposals: list[Proposal], output: ProposalFormat) -> None:
    if output is ProposalFormat.json:
        sys.stdout.write(json.dumps([_as_json(p) for p in proposals], indent=2) + "\n")
        return
    sys.stdout.write("".join(f"---\n{document(p)}" for p in proposals if p.entity is not None))


def _as_json(proposal: Proposal) -> dict[str, Any]:
    return {
        "target": proposal.target,
        "entity": proposal.entity,
        "evidence": proposal.evidence,
        "existingDescriptors": proposal.existing_descriptors,
        "error": proposal.error,
        "hint": proposal.hint or None,
    }


# -- --write -------------------------------------------------------------------------------------


def _write(proposals: list[Proposal], output: ProposalFormat) -> bool:
    """Write each local proposal into its repository; print the rest. True if any write failed."""
    failed = False
    printed = []
    for proposal in proposals:
        if proposal.entity is None or proposal.checkout is None:
            continue
        if proposal.existing_descriptors:
            _note(f"skipped {proposal.target}: it has descriptors already")
        elif proposal.checkout.remote:
            _note(
                f"not written: {proposal.target} is a git URL; its proposal is printed below, "
                "commit it to the repository as catalog-info.yaml",
            )
            printed.append(proposal)
        else:
            failed = _write_descriptor(proposal, proposal.checkout.root / DESCRIPTOR_NAME) or failed
    if printed:
        _print(printed, output)
    return failed


def _write_descriptor(proposal: Proposal, path: Path) -> bool:
    try:
        with open(path, "x", encoding="utf-8") as handle:  # never overwrite a descriptor
            handle.write(document(proposal))
    except OSError as error:
        _note(f"cannot write {path}: {error.strerror or error}", "[bold red]error:[/]")
        return True
    _note(f"wrote {path} ({proposal.name})")
    return False


# -- --register ----------------------------------------------------------------------------------


def _register(runtime: Runtime, proposals: list[Proposal]) -> bool:
    """Register the generated descriptors' folder and the described repositories; True if any
    registration failed or was ingested with errors."""
    failed = False
    generated = [p for p in proposals if p.entity is not None and not p.existing_descriptors]
    if generated:
        folder = Path(normalise_target("dir", str(runtime.settings.data_dir / DISCOVERED_FOLDER)))
        _write_discovered(folder, generated)
        failed = _register_location(runtime, "glob", str(folder / "*.yaml"))
        for proposal in generated:
            _say(f"  component:default/{proposal.name} ← {proposal.target}")
    for proposal in proposals:
        if proposal.existing_descriptors and proposal.error is None:
            failed = (
                _register_location(runtime, infer_type(proposal.target), proposal.target) or failed
            )
    return failed


def _write_discovered(folder: Path, generated: list[Proposal]) -> None:
    """One file per proposal; a file from an earlier run for the same repository under
    another name is removed, so that a repository is never in the catalog twice."""
    folder.mkdir(parents=True, exist_ok=True)
    earlier = _files_by_source(folder)
    for proposal in generated:
        assert proposal.entity is not None
        path = folder / f"{proposal.name}.yaml"
        source = proposal.entity["metadata"]["annotations"][SOURCE_LOCATION]
        for old in earlier.get(source, []):
            if old != path:
                old.unlink(missing_ok=True)
        path.write_text(document(proposal), encoding="utf-8")


def _files_by_source(folder: Path) -> dict[str, list[Path]]:
    found: dict[str, list[Path]] = {}
    for path in sorted(folder.glob("*.yaml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError):
            continue
        metadata = data.get("metadata") if isinstance(data, dict) else None
        annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
        if isinstance(annotations, dict) and isinstance(annotations.get(SOURCE_LOCATION), str):
            found.setdefault(annotations[SOURCE_LOCATION], []).append(path)
    return found


def _register_location(runtime: Runtime, type_: str, target: str) -> bool:
    """Register a location, or refresh it if it is registered already; True on any error."""
    target = normalise_target(type_, target)
    try:
        with runtime.db.session() as session:
            location = service.find_location(session, type_, target)
            if location is None:
                verb = "registered"
                actor = authorize_cli(runtime, "catalog.location.create")
                results = service.register_locations(
                    session, runtime.catalog, [(type_, target)], actor=actor
                )
            else:
                verb = "refreshed"
                actor = authorize_cli(
                    runtime, "catalog.location.refresh", location_resource(location)
                )
                results = service.refresh_locations(
                    session, runtime.catalog, [location.id], actor=actor
                )
    except PavedroadError as error:
        _note(f"cannot register {type_}:{target}: {error.message}", "[bold red]error:[/]")
        if error.details.get("hint"):
            _note(str(error.details["hint"]), "  [yellow]hint:[/]")
        return True
    failed = False
    for item in results:
        report = item.report
        _say(
            f"{verb} {type_}:{target}: {report.created} created, {report.updated} updated, "
            f"{report.unchanged} unchanged, {report.deleted} deleted, "
            f"{len(report.errors)} error(s)",
        )
        for problem in report.errors[:20]:
            _say(problem.describe(), "  [red]✗[/]")
        failed = failed or bool(report.errors)
    return failed


def _say(text: str, label: str = "") -> None:
    """A result line on stdout: ``text`` literally (paths may hold ``[``), never wrapped, so
    that paths and URLs stay whole; ``label`` may use rich markup."""
    out_console.print(_line(text, label), highlight=False, soft_wrap=True)


def _note(text: str, label: str = "") -> None:
    """A status or error line on stderr, leaving stdout to the proposals."""
    err_console.print(_line(text, label), highlight=False, soft_wrap=True)


def _line(text: str, label: str) -> str:
    return f"{label} {escape(text)}" if label else escape(text)
