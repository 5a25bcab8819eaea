"""The ``sast`` and ``secrets-scan`` steps in a real pipeline run, end to end: a git repository,
the engine, the workspace clone, the step log and the collected SARIF reports."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from pavedroad.pipelines.models import PipelineArtifact, PipelineStep
from pavedroad.runtime import Runtime
from tests.pipelines.engine_support import (
    log_of,
    make_repository,
    run_now,
    start,
    steps_of,
)
from tests.security.code_fixtures import PYTHON, fake_secrets

PIPELINE = """\
stages:
  - name: security
    parallel: true
    steps:
      - uses: sast
      - uses: secrets-scan
"""


def test_a_vulnerable_repository_fails_both_scans_with_their_reports(
    runtime: Runtime, tmp_path: Path
):
    token = fake_secrets()["github-token"]
    files = {
        ".pavedroad/pipeline.yaml": PIPELINE,
        "app/main.py": PYTHON,
        "app/settings.py": f'GITHUB_TOKEN = "{token}"\n',
    }
    run_id = start(runtime, make_repository(tmp_path, files))

    assert run_now(runtime, run_id) == "failed"

    steps = steps_of(runtime, run_id)
    sast, secrets = steps["security.sast"], steps["security.secrets-scan"]
    assert sast.status == "failed" and "blocking" in (sast.summary or "")
    assert secrets.status == "failed" and (secrets.summary or "").startswith("secrets: 1 high")
    assert "app/main.py:8" in log_of(runtime, run_id, "security.sast")
    secrets_log = log_of(runtime, run_id, "security.secrets-scan")
    assert "app/settings.py:1" in secrets_log and token not in secrets_log
    with runtime.db.read_session() as session:
        reports = {
            (kind, path)
            for kind, path in session.execute(
                select(PipelineArtifact.kind, PipelineArtifact.path)
                .join(PipelineStep, PipelineStep.id == PipelineArtifact.step_id)
                .where(PipelineStep.run_id == run_id)
            )
        }
    assert {("sarif", "sast.sarif"), ("sarif", "secrets.sarif")} <= reports
