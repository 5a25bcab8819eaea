"""A scanner that is missing, crashes or times out is reported as such, never as "no findings"."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pavedroad.security.sast import run_bandit, run_semgrep, scan_sast
from pavedroad.security.sast.scan import TOOL_DIRS
from pavedroad.security.scanners import (
    ScannerCrashedError,
    ScannerNotInstalledError,
    ScannersFailedError,
    search_path,
)
from tests.security.code_fixtures import GO, PYTHON, write

ENV = {"PATH": os.environ.get("PATH", "")}
TOOLS = search_path(ENV["PATH"], extra=TOOL_DIRS)


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    return write(tmp_path / "repository", {"app/main.py": PYTHON, "main.go": GO})


def test_bandit_missing_from_the_path_says_how_to_install_it(repository: Path, tmp_path: Path):
    with pytest.raises(ScannerNotInstalledError) as error:
        run_bandit(repository, path=str(tmp_path / "empty"), env=ENV, timeout_seconds=30)
    assert error.value.message.startswith("bandit is not installed: pip install bandit==1.9.4")


def test_semgrep_missing_from_the_path_says_how_to_install_it(repository: Path, tmp_path: Path):
    with pytest.raises(ScannerNotInstalledError) as error:
        run_semgrep(repository, path=str(tmp_path / "empty"), env=ENV, timeout_seconds=30)
    assert error.value.message.startswith("semgrep is not installed: make setup")
    assert "semgrep==1.187.0" in error.value.message


def test_both_scanners_missing_names_both(repository: Path, tmp_path: Path):
    with pytest.raises(ScannersFailedError) as error:
        scan_sast(repository, env={"PATH": str(tmp_path / "empty")}, tool_dirs=())
    assert "bandit is not installed" in error.value.message
    assert "semgrep is not installed" in error.value.message


def test_a_python_file_bandit_cannot_parse_is_a_crash_not_a_clean_scan(repository: Path):
    write(repository, {"app/broken.py": "def broken(:\n    pass\n"})
    with pytest.raises(ScannerCrashedError) as error:
        run_bandit(repository, path=TOOLS, env=ENV, timeout_seconds=60)
    assert error.value.message == (
        "bandit crashed: could not scan 1 file(s), first app/broken.py: "
        "syntax error while parsing AST from file"
    )


def test_a_broken_bandit_configuration_is_a_crash(repository: Path):
    write(repository, {".bandit.yaml": "skips: [unclosed\n"})
    with pytest.raises(ScannerCrashedError) as error:
        run_bandit(repository, path=TOOLS, env=ENV, timeout_seconds=60)
    assert error.value.message.startswith("bandit crashed: exit code 2")


def test_an_invalid_semgrep_rules_file_is_a_crash(repository: Path):
    rules = write(repository, {"rules/bad.yaml": "rules:\n  - id: x\n    pattern: [\n"})
    with pytest.raises(ScannerCrashedError) as error:
        run_semgrep(
            repository,
            path=TOOLS,
            env=ENV,
            timeout_seconds=120,
            extra_rules=[rules / "rules" / "bad.yaml"],
        )
    assert error.value.message.startswith("semgrep crashed: exit code 7")
    assert "bad.yaml" in error.value.message


def test_a_scanner_past_its_time_limit_is_stopped_and_reported(repository: Path):
    with pytest.raises(ScannerCrashedError) as error:
        run_semgrep(repository, path=TOOLS, env=ENV, timeout_seconds=0.01)
    assert error.value.message == (
        "semgrep crashed: timed out after 0.01 s and was stopped (raise `timeout`)"
    )


def test_bandit_reads_the_repositorys_own_configuration(repository: Path):
    write(repository, {"pyproject.toml": "[tool.bandit]\nskips = ['B602']\n"})
    result = run_bandit(repository, path=TOOLS, env=ENV, timeout_seconds=60)
    rules = {finding.rule for finding in result.findings}
    assert "B602" not in rules
    assert {"B506", "B324"} <= rules
