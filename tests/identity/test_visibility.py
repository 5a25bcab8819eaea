"""A policy that lets people read only part of the catalog: every list, count, facet, search
and page applies it in the database, so nothing hidden shows and pagination stays right."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from pavedroad.identity import tokens
from pavedroad.runtime import Runtime, build_runtime
from tests.identity.conftest import OPERATOR, new_client

# People see their own teams' entities and the organisation (users and groups); admins all.
OWN_ONLY = """\
rules:
  - name: admins-read-everything
    permissions: ["*"]
    if: {user_in_group: admins}
    decision: allow
  - name: read-own-and-people
    permissions: [catalog.entity.read]
    if:
      any:
        - is_entity_owner: {}
        - is_entity_kind: [user, group]
    decision: allow
  - name: the-rest
    permissions: [identity.self.read, identity.token.create]
    decision: allow
default: deny
"""
HIDDEN = "component:default/payroll"  # owned by team-b


@pytest.fixture
def restricted(secure_runtime: Runtime, tmp_path: Path) -> Iterator[Runtime]:
    policy = tmp_path / "own-only.yaml"
    policy.write_text(OWN_ONLY)
    settings = secure_runtime.settings
    permissions = settings.permissions.model_copy(
        update={"policy_file": policy, "admins": ["user:default/admin"]}
    )
    yield build_runtime(
        settings.model_copy(update={"permissions": permissions}), db=secure_runtime.db
    )


def as_user(runtime: Runtime, ref: str) -> TestClient:
    with runtime.db.session() as session:
        secret, _ = tokens.create_token(session, name="t", owner_ref=ref, actor=OPERATOR)
    client = new_client(runtime)
    client.headers["authorization"] = f"Bearer {secret}"
    return client


@pytest.fixture
def ada(restricted: Runtime) -> Iterator[TestClient]:
    with as_user(restricted, "user:default/ada") as client:
        yield client


@pytest.fixture
def admin(restricted: Runtime) -> Iterator[TestClient]:
    with as_user(restricted, "user:default/admin") as client:
        yield client


def refs(client: TestClient, **params: object) -> tuple[list[str], int]:
    body = client.get("/api/catalog/entities/by-query", params=params).json()
    found = [f"{e['kind'].lower()}:default/{e['metadata']['name']}" for e in body["items"]]
    return found, body["totalItems"]


def test_queries_count_and_page_through_only_what_may_be_seen(ada: TestClient) -> None:
    components, total = refs(ada, filter="kind=component")
    assert components == ["component:default/ledger"] and total == 1
    everything, total = refs(ada, limit=2)
    seen = list(everything)
    cursor = ada.get("/api/catalog/entities/by-query", params={"limit": 2}).json()["pageInfo"]
    while cursor.get("nextCursor"):
        page = ada.get(
            "/api/catalog/entities/by-query", params={"cursor": cursor["nextCursor"], "limit": 2}
        ).json()
        seen += [f"{e['kind'].lower()}:default/{e['metadata']['name']}" for e in page["items"]]
        cursor = page["pageInfo"]
    assert len(seen) == total and HIDDEN not in seen
    assert len(set(seen)) == len(seen)


def test_one_answer_is_never_served_to_someone_who_may_see_less(
    admin: TestClient, ada: TestClient
) -> None:
    assert HIDDEN in refs(admin, filter="kind=component")[0]  # computed and cached first
    assert HIDDEN not in refs(ada, filter="kind=component")[0]


def test_facets_count_only_what_may_be_seen(ada: TestClient, admin: TestClient) -> None:
    def kinds(client: TestClient) -> dict[str, int]:
        facets = client.get("/api/catalog/entity-facets", params={"facet": "kind"}).json()
        return {item["value"]: item["count"] for item in facets["facets"]["kind"]}

    assert kinds(admin)["Component"] == 2
    assert kinds(ada)["Component"] == 1


def test_a_hidden_entity_is_not_found_by_name_uid_or_ref(
    ada: TestClient, admin: TestClient
) -> None:
    hidden = admin.get("/api/catalog/entities/by-name/component/default/payroll").json()
    assert ada.get("/api/catalog/entities/by-name/component/default/payroll").status_code == 404
    uid = hidden["metadata"]["uid"]
    assert ada.get(f"/api/catalog/entities/by-uid/{uid}").status_code == 404
    by_refs = ada.post(
        "/api/catalog/entities/by-refs",
        json={"entityRefs": [HIDDEN, "component:default/ledger"]},
    ).json()["items"]
    assert by_refs[0] is None and by_refs[1]["metadata"]["name"] == "ledger"


def test_the_catalog_page_search_and_graph_leave_it_out(
    restricted: Runtime, ada: TestClient
) -> None:
    html = {"accept": "text/html"}
    page = ada.get("/catalog?kind=component", headers=html).text
    assert "payroll" not in page and "ledger" in page
    assert "1 entit" in page
    results = ada.get("/search?q=payroll", headers={**html, "hx-request": "true"}).text
    assert "/catalog/default/component/payroll" not in results and "No matches" in results
    graph = ada.get("/catalog/default/group/dept/graph.json", params={"depth": "3"}).json()
    ids = {node["id"] for node in graph["nodes"]}
    assert "component:default/ledger" in ids and HIDDEN not in ids
    assert ada.get("/catalog/default/component/payroll", headers=html).status_code == 404


def test_the_owner_sees_why_others_may_not_delete(restricted: Runtime, ada: TestClient) -> None:
    page = ada.get("/catalog/default/component/ledger", headers={"accept": "text/html"}).text
    found = re.search(r'id="why-delete">([^<]+)<', page)
    assert found and "catalog.entity.delete" in found.group(1)
    assert 'id="action-delete"' in page and "disabled" in page.split('id="action-delete"')[0][-80:]


def test_replacing_the_policy_by_an_allowing_one_shows_everything(
    restricted: Runtime, tmp_path: Path
) -> None:
    open_policy = tmp_path / "open.yaml"
    open_policy.write_text("rules:\n  - name: all\n    permissions: ['*']\n    decision: allow\n")
    settings = restricted.settings
    permissions = settings.permissions.model_copy(update={"policy_file": open_policy})
    opened = dataclasses.replace(
        restricted,
        permissions=build_runtime(
            settings.model_copy(update={"permissions": permissions}), db=restricted.db
        ).permissions,
    )
    with as_user(opened, "user:default/ada") as client:
        assert HIDDEN in refs(client, filter="kind=component")[0]
