"""``pavedroad permissions``: check with the deciding rule and trace, list, validate."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pavedroad.catalog import service
from pavedroad.cli import app
from pavedroad.config import get_settings
from pavedroad.core.actors import Actor
from pavedroad.runtime import build_runtime
from tests.helpers import component, group, write, write_entities
from tests.permissions.conftest import user

runner = CliRunner()


@pytest.fixture
def location_id(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A catalog with dana (team-checkout) and lee (a team lead); dana registered it."""
    monkeypatch.setenv("PAVEDROAD_DATABASE_URL", database_url)
    monkeypatch.setenv("PAVEDROAD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    path = write_entities(
        tmp_path / "catalog-info.yaml",
        group("team-checkout"),
        group("checkout-team-leads"),
        user("user:default/dev.dana", ["team-checkout"]),
        user("user:default/lee.lead", ["checkout-team-leads"]),
        component("order-service", owner="team-checkout"),
        component("payment-service", owner="team-payments"),
    )
    runtime = build_runtime(get_settings(), load_entry_points=False)
    with runtime.db.session() as session:
        [result] = service.register_locations(
            session, runtime.catalog, [("file", str(path))], actor=Actor("user:default/dev.dana")
        )
        found = result.location.id
    runtime.close()
    yield found
    get_settings.cache_clear()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["permissions", *args])
    return result.exit_code, result.stdout, result.stderr


class TestCheck:
    def test_allowed_exits_0_with_the_rule_and_the_trace(self, location_id: str) -> None:
        code, out, _ = run(
            "check", "dev.dana", "catalog.entity.delete", "component:default/order-service"
        )
        assert code == 0
        assert "allow catalog.entity.delete for user:default/dev.dana (rule: owners-edit" in out
        assert "you own it through group:default/team-checkout" in out
        assert "rule 7 'owners-edit-what-they-own'" in out
        assert "decision: Allowed by rule 'owners-edit-what-they-own'" in out

    def test_denied_exits_1_saying_who_owns_it(self, location_id: str) -> None:
        code, out, _ = run(
            "check", "user:default/dev.dana", "catalog.entity.delete", "payment-service"
        )
        assert code == 1
        assert out.startswith("deny catalog.entity.delete")
        assert "applies only to its owners (group:default/team-payments)" in out

    def test_without_a_resource_a_conditional_answer_exits_1(self, location_id: str) -> None:
        code, out, _ = run("check", "dev.dana", "catalog.entity.delete")
        assert code == 1
        assert out.startswith("conditional catalog.entity.delete")
        assert "only where is_entity_owner" in out

    def test_a_location_is_named_by_its_id(self, location_id: str) -> None:
        code, out, _ = run("check", "dev.dana", "catalog.location.delete", location_id)
        assert code == 0, out
        assert "you registered it" in out
        code, _, _ = run("check", "lee.lead", "catalog.location.delete", location_id)
        assert code == 1

    def test_a_deployment_is_written_as_key_values(self, location_id: str) -> None:
        staging = "environment=staging,component=component:default/order-service"
        assert run("check", "lee.lead", "deployment.trigger", staging)[0] == 0
        assert run("check", "dev.dana", "deployment.trigger", staging)[0] == 1

    def test_json_output_carries_the_decision_and_the_trace(self, location_id: str) -> None:
        code, out, _ = run("check", "dev.dana", "secret.read", "-o", "json")
        assert code == 1
        answer = json.loads(out)
        assert (answer["user"], answer["result"], answer["rule"]) == (
            "user:default/dev.dana",
            "deny",
            "default",
        )
        assert answer["trace"][-1].startswith("decision: Denied: no rule allows secret.read")

    def test_an_unknown_permission_is_refused_with_a_suggestion(self, location_id: str) -> None:
        code, _, err = run("check", "dev.dana", "catalog.entity.delet")
        assert code == 1
        assert "unknown permission 'catalog.entity.delet'; did you mean" in err

    def test_a_user_outside_the_catalog_is_noted(self, location_id: str) -> None:
        code, _, err = run("check", "someone.new", "catalog.entity.read", "order-service")
        assert code == 0
        assert "user:default/someone.new is not in the catalog" in err


class TestListAndValidate:
    def test_list_shows_every_permission_with_its_resource_type(self, location_id: str) -> None:
        code, out, _ = run("list", "-o", "json")
        assert code == 0
        rows = {row["name"]: row for row in json.loads(out)}
        assert rows["catalog.entity.delete"]["resourceType"] == "catalog-entity"
        assert rows["deployment.trigger"]["resourceType"] == "deployment"
        assert rows["secret.read"]["resourceType"] is None
        assert all(row["description"] for row in rows.values())

    def test_validate_the_default_policy(self, location_id: str) -> None:
        code, _, err = run("validate")
        assert code == 0
        assert "default_policy.yaml: 11 rule(s), default deny: valid" in err

    def test_validate_a_bad_file_prints_each_problem_with_line_and_column(
        self, location_id: str, tmp_path: Path
    ) -> None:
        path = write(
            tmp_path / "policy.yaml",
            """
            rules:
              - name: readers
                permissions: [catalog.entity.read]
                if: {environment_is: dev}
                decision: alow
            """,
        )
        code, out, err = run("validate", str(path))
        assert code == 1
        assert f"{path}:4:10: rule 1 'readers': environment_is is about deployment" in out
        assert f"{path}:5:15: rule 1 'readers': decision must be allow or deny" in out
        assert "2 problem(s): invalid" in err
