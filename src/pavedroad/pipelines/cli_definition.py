"""``pavedroad pipeline validate | schema | export``: the pipeline file, checked, described,
and rendered for Argo Workflows or GitHub Actions. Nothing here needs the database."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from pavedroad.cli_support import err_console, out_console
from pavedroad.config import Settings, get_settings
from pavedroad.core.plugins import make_plugin_manager
from pavedroad.pipelines.cli import app
from pavedroad.pipelines.definition import DEFAULT_FILE, load_pipeline, pipeline_json_schema
from pavedroad.pipelines.exports import to_argo, to_github_actions
from pavedroad.pipelines.hooks import StepType
from pavedroad.pipelines.schemas import Pipeline, PipelineProblem

PathArgument = Annotated[
    Path, typer.Argument(help="The pipeline file; a repository's .pavedroad/pipeline.yaml.")
]


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


def step_types(settings: Settings) -> dict[str, StepType]:
    """The installed step types by name, from the plugin hook, without building a runtime.

    A plugin's step type takes the place of a built-in placeholder of the same name, as
    ``pipelines.service.step_types_of`` does for the server.
    """
    from pavedroad.pipelines.steptypes import merge_step_types
    from pavedroad.runtime import HOOKSPEC_MODULES, step_type_plugins

    plugins = make_plugin_manager(
        HOOKSPEC_MODULES, step_type_plugins(), disabled=settings.plugins_disabled
    )
    return merge_step_types(reversed(plugins.hook.pavedroad_pipeline_step_types(settings=settings)))


def read_pipeline(path: Path, settings: Settings) -> tuple[Pipeline | None, list[PipelineProblem]]:
    """The pipeline of ``path``; a missing file is a problem (not the golden pipeline)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        return None, [
            PipelineProblem(
                f"cannot read the file: {reason}",
                file=str(path),
                hint="give the path of a pipeline file; a repository's is " + DEFAULT_FILE,
            )
        ]
    return load_pipeline(text, settings=settings, step_types=step_types(settings), file=str(path))


@app.command()
def validate(
    path: PathArgument = Path(DEFAULT_FILE),
    output: Annotated[OutputFormat, typer.Option("--format", help="text or json.")] = (
        OutputFormat.text
    ),
) -> None:
    """Check a pipeline file (merged with the golden pipeline); exit code 1 if any problem.

    Problems print as file:line:column: field: message — hint. Usable as a pre-commit hook.
    """
    settings = get_settings()
    pipeline, problems = read_pipeline(path, settings)
    if output is OutputFormat.json:
        body: dict[str, Any] = {
            "valid": pipeline is not None,
            "problems": [_problem_dict(p) for p in problems],
            "pipeline": pipeline.to_json() if pipeline is not None else None,
        }
        sys.stdout.write(json.dumps(body, indent=2) + "\n")
    elif pipeline is None:
        for problem in problems:
            out_console.print(str(problem), highlight=False, soft_wrap=True, markup=False)
        err_console.print(f"{path}: {len(problems)} problem(s): [red]invalid[/]")
    else:
        for stage in pipeline.stages:
            flags = [
                f for f, on in (("mandatory", stage.mandatory), ("parallel", stage.parallel)) if on
            ]
            steps = ", ".join(step.name for step in stage.steps)
            suffix = f" ({', '.join(flags)})" if flags else ""
            out_console.print(f"{stage.name}{suffix}: {steps}", highlight=False, markup=False)
        origin = " extending the golden pipeline" if pipeline.extends else ""
        err_console.print(
            f"{path}{origin}: {len(pipeline.stages)} stage(s), {len(pipeline.steps)} step(s): "
            "[green]valid[/]"
        )
    raise typer.Exit(1 if pipeline is None else 0)


@app.command()
def schema() -> None:
    """Print the JSON Schema of pipeline files (for editors: yaml.schemas in VS Code)."""
    sys.stdout.write(schema_text())


def schema_text() -> str:
    """The schema as published in docs/pipeline.schema.json."""
    return json.dumps(pipeline_json_schema(), indent=2, ensure_ascii=False) + "\n"


_KUBERNETES_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,48}[a-z0-9])?$")


class ExportTarget(StrEnum):
    argo = "argo"
    github_actions = "github-actions"


@app.command()
def export(
    to: Annotated[ExportTarget, typer.Option("--to", help="argo or github-actions.")],
    path: PathArgument = Path(DEFAULT_FILE),
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
    name: Annotated[
        str | None, typer.Option(help="Workflow name; default: the repository's directory.")
    ] = None,
    repository: Annotated[
        str | None,
        typer.Option(help="Argo: the git URL to clone; default: the `origin` remote."),
    ] = None,
    callback_url: Annotated[
        str | None, typer.Option(help="pavedroad's URL for status reports; default: base_url.")
    ] = None,
    commit_param: Annotated[
        bool,
        typer.Option(help="Argo: a `commit` parameter to run; without, the branch's head."),
    ] = True,
) -> None:
    """Render the pipeline as an Argo WorkflowTemplate or a GitHub Actions workflow.

    What does not translate exactly (changed(), result(), steps that run only inside pavedroad)
    is listed as warnings on stderr and at the top of the file.
    """
    settings = get_settings()
    pipeline, problems = read_pipeline(path, settings)
    if pipeline is None:
        for problem in problems:
            err_console.print(str(problem), highlight=False, soft_wrap=True, markup=False)
        raise typer.Exit(1)
    root = _repository_root(path)
    name = name or _workflow_name(root)
    callback = callback_url or settings.resolved_base_url
    warnings: list[str] = []
    types = step_types(settings)
    if to is ExportTarget.argo:
        if not _KUBERNETES_NAME.match(name):
            err_console.print(
                f"--name {name!r} is not a Kubernetes name: lower-case letters, digits and "
                "dashes, starting and ending with a letter or digit (at most 50)",
                highlight=False,
                markup=False,
            )
            raise typer.Exit(2)
        repository = repository or _origin(root)
        if repository is None:
            err_console.print(
                "No repository to clone: pass --repository URL (the repository has no `origin`)"
            )
            raise typer.Exit(2)
        document = to_argo(
            pipeline,
            name=name,
            repository=repository,
            commit_param=commit_param,
            callback_url=callback,
            step_types=types,
            warnings=warnings,
        )
    else:
        document = to_github_actions(
            pipeline, name=name, callback_url=callback, step_types=types, warnings=warnings
        )
    header = f"# Exported by `pavedroad pipeline export --to {to.value}` from {path}.\n"
    header += "".join(f"# warning: {warning}\n" for warning in warnings)
    text = header + dump_yaml(document)
    if output is None:
        sys.stdout.write(text)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
        err_console.print(f"Wrote {output}", highlight=False)
    for warning in warnings:
        err_console.print(f"warning: {warning}", highlight=False, markup=False)


def _repository_root(path: Path) -> Path:
    """The repository a pipeline file belongs to: the directory above ``.pavedroad``."""
    directory = path.resolve().parent
    return directory.parent if directory.name == ".pavedroad" else directory


def _workflow_name(root: Path) -> str:
    slug = re.sub(r"-+", "-", re.sub(r"[^a-z0-9-]", "-", root.name.lower())).strip("-")
    return slug[:50].strip("-") or "pipeline"


def _origin(root: Path) -> str | None:
    try:
        found = subprocess.run(
            ["git", "-C", str(root), "remote", "get-url", "origin"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return found.stdout.strip() or None if found.returncode == 0 else None


def _problem_dict(problem: PipelineProblem) -> dict[str, Any]:
    return {
        "file": problem.file,
        "line": problem.line,
        "column": problem.column,
        "path": problem.path,
        "message": problem.message,
        "hint": problem.hint,
    }


class _BlockDumper(yaml.SafeDumper):
    """Multi-line strings (scripts) as literal blocks, so the exported file reads as written."""


def _string(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value and not any(c in value for c in "\t\r") else None
    if style and any(line != line.rstrip() for line in value.splitlines()):
        style = None  # trailing spaces cannot be kept in a block
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _string)


def dump_yaml(data: Any) -> str:
    return yaml.dump(data, Dumper=_BlockDumper, sort_keys=False, allow_unicode=True, width=100)
