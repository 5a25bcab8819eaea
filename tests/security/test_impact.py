""" "Who is affected?": one query over every component's latest SBOM and the catalog."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from pavedroad.catalog import service
from pavedroad.core.actors import Actor
from pavedroad.core.errors import InputError, NotFoundError
from pavedroad.runtime import Runtime
from pavedroad.security.advisories import import_advisories
from pavedroad.security.impact import (
    by_owner,
    components_affected_by,
    components_shipping,
    parse_package_question,
)
from pavedroad.security.sbom import build_bom, store_sbom
from pavedroad.security.sbom.packages import locked
from tests.conftest import SHARED
from tests.helpers import component, write_entities

ACTOR = Actor("user:default/tester")
LOG4J = "org.apache.logging.log4j:log4j-core"
LOG4SHELL = {
    "id": "GHSA-jfh8-c2jp-5v3q",
    "modified": "2024-01-01T00:00:00Z",
    "aliases": ["CVE-2021-44228"],
    "affected": [
        {
            "package": {"ecosystem": "Maven", "name": LOG4J},
            "ranges": [
                {
                    "type": "ECOSYSTEM",
                    "events": [
                        {"introduced": "2.0-beta9"},
                        {"fixed": "2.3.1"},
                        {"introduced": "2.4"},
                        {"fixed": "2.12.2"},
                        {"introduced": "2.13.0"},
                        {"fixed": "2.15.0"},
                    ],
                }
            ],
        }
    ],
}


def ship(session: Session, ref: str, *packages: tuple[str, str, str]) -> None:
    locked_packages = [locked(eco, name, version, "pom.xml") for eco, name, version in packages]
    document = build_bom(locked_packages, component_ref=ref, version="1.0", commit="c" * 40)
    store_sbom(
        session,
        component_ref=ref,
        commit="c" * 40,
        version="1.0",
        document=document,
        packages=locked_packages,
        actor=ACTOR,
    )


@pytest.fixture
def organisation(session: Session, runtime: Runtime, tmp_path: Path) -> Session:
    write_entities(
        tmp_path / "catalog.yaml",
        component("payments", owner="team-payments", system="checkout"),
        component("search", owner="team-search"),
        component("ledger", owner="team-payments", system="checkout"),
        component("old-reports", owner="team-search"),
    )
    service.register_locations(
        session, runtime.catalog, [("file", str(tmp_path / "catalog.yaml"))], actor=ACTOR
    )
    ship(
        session, "component:default/payments", ("Maven", LOG4J, "2.14.1"), ("PyPI", "django", "2.2")
    )
    ship(session, "component:default/search", ("Maven", LOG4J, "2.17.1"))
    ship(session, "component:default/ledger", ("Maven", LOG4J, "2.12.1"))
    ship(session, "component:default/old-reports", ("Maven", LOG4J, "2.14.1"))
    ship(session, "component:default/old-reports", ("Maven", LOG4J, "2.17.2"))  # upgraded since
    session.commit()
    return session


def test_components_shipping_log4j_below_the_fixed_version_with_their_owners(
    organisation: Session,
) -> None:
    question = parse_package_question("pkg:maven/org.apache.logging.log4j/log4j-core", "<2.17.1")

    answer = components_shipping(organisation, question)

    assert [(c.ref, c.owner, c.system, c.packages) for c in answer.components] == [
        ("component:default/ledger", "team-payments", "checkout", [(LOG4J, "2.12.1")]),
        ("component:default/payments", "team-payments", "checkout", [(LOG4J, "2.14.1")]),
    ]
    assert list(by_owner(answer)) == ["team-payments"]


def test_components_affected_by_an_advisory_named_by_its_cve_alias(
    organisation: Session, tmp_path: Path
) -> None:
    (tmp_path / "osv").mkdir()
    (tmp_path / "osv" / "log4shell.json").write_text(json.dumps(LOG4SHELL))
    import_advisories(organisation, tmp_path / "osv", actor=ACTOR)
    organisation.commit()

    answer = components_affected_by(organisation, "CVE-2021-44228")

    assert {c.ref: c.fixed for c in answer.components} == {
        "component:default/ledger": "2.12.2",
        "component:default/payments": "2.15.0",
    }
    assert answer.components[0].advisories == ["GHSA-jfh8-c2jp-5v3q"]


def test_a_pypa_advisory_finds_the_old_django(organisation: Session) -> None:
    import_advisories(
        organisation, SHARED / "advisories" / "pypa" / "vulns" / "django", actor=ACTOR
    )
    organisation.commit()

    answer = components_affected_by(organisation, "PYSEC-2019-13")

    assert [c.ref for c in answer.components] == ["component:default/payments"]
    assert answer.components[0].fixed == "2.2.4"


def test_questions_that_cannot_be_answered_say_why(organisation: Session) -> None:
    with pytest.raises(NotFoundError, match="no advisory is known as CVE-1999-0001"):
        components_affected_by(organisation, "CVE-1999-0001")
    with pytest.raises(InputError, match="which ecosystem"):
        parse_package_question("log4j-core")
    with pytest.raises(InputError, match="not a version constraint"):
        parse_package_question("pkg:pypi/django", "< 2.2 extra")
    with pytest.raises(InputError, match="not a PEP 440 version"):
        parse_package_question("pkg:pypi/django", "<two")


def test_the_api_answers_as_json_and_csv(organisation: Session, client: TestClient) -> None:
    params = {"package": "pkg:maven/org.apache.logging.log4j/log4j-core", "versions": "<2.17.1"}

    as_json = client.get("/api/security/v1/affected", params=params)
    as_csv = client.get("/api/security/v1/affected", params={**params, "format": "csv"})
    nothing = client.get("/api/security/v1/affected")

    assert as_json.status_code == 200
    assert [item["component"] for item in as_json.json()["items"]] == [
        "component:default/ledger",
        "component:default/payments",
    ]
    lines = as_csv.text.splitlines()
    assert lines[0].startswith("component,owner,system")
    assert lines[1].startswith("component:default/ledger,team-payments,checkout")
    assert nothing.status_code == 400
    assert "say what to look for" in nothing.json()["error"]["message"]


def test_the_page_answers_a_shareable_question_grouped_by_team(
    organisation: Session, client: TestClient
) -> None:
    page = client.get(
        "/security/affected",
        params={"package": "pkg:maven/org.apache.logging.log4j/log4j-core", "versions": "<2.17.1"},
        headers={"accept": "text/html"},
    )
    wrong = client.get(
        "/security/affected", params={"advisory": "CVE-1999-0001"}, headers={"accept": "text/html"}
    )

    assert page.status_code == 200
    assert "2</strong> components" in page.text
    assert "team-payments" in page.text
    assert ">ledger<" in page.text and "org.apache.logging.log4j:log4j-core 2.12.1" in page.text
    assert "format=csv" in page.text
    assert wrong.status_code == 404
    assert "no advisory is known as CVE-1999-0001" in wrong.text


def test_the_cli_answers_the_log4j_question(
    organisation: Session, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from pavedroad.cli import app
    from pavedroad.config import get_settings

    monkeypatch.setenv("PAVEDROAD_DATABASE_URL", database_url)
    monkeypatch.setenv("PAVEDROAD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "200")
    import_advisories(
        organisation, SHARED / "advisories" / "pypa" / "vulns" / "django", actor=ACTOR
    )
    organisation.commit()
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(
            app,
            [
                "security",
                "affected",
                "--package",
                "pkg:maven/org.apache.logging.log4j/log4j-core",
                "--versions",
                "<2.17.1",
            ],
        )
        as_json = CliRunner().invoke(
            app, ["security", "affected", "--advisory", "PYSEC-2019-13", "-o", "json"]
        )
    finally:
        get_settings.cache_clear()

    assert result.exit_code == 0, result.output
    assert "2 component(s)" in result.output
    assert "ledger" in result.output
    assert as_json.exit_code == 0, as_json.output
    assert [item["component"] for item in json.loads(as_json.output)["items"]] == [
        "component:default/payments"
    ]
