"""``pavedroad demo-rollback`` end to end: a real git repository, the real service and runner,
the process target with its proxy and a real load; it rolls 1.1.0 back and exits 0."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pavedroad.cli import app
from pavedroad.config import get_settings
from pavedroad.deploy.targets.local_processes import is_alive

runner = CliRunner()


@pytest.fixture
def environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    data = tmp_path / "data"
    monkeypatch.setenv("PAVEDROAD_DATABASE_URL", f"sqlite:///{tmp_path / 'pavedroad.db'}")
    monkeypatch.setenv("PAVEDROAD_DATA_DIR", str(data))
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    yield data
    get_settings.cache_clear()


def test_the_broken_version_is_rolled_back_and_the_good_one_serves_again(
    environment: Path,
) -> None:
    result = runner.invoke(app, ["demo-rollback"])
    out = result.stdout
    assert result.exit_code == 0, out + result.stderr
    assert "deployed 1.0.0 to dev: succeeded" in out
    assert "deployed 1.1.0 to dev: rolled_back" in out
    assert "ROLLED BACK: rolled back to 1.0.0: error rate 100.0% above 5.0%" in out
    assert "check: error_rate, threshold 5.0%" in out
    assert len(re.findall(r"^    \S+  100\.0%  bad$", out, re.MULTILINE)) >= 2
    assert re.search(r"now live: 1\.0\.0 \(rollback\); GET \S+/ -> 200 version 1\.0\.0", out)
    assert re.search(r"load through the proxy: \{200: \d+, 500: \d+\}", out)
    # the repository and its catalog entry are in a scratch folder under the data directory
    [repository] = (environment / "demo-rollback").glob("*/rollback-demo")
    assert (repository / ".pavedroad" / "deploy.yaml").is_file()
    assert (environment / "demo-rollback" / "catalog-info.yaml").is_file()
    # every service process it started is stopped
    for log in (environment / "deployments").glob("*/service.log"):
        assert "listening on" in log.read_text()
    pids = [int(pid) for pid in re.findall(r'"pid": (\d+)', _states(environment))]
    assert pids and not any(is_alive(pid) for pid in pids)


def _states(environment: Path) -> str:
    with sqlite3.connect(environment.parent / "pavedroad.db") as connection:
        rows = connection.execute("SELECT target_state FROM deployments").fetchall()
    return " ".join(str(row[0]) for row in rows)
