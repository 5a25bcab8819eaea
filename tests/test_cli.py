"""The ``pavedroad`` command as people and CI jobs use it: exit codes, messages, formats."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pavedroad.cli import app
from pavedroad.config import get_settings
from tests.helpers import component, group, write, write_entities

runner = CliRunner()


@pytest.fixture
def environment(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    monkeypatch.setenv("PAVEDROAD_DATABASE_URL", database_url)
    monkeypatch.setenv("PAVEDROAD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


class TestValidate:
    def test_a_valid_file_exits_0(self, environment: Path) -> None:
        path = write_entities(environment / "catalog-info.yaml", component("svc"), group("team-a"))
        code, _, err = run("catalog", "validate", str(path))
        assert code == 0
        assert "2 entities, 0 problem(s)" in err

    def test_an_invalid_file_exits_1_with_file_line_column_field_and_fix(
        self, environment: Path
    ) -> None:
        bad = component("svc")
        del bad["spec"]["owner"]
        path = write_entities(environment / "catalog-info.yaml", bad)
        code, out, _ = run("catalog", "validate", str(path))
        assert code == 1
        assert f"{path}:5:1: (document 1) spec.owner is required for kind Component" in out
        assert 'e.g. "owner: team-payments"' in out

    def test_json_output_for_machines(self, environment: Path) -> None:
        path = write(environment / "c.yaml", "kind: Component\nmetadata:\n  name: x\n  name: y\n")
        code, out, _ = run("catalog", "validate", "--format", "json", str(path))
        assert code == 1
        [problem] = json.loads(out)
        assert (problem["line"], problem["category"]) == (4, "yaml-syntax")

    def test_a_missing_file_is_an_error_not_a_pass(self, environment: Path) -> None:
        code, out, _ = run("catalog", "validate", str(environment / "absent.yaml"))
        assert code == 1
        assert "does not exist" in out


class TestRegisterListGet:
    def test_register_then_list_and_get(self, environment: Path) -> None:
        write_entities(environment / "repo/a.yaml", component("checkout"), group("team-a"))
        write_entities(environment / "repo/b.yaml", component("billing", owner="team-b"))
        code, out, _ = run("catalog", "register", str(environment / "repo") + "/*.yaml")
        assert code == 0, out
        assert "3 created" in out

        code, out, _ = run("catalog", "list", "--kind", "component", "-o", "json")
        assert code == 0
        assert sorted(e["metadata"]["name"] for e in json.loads(out)) == ["billing", "checkout"]

        code, out, _ = run("catalog", "list", "--filter", "spec.owner=team-b")
        assert "billing" in out and "checkout" not in out

        code, out, _ = run("catalog", "get", "component:checkout", "-o", "json")
        entity = json.loads(out)
        assert {"type": "ownedBy", "targetRef": "group:default/team-a"} in entity["relations"]

    def test_registering_a_broken_file_exits_1_and_shows_why(self, environment: Path) -> None:
        path = write_entities(environment / "x.yaml", component("x", dependsOn=["db"]))
        code, out, _ = run("catalog", "register", str(path))
        assert code == 1
        assert "spec.dependsOn[0]" in out and "resource:db" in out
        code, out, _ = run("catalog", "errors", "-o", "json")
        [error] = json.loads(out)
        assert error["category"] == "entity-ref"

    def test_an_unreadable_target_exits_1_with_a_hint(self, environment: Path) -> None:
        code, _, err = run("catalog", "register", str(environment / "nothing.yaml"))
        assert code == 1
        assert "does not exist" in err and "hint:" in err

    def test_dry_run_stores_nothing(self, environment: Path) -> None:
        path = write_entities(environment / "x.yaml", component("x"))
        code, out, _ = run("catalog", "register", "--dry-run", str(path))
        assert code == 0 and "component:default/x" in out
        code, out, _ = run("catalog", "locations", "-o", "json")
        assert json.loads(out) == []

    def test_refresh_and_unregister(self, environment: Path) -> None:
        path = write_entities(environment / "x.yaml", component("x"))
        run("catalog", "register", str(path))
        write_entities(path, component("x"), component("y"))
        code, out, _ = run("catalog", "refresh", "--all")
        assert code == 0 and "1 created" in out
        code, out, _ = run("catalog", "unregister", str(path))
        assert code == 0 and "2 entities deleted" in out
        code, out, _ = run("catalog", "get", "component:x")
        assert code == 1

    def test_getting_an_unknown_entity_exits_1(self, environment: Path) -> None:
        code, _, err = run("catalog", "get", "component:nope")
        assert code == 1
        assert "No entity named component:default/nope" in err


def test_the_version_and_the_schema_revision(environment: Path) -> None:
    code, out, _ = run("--version")
    assert code == 0 and out.strip()
    code, out, _ = run("db", "current")
    assert code == 0
    current, head = (line.split()[-1] for line in out.strip().splitlines())
    assert current == head


def test_discover_is_a_catalog_command(environment: Path) -> None:
    code, out, _ = run("catalog", "discover", "--help")
    assert code == 0 and "--register" in out
