"""The CycloneDX document: what it holds, that it passes the 1.6 schema, that a broken one is
reported as broken, and ``pavedroad scan sbom``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pavedroad.cli import app
from pavedroad.security.sbom import (
    InvalidSbomError,
    build_bom,
    check_bom,
    generate_sbom,
    read_inventory,
    schema_errors,
)
from tests.security.test_sbom_readers import FIXTURES, SKELETON_LOCK

REF = "component:default/storefront"


def test_the_document_has_the_component_every_package_and_the_graph() -> None:
    inventory = read_inventory(FIXTURES / "npm")

    document = build_bom(inventory.packages, component_ref=REF, version="2.3.0", commit="abc123")

    assert schema_errors(document) == []
    assert document["specVersion"] == "1.6"
    metadata = document["metadata"]
    assert metadata["component"]["bom-ref"] == REF
    assert metadata["component"]["version"] == "2.3.0"
    assert {"name": "pavedroad:commit", "value": "abc123"} in metadata["component"]["properties"]
    assert metadata["tools"]["components"][0]["name"] == "pavedroad"
    components = {c["bom-ref"]: c for c in document["components"]}
    assert len(components) == 8
    express = components["pkg:npm/express@4.17.1"]
    assert express["purl"] == "pkg:npm/express@4.17.1"
    assert express["evidence"]["occurrences"] == [{"location": "package-lock.json", "line": 32}]
    scoped = components["pkg:npm/%40types/node@20.4.5"]
    assert (scoped["group"], scoped["name"]) == ("@types", "node")
    graph = {d["ref"]: set(d.get("dependsOn", [])) for d in document["dependencies"]}
    assert graph[REF] == {
        "pkg:npm/express@4.17.1",
        "pkg:npm/lodash@4.17.15",
        "pkg:npm/jest-mock@29.6.2",
    }
    assert graph["pkg:npm/debug@2.6.9"] == {"pkg:npm/ms@2.0.0"}


def test_without_direct_information_the_component_depends_on_the_roots_of_the_graph() -> None:
    inventory = read_inventory(FIXTURES / "gradle")

    document = build_bom(inventory.packages, component_ref=REF)

    graph = {d["ref"]: d.get("dependsOn", []) for d in document["dependencies"]}
    assert len(graph[REF]) == 4


@pytest.mark.parametrize("fixture", sorted(p.name for p in FIXTURES.iterdir()))
def test_every_formats_sbom_passes_the_schema(fixture: str) -> None:
    generated = generate_sbom(FIXTURES / fixture, component_ref=REF)

    assert generated.ok, generated.problems
    assert generated.document is not None
    assert len(generated.document["components"]) == len(generated.inventory.packages) > 0


def test_the_python_service_templates_sbom_passes_the_schema() -> None:
    generated = generate_sbom(SKELETON_LOCK, component_ref="component:default/python-service")

    assert generated.ok, generated.problems
    assert generated.document is not None
    check_bom(generated.document)
    assert len(generated.document["components"]) == 50


def test_a_document_that_breaks_the_schema_is_reported_with_where() -> None:
    document = build_bom(read_inventory(FIXTURES / "uv").packages, component_ref=REF)
    document["components"][0]["purl"] = 42
    document["components"][1]["type"] = "gadget"
    document["specVersion"] = "1.6"
    document["unexpected"] = True

    errors = schema_errors(document)

    assert any(e.startswith("components/0/purl: 42 is not of type 'string'") for e in errors)
    assert any(e.startswith("components/1/type:") for e in errors)
    assert any("unexpected" in e for e in errors)  # the strict schema: no unknown fields
    with pytest.raises(InvalidSbomError) as raised:
        check_bom(document)
    assert raised.value.errors == errors
    assert "fails the CycloneDX 1.6 schema" in raised.value.message


def test_text_that_is_not_json_is_reported_as_such() -> None:
    assert schema_errors('{"bomFormat": ') == ["not JSON: Expecting value (line 1)"]


class TestScanSbomCommand:
    def test_writes_a_valid_sbom_of_a_folder(self, tmp_path: Path) -> None:
        output = tmp_path / "sbom.json"

        result = CliRunner().invoke(
            app,
            ["scan", "sbom", str(FIXTURES / "poetry"), "--output", str(output),
             "--component", "component:default/ledger", "--version", "1.4.0"],
        )  # fmt: skip

        assert result.exit_code == 0, result.output
        document = json.loads(output.read_text())
        assert schema_errors(document) == []
        assert document["metadata"]["component"]["bom-ref"] == "component:default/ledger"
        assert len(document["components"]) == 9
        assert "9 packages" in result.output

    def test_prints_to_stdout_and_lists_unpinned_requirements(self, tmp_path: Path) -> None:
        (tmp_path / "requirements.txt").write_text("django==2.2.0\nrequests>=2\n")

        result = CliRunner().invoke(app, ["scan", "sbom", str(tmp_path)])

        assert result.exit_code == 0
        assert "unpinned: requirements.txt:2: requests>=2" in result.stderr
        assert json.loads(result.stdout)["components"][0]["purl"] == "pkg:pypi/django@2.2.0"

    def test_a_lockfile_that_does_not_parse_exits_1_with_the_problem(self, tmp_path: Path) -> None:
        (tmp_path / "requirements.txt").write_text("django==2.2.0\n")
        (tmp_path / "poetry.lock").write_text('[[package]]\nname = "x"\nversion = \n')
        output = tmp_path / "sbom.json"

        result = CliRunner().invoke(app, ["scan", "sbom", str(tmp_path), "-o", str(output)])

        assert result.exit_code == 1
        assert "poetry.lock:3: not valid TOML" in result.stderr
        assert "No SBOM written" in result.stderr
        assert not output.exists()
