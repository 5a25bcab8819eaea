"""Dry runs of Backstage's own templates against what Backstage's dry run produced for them
(../shared/conformance/templates, read in place): the same files byte for byte, the same
step statuses, the same rendered output links and the same rendered step inputs.

What is not compared, and why:
- ``task_log``: Backstage's dry run adds a hidden step of its own that collects the files
  ("Starting up task with 4 steps" for three steps).
- fetch:template's own log lines: they name Backstage's temporary folder, the source files'
  modes (the dry-run API carries none) and a count of files that includes the source files the
  conformance set leaves out.
- ``executable``: the dry-run API carries no file modes, so Backstage reports false throughout;
  pavedroad keeps the skeleton's modes (checked on the placeholder files below).
- Files listed with ``content_omitted``: their sources (Java, shell, ...) are not in the set; their
  rendered paths are checked with placeholder files instead of their sha256.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pavedroad.config import Settings
from pavedroad.runtime import Runtime, build_runtime
from pavedroad.scaffolder import engine
from tests.conftest import CONFORMANCE
from tests.scaffolder.test_engine_support import TESTER, USER, Events

TEMPLATES = CONFORMANCE / "templates"
NAMES = [
    "docs-template",
    "springboot-grpc-template",
    "create-app-example-nodejs-template",
    "pull-request",
]
# Log lines the engine writes for every step, in Backstage's words; the rest is each action's own.
ENGINE_LINES = ("Beginning step ", "Running ", "Skipping ", "Finished step ")
# publish:github:pull-request's dry-run lines are the action's, and Backstage's exactly.
ACTION_LINES = ("Performing dry run of creating pull request", "Dry run complete")


@dataclasses.dataclass
class DryRun:
    expected: dict[str, Any]  # Backstage's result (the offline variant where there is one)
    result: engine.RunResult
    events: Events
    files: dict[str, dict[str, Any]]


def backstage(name: str) -> dict[str, Any]:
    recorded: dict[str, Any] = json.loads((TEMPLATES / f"{name}.dryrun.expected.json").read_text())
    return recorded


def offline(source: engine.TemplateSource, expected: dict[str, Any]) -> engine.TemplateSource:
    """The template as Backstage ran its offline variant (steps that need github.com removed)."""
    kept = {step["id"] for step in expected["steps"]}
    spec = dict(source.entity["spec"])
    spec["steps"] = [step for step in spec["steps"] if step["id"] in kept]
    return dataclasses.replace(source, entity={**source.entity, "spec": spec})


def dry_run(
    runtime: Runtime, source: engine.TemplateSource, values: dict[str, Any], workspace: Path
) -> tuple[engine.RunResult, Events]:
    events = Events()
    completed = engine.apply_defaults(source.entity, values)
    assert engine.validate_parameters(source.entity, completed) == []
    parameters, secrets = engine.split_secrets(source.entity, completed)
    result = engine.run_template(
        runtime,
        source,
        parameters,
        workspace=workspace,
        user=USER,
        actor=TESTER,
        secrets=secrets,
        dry_run=True,
        events=events,
    )
    return result, events


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    """No database: a dry run of these templates touches neither the catalog nor any remote."""
    folder = tmp_path_factory.mktemp("conformance")
    settings = Settings(
        data_dir=folder / "data",
        database_url=f"sqlite:///{folder / 'unused.db'}",
        log_format="console",
        credentials_file=folder / "credentials.json",
    )
    built = build_runtime(settings, load_entry_points=False)
    yield built
    built.close()


@pytest.fixture(scope="module")
def dry_runs(runtime: Runtime, tmp_path_factory: pytest.TempPathFactory) -> dict[str, DryRun]:
    runs = {}
    for name in NAMES:
        recorded = backstage(name)
        expected = recorded.get("offline_variant", recorded)
        source = offline(engine.template_from_directory(TEMPLATES / name), expected)
        workspace = tmp_path_factory.mktemp(name)
        result, events = dry_run(runtime, source, recorded["values"], workspace)
        files = {f["path"]: f for f in engine.dry_run_files(workspace)}
        runs[name] = DryRun(expected, result, events, files)
    return runs


@pytest.mark.parametrize("name", NAMES)
class TestAsBackstage:
    def test_the_run_completes_with_backstages_step_statuses(
        self, dry_runs: dict[str, DryRun], name: str
    ) -> None:
        done = dry_runs[name]
        assert done.result.status == "completed", done.result.error
        assert [(s.id, s.action, s.status) for s in done.result.steps] == [
            (s["id"], s["action"], s["status"]) for s in done.expected["steps"]
        ]

    def test_the_data_files_are_byte_equal(self, dry_runs: dict[str, DryRun], name: str) -> None:
        done = dry_runs[name]
        data = {f["path"]: f for f in done.expected["files"] if "content" in f}
        assert sorted(done.files) == sorted(data)  # the others' sources are not in the set
        for path, expected in data.items():
            mine = done.files[path]
            assert mine["content"] == expected["content"], path
            assert (mine["sha256"], mine["size"]) == (expected["sha256"], expected["size"]), path

    def test_the_output_is_backstages(self, dry_runs: dict[str, DryRun], name: str) -> None:
        done = dry_runs[name]
        assert done.result.output == done.expected["output"]

    def test_each_step_logs_backstages_rendered_inputs(
        self, dry_runs: dict[str, DryRun], name: str
    ) -> None:
        done = dry_runs[name]
        for step in done.expected["steps"]:
            theirs = [m.removeprefix("info: ") for m in step["messages"]]
            theirs = [m for m in theirs if m.startswith(ENGINE_LINES) or m in ACTION_LINES]
            mine = [m for step_id, m in done.events.lines if step_id == step["id"]]
            mine = [m for m in mine if m.startswith(ENGINE_LINES) or m in ACTION_LINES]
            assert mine == theirs, step["id"]


@pytest.mark.parametrize("name", ["springboot-grpc-template", "create-app-example-nodejs-template"])
def test_omitted_sources_render_to_backstages_paths(
    runtime: Runtime, tmp_path: Path, name: str
) -> None:
    """A copy of the template (in a temporary folder) with a placeholder for each source file
    the set leaves out, so that every rendered path can be compared."""
    recorded = backstage(name)
    copy = tmp_path / name
    shutil.copytree(TEMPLATES / name, copy)
    for path in recorded["input_files"]:
        placeholder = copy / path
        if not placeholder.exists():
            placeholder.parent.mkdir(parents=True, exist_ok=True)
            placeholder.write_text("placeholder\n")
            if path.endswith(".sh"):
                placeholder.chmod(0o755)  # as in the source repository (mode 100755)
    result, _ = dry_run(
        runtime, engine.template_from_directory(copy), recorded["values"], tmp_path / "workspace"
    )
    files = {f["path"]: f for f in engine.dry_run_files(tmp_path / "workspace")}
    assert result.status == "completed", result.error
    assert sorted(files) == sorted(f["path"] for f in recorded["files"])
    scripts = [path for path in files if path.endswith(".sh")]
    assert all(files[path]["executable"] for path in scripts)
    assert all(os.access(tmp_path / "workspace" / path, os.X_OK) for path in scripts)


def test_pull_request_as_written_fails_where_backstages_failed(
    runtime: Runtime, tmp_path: Path
) -> None:
    """Backstage's dry run failed (HTTP 500) fetching from github.com; ours fails at that step."""
    recorded = backstage("pull-request")
    source = engine.template_from_directory(TEMPLATES / "pull-request")
    result, _ = dry_run(runtime, source, recorded["values"], tmp_path / "workspace")
    assert recorded["http_status"] == 500
    assert result.status == "failed"
    assert [(s.id, s.status) for s in result.steps] == [
        ("fetch-base", "completed"),
        ("fetch-docs", "failed"),
    ]
    assert "fetching from URLs is not supported here" in str(result.error)
