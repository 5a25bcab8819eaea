"""The secrets baseline: accepted findings stop blocking, new ones still do, and the file holds
no secret."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pavedroad.security.secrets import BASELINE_FILE, BaselineError, scan_secrets
from tests.security.code_fixtures import fake_secrets, write


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    token = fake_secrets()["github-token"]
    return write(tmp_path / "repository", {"tests/fixture.py": f'TOKEN = "{token}"\n'})


def test_update_baseline_accepts_current_findings_without_storing_them(repository: Path):
    first = scan_secrets(repository, update_baseline=True)
    assert [f.rule for f in first.accepted] == ["github-token"] and first.new == []
    text = (repository / BASELINE_FILE).read_text()
    assert fake_secrets()["github-token"] not in text
    entry = next(iter(json.loads(text)["accepted"].values()))
    assert entry["file"] == "tests/fixture.py" and entry["preview"].startswith("GitHub token ghp_…")
    again = scan_secrets(repository)
    assert again.new == [] and len(again.accepted) == 1


def test_a_new_secret_after_the_baseline_still_blocks(repository: Path):
    scan_secrets(repository, update_baseline=True)
    write(repository, {"app.py": f'KEY = "{fake_secrets()["gitlab-token"]}"\n'})
    result = scan_secrets(repository)
    assert [f.rule for f in result.new] == ["gitlab-token"]


def test_the_baseline_survives_code_moving_and_keeps_reasons(repository: Path):
    scan_secrets(repository, update_baseline=True)
    path = repository / BASELINE_FILE
    document = json.loads(path.read_text())
    key = next(iter(document["accepted"]))
    document["accepted"][key]["reason"] = "revoked token used as a fixture"
    path.write_text(json.dumps(document))
    fixture = repository / "tests/fixture.py"
    fixture.write_text("\n\n" + fixture.read_text())
    assert scan_secrets(repository).new == []
    scan_secrets(repository, update_baseline=True)
    assert json.loads(path.read_text())["accepted"][key]["reason"].startswith("revoked")


def test_a_baseline_that_is_not_json_names_the_file_and_the_fix(repository: Path):
    write(repository, {BASELINE_FILE: "{not json"})
    with pytest.raises(BaselineError) as error:
        scan_secrets(repository)
    assert BASELINE_FILE in error.value.message
    assert "--update-baseline" in error.value.details["hint"]


def test_a_baseline_of_the_wrong_shape_is_rejected(repository: Path):
    write(repository, {BASELINE_FILE: '{"version": 1, "accepted": []}'})
    with pytest.raises(BaselineError, match='an "accepted" object keyed by fingerprint'):
        scan_secrets(repository)
