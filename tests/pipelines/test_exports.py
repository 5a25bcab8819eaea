"""Exports: the same pipeline as an Argo Workflows WorkflowTemplate and as a GitHub Actions
workflow, each checked against the system's published schema, and the report each run posts
back to pavedroad (built by the exported script itself, read by the callback endpoint's model).

Argo's schema comes through ``hera``, whose models are generated from Argo's published
OpenAPI schema: an export that survives validation and dumps back unchanged has no field Argo
does not know. GitHub's is SchemaStore's ``github-workflow.json`` as ``check-jsonschema`` ships it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
import yaml
from hera.workflows.models import WorkflowTemplate
from jsonschema import validators
from typer.testing import CliRunner

from pavedroad.cli import app
from pavedroad.pipelines.cli_definition import step_types
from pavedroad.pipelines.exports import REPORT_SCRIPT, to_argo, to_github_actions
from pavedroad.pipelines.exports.commands import with_retries
from pavedroad.pipelines.external import parse_report
from pavedroad.pipelines.schemas import Pipeline
from tests.conftest import git
from tests.pipelines.definition_support import loaded, plain_settings

CALLBACK = "https://pavedroad.example.com"
RICH = """\
env: {LANG: C.UTF-8}
stages:
  - name: test
    parallel: true
    steps:
      - {name: unit, run: make test, timeout: 90s, retries: 2,
         reports: {junit: reports/junit.xml, coverage: reports/coverage.xml}}
      - {name: lint, run: make lint, env: {STRICT: "1"}}
  - name: publish
    if: tag =~ ^v
    steps:
      - name: upload
        run: twine upload dist/*
        secrets: {TWINE_PASSWORD: pypi-token}
        needs: [test.unit]
        artifacts: [dist/]
  - name: notify
    steps:
      - {name: docs, run: make docs, if: "changed('docs/**') and branch == default"}
      - {name: on-failure, run: ./page-someone, if: "failure()"}
      - {name: cleanup, run: ./cleanup, if: "always()"}
      - {name: after-unit, run: "true", if: "result('test.unit') == failed"}
"""


@pytest.fixture
def settings(tmp_path: Path) -> Any:
    return plain_settings(tmp_path)


@pytest.fixture
def golden(settings: Any) -> Pipeline:
    return loaded(None, settings.data_dir)


@pytest.fixture
def rich(settings: Any) -> Pipeline:
    return loaded(RICH, settings.data_dir)


def argo_problems(document: dict[str, Any]) -> list[str]:
    """Differences between an export and Argo's schema (via hera's generated models)."""
    model = WorkflowTemplate.model_validate(document)
    back = model.model_dump(by_alias=True, exclude_none=True, mode="json")
    return [] if back == document else [f"not in Argo's schema or changed: {_diff(document, back)}"]


def _diff(a: Any, b: Any, path: str = "") -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in a.keys() | b.keys():
            if a.get(key) != b.get(key):
                return _diff(a.get(key), b.get(key), f"{path}.{key}")
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for index, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y:
                return _diff(x, y, f"{path}[{index}]")
    return f"{path}: {a!r} != {b!r}"


GITHUB_SCHEMA = json.loads(
    (files("check_jsonschema.builtin_schemas.vendor") / "github-workflows.json").read_text()
)


def github_problems(document: dict[str, Any]) -> list[str]:
    # Through YAML and back, as GitHub reads the file (`on` stays a string key).
    data = yaml.safe_load(yaml.safe_dump(document))
    validator = validators.validator_for(GITHUB_SCHEMA)(GITHUB_SCHEMA)
    return [f"{list(e.absolute_path)}: {e.message[:300]}" for e in validator.iter_errors(data)]


class TestArgoWorkflows:
    def test_the_golden_pipeline_validates_against_argos_schema(
        self, golden: Pipeline, settings: Any
    ) -> None:
        document = to_argo(
            golden,
            name="energy-quotes",
            repository="https://git.example.com/energy.git",
            callback_url=CALLBACK,
            step_types=step_types(settings),
        )
        assert argo_problems(document) == []
        assert document["apiVersion"] == "argoproj.io/v1alpha1"
        assert document["kind"] == "WorkflowTemplate"

    def test_the_schema_check_catches_a_field_argo_does_not_know(self, golden: Pipeline) -> None:
        document = to_argo(golden, name="x", repository="r", callback_url=CALLBACK)
        document["spec"]["templates"][1]["container"]["imagePullPolice"] = "Always"
        assert argo_problems(document) != []

    def test_one_dag_task_per_step_after_checkout_with_needs_as_dependencies(
        self, rich: Pipeline
    ) -> None:
        document = to_argo(
            rich, name="app", repository="https://git.example.com/app.git", callback_url=CALLBACK
        )
        assert argo_problems(document) == []
        dag = document["spec"]["templates"][0]["dag"]
        tasks = {task["name"]: task for task in dag["tasks"]}
        assert list(tasks) == ["checkout", *(step.id.replace(".", "--") for step in rich.steps)]
        assert tasks["test--unit"]["dependencies"] == ["checkout"]
        assert tasks["test--lint"]["dependencies"] == ["checkout"]  # parallel stage
        assert tasks["publish--upload"]["dependencies"] == ["test--unit", "test--lint"]
        depends = tasks["notify--cleanup"]["depends"]  # runs whatever its needs ended as
        assert "(notify--on-failure.Succeeded || notify--on-failure.Skipped || " in depends
        assert "notify--on-failure.Failed || notify--on-failure.Errored" in depends
        assert "dependencies" not in tasks["notify--cleanup"]
        assert dag["failFast"] is False  # so that always() and failure() steps still run

    def test_timeouts_retries_env_and_secrets(self, rich: Pipeline) -> None:
        document = to_argo(rich, name="app", repository="r", callback_url=CALLBACK)
        templates = {t["name"]: t for t in document["spec"]["templates"]}
        unit = templates["test--unit"]
        assert unit["activeDeadlineSeconds"] == 90
        assert unit["retryStrategy"] == {"limit": 2}
        assert unit["container"]["command"] == ["sh", "-c"]
        assert unit["container"]["args"] == ["make test"]
        assert unit["container"]["workingDir"] == "/workspace/src"
        assert {"name": "STRICT", "value": "1"} in templates["test--lint"]["container"]["env"]
        assert {"name": "LANG", "value": "C.UTF-8"} in unit["container"]["env"]
        upload_env = templates["publish--upload"]["container"]["env"]
        assert {
            "name": "TWINE_PASSWORD",
            "valueFrom": {"secretKeyRef": {"name": "app-secrets", "key": "pypi-token"}},
        } in upload_env

    def test_conditions_become_when_expressions_on_the_parameters(self, rich: Pipeline) -> None:
        warnings: list[str] = []
        document = to_argo(
            rich, name="app", repository="r", callback_url=CALLBACK, warnings=warnings
        )
        tasks = {t["name"]: t for t in document["spec"]["templates"][0]["dag"]["tasks"]}
        assert tasks["publish--upload"]["when"] == "'{{workflow.parameters.tag}}' =~ '^v'"
        assert tasks["notify--docs"]["when"] == (
            "(true) && ('{{workflow.parameters.branch}}' == "
            "'{{workflow.parameters.default-branch}}')"
        )
        assert tasks["notify--on-failure"]["when"] == (
            "'{{tasks.publish--upload.status}}' =~ 'Failed|Error|Omitted' || "
            "'{{tasks.notify--docs.status}}' =~ 'Failed|Error|Omitted'"
        )
        assert "when" not in tasks["notify--after-unit"]
        assert any("notify.docs: changed() is taken as true" in w for w in warnings)
        assert any("notify.after-unit: condition" in w and "left out" in w for w in warnings)

    def test_checkout_clones_the_repository_at_the_commit_parameter(self, rich: Pipeline) -> None:
        document = to_argo(
            rich, name="app", repository="https://git.example.com/app.git", callback_url=CALLBACK
        )
        parameters = {p["name"]: p for p in document["spec"]["arguments"]["parameters"]}
        assert parameters["repository"]["value"] == "https://git.example.com/app.git"
        assert "value" not in parameters["commit"]  # the submission must give it
        checkout = document["spec"]["templates"][1]
        assert checkout["name"] == "checkout"
        assert {"name": "COMMIT", "value": "{{workflow.parameters.commit}}"} in checkout[
            "container"
        ]["env"]
        assert "git checkout --quiet --detach" in checkout["container"]["args"][0]

    def test_without_a_commit_parameter_the_branch_head_runs_and_is_reported(
        self, rich: Pipeline
    ) -> None:
        document = to_argo(
            rich, name="app", repository="r", callback_url=CALLBACK, commit_param=False
        )
        assert argo_problems(document) == []
        parameters = [p["name"] for p in document["spec"]["arguments"]["parameters"]]
        assert "commit" not in parameters
        report = document["spec"]["templates"][-1]
        env = {e["name"]: e.get("value") for e in report["container"]["env"]}
        assert env["COMMIT"] == "{{workflow.outputs.parameters.commit}}"

    def test_the_exit_handler_posts_the_status_with_a_token_from_a_secret(
        self, rich: Pipeline
    ) -> None:
        document = to_argo(rich, name="app", repository="r", callback_url=CALLBACK)
        assert document["spec"]["onExit"] == "report"
        report = document["spec"]["templates"][-1]
        env = {e["name"]: e for e in report["container"]["env"]}
        assert env["CALLBACK_URL"]["value"] == f"{CALLBACK}/api/pipelines/v1/runs/external"
        assert env["PAVEDROAD_TOKEN"]["valueFrom"] == {
            "secretKeyRef": {"name": "pavedroad-callback", "key": "token"}
        }
        assert env["STATUS"]["value"] == "{{workflow.status}}"
        assert json.loads(env["STEP_IDS"]["value"])["test--unit"] == "test.unit"


class TestGitHubActions:
    def test_the_golden_pipeline_validates_against_the_workflow_schema(
        self, golden: Pipeline, settings: Any
    ) -> None:
        document = to_github_actions(
            golden, name="energy-quotes", callback_url=CALLBACK, step_types=step_types(settings)
        )
        assert github_problems(document) == []
        assert document["jobs"]["test--tests"]["steps"][1]["run"] == "make test"

    def test_the_schema_check_catches_a_key_github_does_not_know(self, golden: Pipeline) -> None:
        document = to_github_actions(golden, name="x", callback_url=CALLBACK)
        document["jobs"]["test--tests"]["timeout"] = 5
        assert github_problems(document) != []

    def test_one_job_per_step_with_needs_timeouts_env_and_secrets(self, rich: Pipeline) -> None:
        document = to_github_actions(rich, name="app", callback_url=CALLBACK)
        assert github_problems(document) == []
        jobs = document["jobs"]
        assert list(jobs) == [*(s.id.replace(".", "--") for s in rich.steps), "report"]
        assert "needs" not in jobs["test--unit"]
        assert jobs["publish--upload"]["needs"] == ["test--unit", "test--lint"]
        assert jobs["test--unit"]["timeout-minutes"] == 2  # 90 s, rounded up
        assert jobs["test--lint"]["env"] == {"STRICT": "1"}
        assert jobs["publish--upload"]["env"] == {"TWINE_PASSWORD": "${{ secrets.PYPI_TOKEN }}"}
        assert document["env"] == {"LANG": "C.UTF-8"}
        assert jobs["test--unit"]["steps"][0] == {"uses": "actions/checkout@v4"}
        upload = jobs["test--unit"]["steps"][2]
        assert upload["uses"] == "actions/upload-artifact@v4"
        assert upload["with"]["path"] == "reports/junit.xml\nreports/coverage.xml"

    def test_conditions_translate_to_github_expressions(self, rich: Pipeline) -> None:
        warnings: list[str] = []
        jobs = to_github_actions(rich, name="app", callback_url=CALLBACK, warnings=warnings)["jobs"]
        tag = "(startsWith(github.ref, 'refs/tags/') && github.ref_name || '')"
        assert jobs["publish--upload"]["if"] == f"startsWith({tag}, 'v')"
        assert jobs["notify--on-failure"]["if"] == "failure()"
        assert jobs["notify--cleanup"]["if"] == "always()"
        assert jobs["notify--docs"]["if"] == (
            "(true) && ((github.head_ref || github.ref_name) == "
            "github.event.repository.default_branch)"
        )
        assert "if" not in jobs["notify--after-unit"]
        assert any("notify.after-unit" in w and "left out" in w for w in warnings)

    def test_a_regular_expression_github_cannot_express_is_a_warning(self, settings: Any) -> None:
        pipeline = loaded(
            "stages: [{name: a, steps: [{run: x, if: \"branch =~ '^rel(ease)?/'\"}]}]",
            settings.data_dir,
        )
        warnings: list[str] = []
        job = to_github_actions(pipeline, name="x", callback_url=CALLBACK, warnings=warnings)
        assert "if" not in job["jobs"]["a--x"]
        assert "no regular expressions" in warnings[0]

    def test_retries_wrap_the_command(self, rich: Pipeline) -> None:
        run = to_github_actions(rich, name="app", callback_url=CALLBACK)["jobs"]["test--unit"]
        assert run["steps"][1]["run"] == with_retries("make test", 2)

    def test_a_last_report_job_always_runs_after_every_step(self, rich: Pipeline) -> None:
        report = to_github_actions(rich, name="app", callback_url=CALLBACK)["jobs"]["report"]
        assert report["if"] == "always()"
        assert report["needs"] == [s.id.replace(".", "--") for s in rich.steps]
        env = report["steps"][0]["env"]
        assert env["PAVEDROAD_TOKEN"] == "${{ secrets.PAVEDROAD_TOKEN }}"
        assert env["RESULTS"] == "${{ toJSON(needs) }}"
        assert env["CALLBACK_URL"] == f"{CALLBACK}/api/pipelines/v1/runs/external"


class TestRetriesInShell:
    def test_a_failing_command_is_tried_retries_plus_one_times(self, tmp_path: Path) -> None:
        counter = tmp_path / "count"
        command = f"echo x >> {counter}; exit 1"
        result = subprocess.run(["sh", "-c", with_retries(command, 2)], capture_output=True)
        assert result.returncode == 1
        assert counter.read_text().count("x") == 3

    def test_a_command_that_succeeds_the_second_time_passes(self, tmp_path: Path) -> None:
        marker = tmp_path / "tried"
        command = f"if [ -e {marker} ]; then exit 0; fi; touch {marker}; exit 1"
        assert subprocess.run(["sh", "-c", with_retries(command, 1)]).returncode == 0


class _Receiver(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((dict(self.headers), body))
        self.send_response(201)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    _Receiver.received = []
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", _Receiver.received
    server.shutdown()


def run_report(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", REPORT_SCRIPT],
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        timeout=30,
    )


class TestTheReportScript:
    """The exported script posts what the callback endpoint (helper C's model) accepts."""

    def common(self, url: str, system: str) -> dict[str, str]:
        return {
            "SYSTEM": system,
            "CALLBACK_URL": f"{url}/api/pipelines/v1/runs/external",
            "PAVEDROAD_TOKEN": "token-123",
            "REPOSITORY": "https://git.example.com/app.git",
            "COMMIT": "0123456789abcdef0123456789abcdef01234567",
            "BRANCH": "main",
            "EXTERNAL_ID": "run-42",
            "RUN_URL": "https://ci.example.com/run/42",
            "STEP_IDS": json.dumps(
                {"test--unit": "test.unit", "publish--upload": "publish.upload"}
            ),
        }

    def test_from_github_actions_with_each_jobs_result(
        self, receiver: tuple[str, list[tuple[dict[str, str], bytes]]]
    ) -> None:
        url, received = receiver
        needs = {
            "test--unit": {"result": "failure", "outputs": {}},
            "publish--upload": {"result": "skipped", "outputs": {}},
        }
        result = run_report({**self.common(url, "github-actions"), "RESULTS": json.dumps(needs)})
        assert result.returncode == 0, result.stderr
        (headers, body) = received[0]
        assert headers["Authorization"] == "Bearer token-123"
        report = parse_report(json.loads(body))
        assert report.system == "github-actions"
        assert report.status == "failed"
        assert [(s.id, s.status) for s in report.steps] == [
            ("test.unit", "failed"),
            ("publish.upload", "skipped"),
        ]

    def test_from_an_argo_exit_handler_with_the_failed_nodes(
        self, receiver: tuple[str, list[tuple[dict[str, str], bytes]]]
    ) -> None:
        url, received = receiver
        failures = [
            {
                "displayName": "test--unit",
                "templateName": "test--unit",
                "phase": "Failed",
                "finishedAt": "2026-12-06T20:00:00Z",
            }
        ]
        env = {**self.common(url, "argo"), "STATUS": "Failed", "RESULTS": json.dumps(failures)}
        assert run_report(env).returncode == 0
        report = parse_report(json.loads(received[0][1]))
        assert (report.system, report.status, report.external_id) == ("argo", "failed", "run-42")
        assert [(s.id, s.status) for s in report.steps] == [("test.unit", "failed")]
        assert report.steps[0].finished_at is not None

    def test_a_successful_argo_run_without_failures(
        self, receiver: tuple[str, list[tuple[dict[str, str], bytes]]]
    ) -> None:
        url, received = receiver
        # Argo leaves {{workflow.failures}} unreplaced when nothing failed.
        env = {
            **self.common(url, "argo"),
            "STATUS": "Succeeded",
            "RESULTS": "{{workflow.failures}}",
        }
        assert run_report(env).returncode == 0
        assert parse_report(json.loads(received[0][1])).status == "succeeded"


runner = CliRunner()


class TestExportCommand:
    def repository(self, tmp_path: Path) -> Path:
        root = tmp_path / "energy-quotes"
        (root / ".pavedroad").mkdir(parents=True)
        (root / ".pavedroad/pipeline.yaml").write_text(RICH)
        git("init", "-q", cwd=root)
        git("remote", "add", "origin", "https://git.example.com/team/energy-quotes.git", cwd=root)
        return root

    def test_argo_to_a_file_with_the_origin_remote_and_warnings(self, tmp_path: Path) -> None:
        root = self.repository(tmp_path)
        out = tmp_path / "out/workflow.yaml"
        result = runner.invoke(
            app,
            [
                "pipeline",
                "export",
                "--to",
                "argo",
                str(root / ".pavedroad/pipeline.yaml"),
                "--output",
                str(out),
            ],
        )
        assert result.exit_code == 0, result.output
        text = out.read_text()
        assert text.startswith("# Exported by `pavedroad pipeline export --to argo`")
        assert "# warning: notify.docs: changed() is taken as true" in text
        document = yaml.safe_load(text)
        assert document["metadata"]["name"] == "energy-quotes"
        parameters = {p["name"]: p for p in document["spec"]["arguments"]["parameters"]}
        assert parameters["repository"]["value"] == "https://git.example.com/team/energy-quotes.git"
        assert argo_problems(document) == []
        assert "warning:" in result.stderr

    def test_github_actions_to_stdout(self, tmp_path: Path) -> None:
        root = self.repository(tmp_path)
        result = runner.invoke(
            app,
            [
                "pipeline",
                "export",
                "--to",
                "github-actions",
                str(root / ".pavedroad/pipeline.yaml"),
                "--callback-url",
                CALLBACK,
            ],
        )
        assert result.exit_code == 0, result.output
        document = yaml.safe_load(result.stdout)
        assert github_problems(document) == []
        report_env = document["jobs"]["report"]["steps"][0]["env"]
        assert report_env["CALLBACK_URL"] == f"{CALLBACK}/api/pipelines/v1/runs/external"

    def test_an_argo_name_must_be_a_kubernetes_name(self, tmp_path: Path) -> None:
        root = self.repository(tmp_path)
        result = runner.invoke(
            app,
            ["pipeline", "export", "--to", "argo", str(root / ".pavedroad/pipeline.yaml"),
             "--name", "Energy Quotes"],
        )  # fmt: skip
        assert result.exit_code == 2
        assert "not a Kubernetes name" in result.stderr

    def test_a_bad_file_is_not_exported(self, tmp_path: Path) -> None:
        path = tmp_path / "pipeline.yaml"
        path.write_text("stages: [{name: a, steps: [{run: x, timeout: soon}]}]\n")
        result = runner.invoke(
            app, ["pipeline", "export", "--to", "argo", str(path), "--repository", "r"]
        )
        assert result.exit_code == 1
        assert "timeout" in result.stderr
        assert result.stdout == ""
