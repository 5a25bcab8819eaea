"""pavedroad answers OSV's query API from the imported advisories."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from pavedroad.core.actors import Actor
from pavedroad.security.advisories import import_advisories
from tests.conftest import SHARED

DJANGO = SHARED / "advisories" / "pypa" / "vulns" / "django"
QUERY = "/api/security/osv/v1/query"


def test_a_query_by_name_or_purl_returns_the_affecting_records(
    client: TestClient, session: Session
) -> None:
    import_advisories(session, DJANGO, actor=Actor("user:default/tester"))
    session.commit()

    by_name = client.post(
        QUERY, json={"package": {"name": "Django", "ecosystem": "PyPI"}, "version": "2.2.0"}
    )
    by_purl = client.post(QUERY, json={"package": {"purl": "pkg:pypi/django@2.2.0"}})
    fixed = client.post(QUERY, json={"package": {"purl": "pkg:pypi/django@5.1.2"}})

    assert by_name.status_code == 200
    found = {record["id"] for record in by_name.json()["vulns"]}
    assert "PYSEC-2019-13" in found
    assert {record["id"] for record in by_purl.json()["vulns"]} == found
    assert fixed.json() == {}


def test_a_batch_answers_each_query_with_ids(client: TestClient, session: Session) -> None:
    import_advisories(session, DJANGO, actor=Actor("user:default/tester"))
    session.commit()

    answer = client.post(
        "/api/security/osv/v1/querybatch",
        json={
            "queries": [
                {"package": {"purl": "pkg:pypi/django@2.2.0"}},
                {"package": {"purl": "pkg:pypi/django@5.1.2"}},
            ]
        },
    )

    first, second = answer.json()["results"]
    assert "PYSEC-2019-13" in {v["id"] for v in first["vulns"]}
    assert second == {}


def test_queries_the_api_cannot_answer_say_what_is_missing(client: TestClient) -> None:
    commit = client.post(QUERY, json={"commit": "6879efc2c1596d11a6a6ad296f80063b558d5e0f"})
    no_version = client.post(QUERY, json={"package": {"name": "django", "ecosystem": "PyPI"}})
    not_json = client.post(QUERY, content=b"{ nope")
    odd_purl = client.post(QUERY, json={"package": {"purl": "pkg:deb/debian/curl@7.50"}})

    assert commit.status_code == 400
    assert "commit queries are not supported" in commit.json()["error"]["message"]
    assert "version is required" in no_version.json()["error"]["message"]
    assert "not JSON" in not_json.json()["error"]["message"]
    assert "'deb' is not supported" in odd_purl.json()["error"]["message"]
