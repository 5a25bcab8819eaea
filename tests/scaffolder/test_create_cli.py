"""``pavedroad create``: a template run from the terminal, with its log as it happens."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pavedroad.cli import app
from pavedroad.config import get_settings
from tests.scaffolder.conftest import values

runner = CliRunner()


@pytest.fixture(autouse=True)
def environment(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny_template: Path
) -> Iterator[Path]:
    monkeypatch.setenv("PAVEDROAD_DATABASE_URL", database_url)
    monkeypatch.setenv("PAVEDROAD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def flags(given: dict[str, object]) -> list[str]:
    return [part for name, value in given.items() for part in ("--set", f"{name}={value}")]


def test_a_run_prints_its_steps_and_the_output_links(tmp_path: Path) -> None:
    result = runner.invoke(app, ["create", "tiny-service", *flags(values(tmp_path))])
    assert result.exit_code == 0, result.stderr
    assert "completed Publish" in result.stderr
    assert "In the catalog: /catalog/default/component/ledger" in result.stdout
    assert (tmp_path / "data" / "repositories" / "ledger.git").is_dir()


def test_a_dry_run_lists_the_files_and_can_write_them(tmp_path: Path) -> None:
    target = tmp_path / "preview"
    args = [
        "create",
        "tiny-service",
        *flags(values(tmp_path)),
        "--dry-run",
        "--output",
        str(target),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    assert "catalog-info.yaml" in result.stdout
    assert "name: ledger" in (target / "catalog-info.yaml").read_text()
    assert not (tmp_path / "data" / "repositories" / "ledger.git").exists()


def test_missing_required_parameters_are_named_outside_a_terminal() -> None:
    result = runner.invoke(app, ["create", "tiny-service", "--set", "name=ledger"])
    assert result.exit_code == 1
    assert "missing required parameters: owner" in result.stderr


def test_bad_values_are_refused_per_field(tmp_path: Path) -> None:
    result = runner.invoke(app, ["create", "tiny-service", *flags(values(tmp_path, name="Bad!"))])
    assert result.exit_code == 1 and "name:" in result.stderr


def test_a_failed_run_exits_1_with_the_failing_step(tmp_path: Path) -> None:
    given = values(tmp_path, repoUrl="file:///nowhere-allowed/x.git")
    result = runner.invoke(app, ["create", "tiny-service", *flags(given)])
    assert result.exit_code == 1 and "publish" in result.stderr


def test_a_values_file_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "values.yaml"
    bad.write_text("- just\n- a list\n")
    result = runner.invoke(app, ["create", "tiny-service", "--values", str(bad)])
    assert result.exit_code == 1 and "no name: value pairs" in result.stderr
