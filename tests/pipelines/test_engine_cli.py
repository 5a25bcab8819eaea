"""``pavedroad pipeline run|logs|list|cancel`` from the terminal, as the operator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pavedroad.cli import app
from pavedroad.config import get_settings
from tests.pipelines.engine_support import make_repository, pipeline_file

runner = CliRunner()


@pytest.fixture(autouse=True)
def environment(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    monkeypatch.setenv("PAVEDROAD_DATABASE_URL", database_url)
    monkeypatch.setenv("PAVEDROAD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PAVEDROAD_PIPELINES__WORKERS_IN_SERVER", "0")
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_run_wait_follows_the_log_and_exits_1_when_the_run_fails(tmp_path: Path) -> None:
    repository = make_repository(
        tmp_path,
        pipeline_file(
            "      - {name: hello, run: 'echo hello'}\n      - {name: broken, run: 'exit 5'}\n"
        ),
    )

    result = runner.invoke(app, ["pipeline", "run", repository, "--wait"])

    assert result.exit_code == 1
    assert "hello\n" in result.stdout
    assert "succeeded build.hello" in result.stderr
    assert "failed build.broken — exit code 5" in result.stderr
    assert "run failed: step build.broken failed: exit code 5" in result.stderr


def test_logs_of_a_finished_run_and_the_run_list(tmp_path: Path) -> None:
    repository = make_repository(tmp_path, pipeline_file("      - {name: hello, run: 'echo hi'}\n"))
    started = runner.invoke(app, ["pipeline", "run", repository, "--wait"])
    assert started.exit_code == 0, started.stderr
    run_id = started.stdout.splitlines()[0]

    logs = runner.invoke(app, ["pipeline", "logs", run_id])
    listed = runner.invoke(app, ["pipeline", "list", "--status", "succeeded", "-o", "json"])

    assert logs.exit_code == 0 and logs.stdout == "hi\n"
    assert "run succeeded" in logs.stderr
    assert [run["id"] for run in json.loads(listed.stdout)] == [run_id]


def test_a_rejected_run_prints_the_file_s_problems_with_their_line(tmp_path: Path) -> None:
    repository = make_repository(
        tmp_path, {".pavedroad/pipeline.yaml": "stages:\n  - name: build\n    steps: 3\n"}
    )

    result = runner.invoke(app, ["pipeline", "run", repository])

    assert result.exit_code == 1
    assert "rejected" in result.stderr
    assert ".pavedroad/pipeline.yaml:3:" in result.stderr


def test_cancel_a_queued_run(tmp_path: Path) -> None:
    repository = make_repository(tmp_path, pipeline_file("      - {name: hello, run: 'echo hi'}\n"))
    run_id = runner.invoke(app, ["pipeline", "run", repository]).stdout.strip()

    cancelled = runner.invoke(app, ["pipeline", "cancel", run_id])
    logs = runner.invoke(app, ["pipeline", "logs", run_id, "-f"])

    assert cancelled.exit_code == 0 and cancelled.stdout == f"run {run_id}: cancelled\n"
    assert logs.exit_code == 1
    assert "run cancelled: cancelled by system:cli/" in logs.stderr


def test_an_unknown_run_is_named(tmp_path: Path) -> None:
    result = runner.invoke(app, ["pipeline", "logs", "no-such-run"])

    assert result.exit_code == 1
    assert "There is no pipeline run no-such-run" in result.stderr
