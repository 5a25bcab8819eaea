"""``.pavedroad/deploy.yaml``: read at the commit, checked, every problem with its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from pavedroad.config import Settings
from pavedroad.deploy.component_config import (
    DeployConfigInvalid,
    analysis_config,
    parse_deploy_config,
    read_deploy_config,
    target_config,
)
from pavedroad.pipelines import workspace
from tests.conftest import git
from tests.pipelines.engine_support import make_repository

GOOD = """process:
  build: make install
  command: .venv/bin/python -m myservice
  health: /healthz
  startup_seconds: 30
gitops:
  repository: file:///srv/git/deploys.git
  path: apps/myservice/kustomization.yaml
  image: registry.example/myservice
analysis:
  mode: shadow
  queries:
    - name: queue backlog
      promql: sum(queue_depth{app="myservice"})
      max: 100
"""


def problems(text: str) -> list[dict[str, object]]:
    with pytest.raises(DeployConfigInvalid) as error:
        parse_deploy_config(text, Settings())
    return error.value.problems


class TestParse:
    def test_the_documented_file_is_accepted(self) -> None:
        config = parse_deploy_config(GOOD, Settings())
        assert config["process"]["command"] == ".venv/bin/python -m myservice"
        assert config["analysis"]["queries"][0]["max"] == 100

    def test_an_unknown_key_names_its_line_and_the_close_match(self) -> None:
        found = problems("process:\n  command: x\n  comand: y\n")
        assert found[0]["line"] == 3
        assert "unknown key 'comand'" in str(found[0]["message"])
        assert found[0]["hint"] == "did you mean `command`?"

    def test_wrong_types_are_each_reported(self) -> None:
        found = problems(
            "process:\n  command: 3\n  startup_seconds: soon\nanalysis:\n  mode: loud\n"
        )
        assert [p["line"] for p in found] == [2, 3, 5]

    def test_a_query_without_a_threshold_is_refused(self) -> None:
        found = problems("analysis:\n  queries:\n    - name: q\n      promql: up\n")
        assert "needs a threshold" in str(found[0]["message"]) and found[0]["line"] == 3

    def test_bad_yaml_names_its_line(self) -> None:
        found = problems("process:\n  command: [unclosed\n")
        assert found[0]["line"] is not None

    def test_duplicate_keys_are_refused(self) -> None:
        assert problems("process:\n  command: a\n  command: b\n")

    def test_an_empty_file_is_no_settings(self) -> None:
        assert parse_deploy_config("", Settings()) == {}


class TestAtCommit:
    def test_read_at_the_commit_and_missing_is_empty(self, tmp_path: Path) -> None:
        settings = Settings(data_dir=tmp_path / "data")
        url = make_repository(tmp_path, {".pavedroad/deploy.yaml": GOOD})
        work = tmp_path / "work" / "service"
        first = git("rev-parse", "HEAD", cwd=work).strip()
        git("rm", "--quiet", ".pavedroad/deploy.yaml", cwd=work)
        git("commit", "--quiet", "-m", "no deploy file", cwd=work)
        git("push", "--quiet", "origin", "main", cwd=work)
        second = git("rev-parse", "HEAD", cwd=work).strip()
        workspace.fetch(settings, url)
        assert read_deploy_config(settings, url, first)["gitops"]["image"].endswith("myservice")
        assert read_deploy_config(settings, url, second) == {}


class TestMerging:
    def test_the_component_is_merged_over_the_environment_key_by_key(self) -> None:
        merged = target_config(
            {"gitops": {"path": "apps/x.yaml"}},
            {"gitops": {"repository": "file:///srv/deploys.git", "path": "default.yaml"}},
        )
        assert merged == {
            "gitops": {"repository": "file:///srv/deploys.git", "path": "apps/x.yaml"}
        }

    def test_analysis_takes_the_component_over_the_platform(self) -> None:
        config = analysis_config(Settings(), {"analysis": {"mode": "shadow"}})
        assert config["mode"] == "shadow" and config["max_error_rate"] == 0.05
