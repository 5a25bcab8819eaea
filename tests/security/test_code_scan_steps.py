"""The ``sast`` and ``secrets-scan`` step types, called as the engine calls them, on a real
workspace with the real runtime; and ``pavedroad scan sast|secrets``."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema
from typer.testing import CliRunner

from pavedroad.cli import app
from pavedroad.pipelines.hooks import StepContext, StepType
from pavedroad.pipelines.schemas import Step
from pavedroad.pipelines.service import step_types_of
from pavedroad.pipelines.steptypes import step_reports
from pavedroad.runtime import Runtime
from pavedroad.security.scan_steps import SastStep, SecretsScanStep, blocking
from pavedroad.security.scans import findings_of_scans, scans_of_run
from pavedroad.security.secrets import BASELINE_FILE
from tests.security.code_fixtures import (
    PYTHON,
    fake_secrets,
    secrets_repository,
    vulnerable_repository,
    write,
)

PATH = {"PATH": os.environ.get("PATH", "")}
SARIF_SCHEMA = json.loads((Path(__file__).parent / "sarif" / "sarif-schema-2.1.0.json").read_text())


def context_for(
    runtime: Runtime,
    workspace: Path,
    uses: str,
    lines: list[str],
    with_: Mapping[str, Any] | None = None,
    env: Mapping[str, str] = PATH,
) -> StepContext:
    return StepContext(
        run_id=str(uuid.uuid4()),
        step=Step(
            id=f"security.{uses}", stage="security", name=uses, uses=uses, with_=dict(with_ or {})
        ),
        workspace=workspace,
        env=dict(env),
        repository="https://git.example.com/payments/ledger.git",
        commit="0123456789abcdef0123456789abcdef01234567",
        branch="main",
        component_ref="component:default/ledger",
        log=lines.append,
        runtime=runtime,
    )


class TestRegistration:
    def test_the_real_step_types_replace_the_placeholders(self, runtime: Runtime):
        types = step_types_of(runtime)
        assert isinstance(types["sast"], SastStep)
        assert isinstance(types["secrets-scan"], SecretsScanStep)
        for name in ("sast", "secrets-scan"):
            assert isinstance(types[name], StepType)

    def test_each_step_leaves_a_sarif_report(self):
        assert step_reports(Step(id="s.a", stage="s", name="a", uses="sast"), SastStep()).sarif == (
            "sast.sarif",
        )
        secrets = Step(id="s.b", stage="s", name="b", uses="secrets-scan")
        assert step_reports(secrets, SecretsScanStep()).sarif == ("secrets.sarif",)


class TestSastStep:
    def test_a_high_finding_fails_the_step_with_sarif_counts_and_a_recorded_scan(
        self, runtime: Runtime, tmp_path: Path
    ):
        workspace = vulnerable_repository(tmp_path / "workspace")
        lines: list[str] = []
        context = context_for(runtime, workspace, "sast", lines)
        outcome = SastStep().execute(context)
        assert not outcome.succeeded and outcome.exit_code == 1
        assert outcome.details["counts"]["high"] >= 10
        rules = {finding["rule"] for finding in outcome.details["findings"]}
        assert {"B602", "js-eval-injection", "java-sql-built-from-strings"} <= rules
        assert outcome.summary.startswith("SAST: ") and "blocking" in outcome.summary
        sarif = json.loads((workspace / "sast.sarif").read_text())
        jsonschema.Draft4Validator(SARIF_SCHEMA).validate(sarif)
        assert {run["tool"]["driver"]["name"] for run in sarif["runs"]} == {"bandit", "semgrep"}
        assert any("app/main.py:8" in line and "B602" in line for line in lines)
        with runtime.db.session() as session:
            [scan] = scans_of_run(session, context.run_id)
            assert (scan.kind, scan.status) == ("sast", "succeeded")
            assert len(findings_of_scans(session, [scan.id])) == len(outcome.details["findings"])

    def test_a_missing_scanner_fails_the_step_with_how_to_install_it(
        self, runtime: Runtime, tmp_path: Path
    ):
        workspace = write(tmp_path / "workspace", {"app.py": PYTHON})
        lines: list[str] = []
        context = context_for(runtime, workspace, "sast", lines, env={"PATH": str(tmp_path)})
        outcome = SastStep(tool_dirs=()).execute(context)
        assert not outcome.succeeded
        assert "bandit is not installed: pip install bandit==1.9.4" in outcome.summary
        assert "semgrep is not installed" in outcome.summary
        assert not (workspace / "sast.sarif").exists()
        with runtime.db.session() as session:
            [scan] = scans_of_run(session, context.run_id)
            assert scan.status == "failed" and "bandit is not installed" in (scan.error or "")

    def test_a_scanner_timing_out_fails_the_step_and_is_never_no_findings(
        self, runtime: Runtime, tmp_path: Path
    ):
        workspace = write(tmp_path / "workspace", {"app.py": PYTHON})
        lines: list[str] = []
        context = context_for(runtime, workspace, "sast", lines, with_={"timeout": 0.01})
        outcome = SastStep().execute(context)
        assert not outcome.succeeded
        assert "crashed: timed out after 0.01 s" in outcome.summary
        assert "findings" not in outcome.details

    def test_rules_named_by_the_step_must_exist(self, runtime: Runtime, tmp_path: Path):
        workspace = write(tmp_path / "workspace", {"app.py": PYTHON})
        context = context_for(runtime, workspace, "sast", [], with_={"rules": [".semgrep/"]})
        outcome = SastStep().execute(context)
        assert not outcome.succeeded and ".semgrep" in outcome.summary


def test_fail_on_sets_the_lowest_blocking_severity():
    from pavedroad.security.findings import Finding

    found = [
        Finding(tool="t", kind="sast", rule=r, severity=s, message="m")
        for r, s in (("a", "high"), ("b", "medium"), ("c", "low"))
    ]
    assert [f.rule for f in blocking(found, "high")] == ["a"]
    assert [f.rule for f in blocking(found, "medium")] == ["a", "b"]
    assert blocking(found, "none") == []


class TestSecretsScanStep:
    def test_a_secret_fails_the_step_and_is_never_shown_in_full(
        self, runtime: Runtime, tmp_path: Path
    ):
        workspace, secrets = secrets_repository(tmp_path / "workspace")
        lines: list[str] = []
        context = context_for(runtime, workspace, "secrets-scan", lines)
        outcome = SecretsScanStep().execute(context)
        assert not outcome.succeeded and outcome.exit_code == 1
        assert outcome.details["counts"]["critical"] >= 4
        sarif = (workspace / "secrets.sarif").read_text()
        jsonschema.Draft4Validator(SARIF_SCHEMA).validate(json.loads(sarif))
        with runtime.db.session() as session:
            [scan] = scans_of_run(session, context.run_id)
            stored = json.dumps([f.to_json() for f in findings_of_scans(session, [scan.id])])
        everything = "\n".join(
            [json.dumps(outcome.details), outcome.summary, sarif, stored, *lines]
        )
        for secret in secrets.values():
            assert secret not in everything

    def test_findings_in_the_baseline_do_not_fail_the_step(self, runtime: Runtime, tmp_path: Path):
        token = fake_secrets()["github-token"]
        workspace = write(tmp_path / "workspace", {"tests/fixture.py": f'T = "{token}"\n'})
        assert (
            CliRunner()
            .invoke(app, ["scan", "secrets", str(workspace), "--update-baseline"])
            .exit_code
            == 0
        )
        lines: list[str] = []
        outcome = SecretsScanStep().execute(context_for(runtime, workspace, "secrets-scan", lines))
        assert outcome.succeeded, outcome.summary
        assert outcome.details["accepted"] == 1 and outcome.details["findings"] == []
        assert any(BASELINE_FILE in line for line in lines)

    def test_a_broken_baseline_fails_the_step_and_says_how_to_fix_it(
        self, runtime: Runtime, tmp_path: Path
    ):
        workspace = write(tmp_path / "workspace", {BASELINE_FILE: "[", "a.py": "x = 1\n"})
        lines: list[str] = []
        outcome = SecretsScanStep().execute(context_for(runtime, workspace, "secrets-scan", lines))
        assert not outcome.succeeded and "is not JSON" in outcome.summary
        assert any(line.startswith("hint:") and "--update-baseline" in line for line in lines)


class TestCommands:
    def test_scan_secrets_exits_1_and_prints_only_masked_secrets(self, tmp_path: Path):
        workspace, secrets = secrets_repository(tmp_path / "workspace")
        result = CliRunner().invoke(app, ["scan", "secrets", str(workspace)])
        assert result.exit_code == 1
        assert "settings.py:3" in result.output and "github-token" in result.output
        for secret in secrets.values():
            assert secret not in result.output

    def test_scan_secrets_with_the_baseline_updated_exits_0(self, tmp_path: Path):
        workspace, _ = secrets_repository(tmp_path / "workspace")
        runner = CliRunner()
        assert (
            runner.invoke(app, ["scan", "secrets", str(workspace), "--update-baseline"]).exit_code
            == 0
        )
        assert runner.invoke(app, ["scan", "secrets", str(workspace)]).exit_code == 0

    def test_scan_sast_writes_sarif_and_exits_1_on_a_high_finding(self, tmp_path: Path):
        workspace = write(tmp_path / "workspace", {"app/main.py": PYTHON})
        sarif = tmp_path / "out.sarif"
        result = CliRunner().invoke(app, ["scan", "sast", str(workspace), "--sarif", str(sarif)])
        assert result.exit_code == 1, result.output
        assert "app/main.py:8" in result.output and "B602" in result.output
        assert json.loads(sarif.read_text())["version"] == "2.1.0"

    def test_scan_sast_exits_2_when_a_scanner_cannot_run(self, tmp_path: Path):
        workspace = write(tmp_path / "workspace", {"app/main.py": PYTHON})
        result = CliRunner().invoke(app, ["scan", "sast", str(workspace), "--timeout", "0.01"])
        assert result.exit_code == 2
        assert "crashed: timed out after 0.01 s" in result.output
