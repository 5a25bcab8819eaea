"""The catalog REST API, as a Backstage client uses it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from pavedroad.runtime import Runtime
from tests.helpers import component, group, location, write_entities


@pytest.fixture
def org(tmp_path: Path, client: TestClient) -> dict[str, Any]:
    """A small organisation registered through the API."""
    db = component("orders-db")
    db.update(kind="Resource", spec={"type": "database", "owner": "team-a"})
    write_entities(tmp_path / "org/groups.yaml", group("team-a"), group("team-b"))
    users = []
    for name, team in (("ann", "team-a"), ("bob", "team-a"), ("cy", "team-b")):
        users.append(
            {
                "apiVersion": "backstage.io/v1alpha1",
                "kind": "User",
                "metadata": {"name": name},
                "spec": {"memberOf": [team], "profile": {"displayName": name.title()}},
            }
        )
    write_entities(tmp_path / "org/users.yaml", *users)
    services = [
        component("checkout", tags=None, dependsOn=["resource:orders-db"]),
        component("billing", owner="team-b"),
        component("search-ui", owner="team-b", type="website"),
    ]
    services[0]["metadata"]["tags"] = ["python", "pci"]
    services[1]["metadata"]["tags"] = ["java"]
    services[2]["metadata"]["title"] = "Search UI"
    services[0]["spec"].pop("tags")
    write_entities(tmp_path / "org/services.yaml", *services, db)
    write_entities(
        tmp_path / "org/all.yaml",
        location("org", "./groups.yaml", "./users.yaml", "./services.yaml"),
    )
    response = client.post(
        "/api/catalog/locations", json={"type": "file", "target": str(tmp_path / "org/all.yaml")}
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def names(response: Any) -> list[str]:
    return names_of(response.json())


def names_of(body: dict[str, Any]) -> list[str]:
    return [item["metadata"]["name"] for item in body["items"]]


@contextmanager
def counting_queries(runtime: Runtime) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    engines = {runtime.db.engine, runtime.db.read_engine}
    for engine in engines:
        event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", count)


class TestLocations:
    def test_registering_returns_201_with_the_location_and_what_was_ingested(
        self, org: dict[str, Any]
    ) -> None:
        assert set(org["location"]) == {"id", "type", "target"}
        assert org["errors"] == []
        assert org["ingestion"]["created"] == 10
        assert {e["metadata"]["name"] for e in org["entities"]} >= {"checkout", "team-a", "ann"}

    def test_registering_twice_is_409_in_backstages_error_shape(
        self, client: TestClient, org: dict[str, Any]
    ) -> None:
        response = client.post(
            "/api/catalog/locations", json={"type": "file", "target": org["location"]["target"]}
        )
        assert response.status_code == 409
        body = response.json()
        assert body["error"]["name"] == "ConflictError"
        assert body["request"] == {"method": "POST", "url": "/api/catalog/locations"}
        assert body["response"] == {"statusCode": 409}

    def test_a_dry_run_shows_entities_and_errors_and_stores_nothing(
        self, client: TestClient, tmp_path: Path
    ) -> None:
        bad = component("nameless-owner")
        del bad["spec"]["owner"]
        path = write_entities(tmp_path / "dry.yaml", component("ok"), bad)
        response = client.post(
            "/api/catalog/locations?dryRun=true", json={"type": "file", "target": str(path)}
        )
        assert response.status_code == 201
        body = response.json()
        assert body["exists"] is False
        assert body["errors"][0]["line"] == 14 and body["errors"][0]["field"] == "spec.owner"
        assert client.get("/api/catalog/locations").json() == []

    def test_an_unreadable_target_is_400_with_a_hint(
        self, client: TestClient, tmp_path: Path
    ) -> None:
        response = client.post(
            "/api/catalog/locations", json={"type": "file", "target": str(tmp_path / "nope.yaml")}
        )
        assert response.status_code == 400
        assert "does not exist" in response.json()["error"]["message"]
        assert response.json()["error"]["hint"]

    def test_an_unknown_type_and_a_malformed_body_are_400(self, client: TestClient) -> None:
        assert (
            client.post("/api/catalog/locations", json={"type": "ftp", "target": "x"}).status_code
            == 400
        )
        response = client.post("/api/catalog/locations", json={"target": "x"})
        assert response.status_code == 400
        assert response.json()["error"]["message"].startswith("Malformed request: type")

    def test_list_get_by_entity_and_delete(self, client: TestClient, org: dict[str, Any]) -> None:
        location_id = org["location"]["id"]
        [listed] = client.get("/api/catalog/locations").json()
        assert listed["data"]["id"] == location_id
        assert listed["data"]["entityCount"] == 10
        assert client.get(f"/api/catalog/locations/{location_id}").json()["status"] == "ok"
        by_entity = client.get("/api/catalog/locations/by-entity/component/default/checkout")
        assert by_entity.json()["id"] == location_id
        assert client.delete(f"/api/catalog/locations/{location_id}").status_code == 204
        assert (
            client.get("/api/catalog/entities/by-name/component/default/checkout").status_code
            == 404
        )
        assert client.get(f"/api/catalog/locations/{location_id}").status_code == 404


class TestEntities:
    def test_by_name_returns_the_entity_with_its_relations(
        self, client: TestClient, org: dict[str, Any]
    ) -> None:
        entity = client.get("/api/catalog/entities/by-name/Component/default/checkout").json()
        assert entity["metadata"]["uid"] and entity["metadata"]["etag"]
        assert {"type": "dependsOn", "targetRef": "resource:default/orders-db"} in entity[
            "relations"
        ]
        assert {"type": "ownedBy", "targetRef": "group:default/team-a"} in entity["relations"]

    def test_by_uid_and_delete_by_uid(self, client: TestClient, org: dict[str, Any]) -> None:
        uid = client.get("/api/catalog/entities/by-name/group/default/team-b").json()["metadata"][
            "uid"
        ]
        assert (
            client.get(f"/api/catalog/entities/by-uid/{uid}").json()["metadata"]["name"] == "team-b"
        )
        assert client.delete(f"/api/catalog/entities/by-uid/{uid}").status_code == 204
        assert client.get(f"/api/catalog/entities/by-uid/{uid}").status_code == 404

    def test_unknown_entities_are_404_with_a_message(self, client: TestClient) -> None:
        response = client.get("/api/catalog/entities/by-name/component/default/nope")
        assert response.status_code == 404
        assert response.json()["error"] == {
            "name": "NotFoundError",
            "message": "No entity named component:default/nope",
        }

    def test_by_refs_keeps_request_order_with_null_for_unknown(
        self, client: TestClient, org: dict[str, Any]
    ) -> None:
        body = {
            "entityRefs": ["user:default/bob", "component:default/nope", "Group:Default/Team-A"],
            "fields": ["metadata.name"],
        }
        items = client.post("/api/catalog/entities/by-refs", json=body).json()["items"]
        assert items == [{"metadata": {"name": "bob"}}, None, {"metadata": {"name": "team-a"}}]

    def test_ancestry_names_the_location_entity_that_led_here(
        self, client: TestClient, org: dict[str, Any]
    ) -> None:
        body = client.get("/api/catalog/entities/by-name/user/default/ann/ancestry").json()
        assert body["rootEntityRef"] == "user:default/ann"
        assert [
            (i["entity"]["metadata"]["name"], i["parentEntityRefs"]) for i in body["items"]
        ] == [
            ("ann", ["location:default/org"]),
            ("org", []),
        ]

    def test_refresh_of_an_unknown_entity_is_404(self, client: TestClient) -> None:
        assert (
            client.post(
                "/api/catalog/refresh", json={"entityRef": "component:default/x"}
            ).status_code
            == 404
        )

    def test_refresh_reads_the_location_again(
        self, client: TestClient, org: dict[str, Any], tmp_path: Path
    ) -> None:
        write_entities(tmp_path / "org/services.yaml", component("checkout"))
        assert (
            client.post(
                "/api/catalog/refresh", json={"entityRef": "component:default/checkout"}
            ).status_code
            == 200
        )
        assert (
            client.get("/api/catalog/entities/by-name/component/default/billing").status_code == 404
        )


class TestQueries:
    def test_filters_and_within_a_parameter_or_across_parameters(
        self, client: TestClient, org: dict[str, Any]
    ) -> None:
        response = client.get(
            "/api/catalog/entities/by-query", params={"filter": "kind=component,spec.owner=team-b"}
        )
        assert sorted(names(response)) == ["billing", "search-ui"]
        response = client.get(
            "/api/catalog/entities/by-query",
            params=[("filter", "kind=user,metadata.name=ann"), ("filter", "kind=resource")],
        )
        assert sorted(names(response)) == ["ann", "orders-db"]

    def test_filters_are_case_insensitive_and_support_existence_and_array_items(
        self, client: TestClient, org: dict[str, Any]
    ) -> None:
        response = client.get(
            "/api/catalog/entities/by-query", params={"filter": "KIND=Component,metadata.tags=JAVA"}
        )
        assert names(response) == ["billing"]
        assert names(
            client.get("/api/catalog/entities/by-query", params={"filter": "metadata.tags.pci"})
        ) == ["checkout"]
        assert names(
            client.get("/api/catalog/entities/by-query", params={"filter": "metadata.title"})
        ) == ["search-ui"]

    def test_list_items_answer_backstages_item_filters(
        self, client: TestClient, org: dict[str, Any]
    ) -> None:
        def query(filter_: str) -> list[str]:
            return names(client.get("/api/catalog/entities/by-query", params={"filter": filter_}))

        assert query("metadata.tags.pci=true") == ["checkout"]
        assert query("spec.dependson.resource:orders-db") == ["checkout"]  # as written
        assert query("metadata.tags.pci=false") == []
        assert query("metadata.annotations.backstage.io/managed-by-location") != []

    def test_uid_filters_and_facets(self, client: TestClient, org: dict[str, Any]) -> None:
        uid = client.get("/api/catalog/entities/by-name/user/default/cy").json()["metadata"]["uid"]
        assert names(
            client.get("/api/catalog/entities/by-query", params={"filter": f"metadata.uid={uid}"})
        ) == ["cy"]
        facets = client.get(
            "/api/catalog/entity-facets", params={"facet": "metadata.uid", "filter": "kind=user"}
        )
        assert {"value": uid, "count": 1} in facets.json()["facets"]["metadata.uid"]

    def test_relation_filters(self, client: TestClient, org: dict[str, Any]) -> None:
        params = {"filter": "relations.memberOf=group:default/team-a"}
        assert sorted(names(client.get("/api/catalog/entities/by-query", params=params))) == [
            "ann",
            "bob",
        ]

    def test_cursor_pagination_walks_forwards_and_back(
        self, client: TestClient, org: dict[str, Any]
    ) -> None:
        first = client.get(
            "/api/catalog/entities/by-query", params={"limit": 4, "orderField": "metadata.name,asc"}
        ).json()
        assert first["totalItems"] == 10 and "prevCursor" not in first["pageInfo"]
        seen = [i["metadata"]["name"] for i in first["items"]]
        page = first
        while "nextCursor" in page["pageInfo"]:
            page = client.get(
                "/api/catalog/entities/by-query",
                params={"cursor": page["pageInfo"]["nextCursor"], "limit": 4},
            ).json()
            seen += [i["metadata"]["name"] for i in page["items"]]
        assert seen == sorted(seen) and len(seen) == 10
        back = client.get(
            "/api/catalog/entities/by-query",
            params={"cursor": page["pageInfo"]["prevCursor"], "limit": 4},
        ).json()
        assert [i["metadata"]["name"] for i in back["items"]] == seen[4:8]

    def test_ordering_descending_puts_entities_without_the_field_last(
        self, client: TestClient, org: dict[str, Any]
    ) -> None:
        response = client.get(
            "/api/catalog/entities/by-query",
            params={"orderField": "metadata.title,desc", "limit": 3},
        )
        assert names(response)[0] == "search-ui"

    def test_full_text_filter(self, client: TestClient, org: dict[str, Any]) -> None:
        assert names(
            client.get("/api/catalog/entities/by-query", params={"fullTextFilterTerm": "SEARCH ui"})
        ) == ["search-ui"]
        params = {"fullTextFilterTerm": "bo", "fullTextFilterFields": "metadata.name"}
        assert names(client.get("/api/catalog/entities/by-query", params=params)) == ["bob"]

    def test_short_terms_and_wildcard_characters_are_matched_literally(
        self, client: TestClient, org: dict[str, Any]
    ) -> None:
        assert names(
            client.get("/api/catalog/entities/by-query", params={"fullTextFilterTerm": "ui"})
        ) == ["search-ui"]
        for term in ("%", "_", "sea%ui"):
            response = client.get(
                "/api/catalog/entities/by-query", params={"fullTextFilterTerm": term}
            )
            assert names(response) == [], term

    def test_counts_and_facets_follow_every_change_at_once(
        self, client: TestClient, org: dict[str, Any], tmp_path: Path
    ) -> None:
        query = {"filter": "kind=component", "limit": 1}
        assert client.get("/api/catalog/entities/by-query", params=query).json()["totalItems"] == 3
        facet = client.get("/api/catalog/entity-facets", params={"facet": "spec.type"}).json()
        path = write_entities(tmp_path / "more.yaml", component("ledger", type="library"))
        client.post("/api/catalog/locations", json={"type": "file", "target": str(path)})
        assert client.get("/api/catalog/entities/by-query", params=query).json()["totalItems"] == 4
        after = client.get("/api/catalog/entity-facets", params={"facet": "spec.type"}).json()
        assert {"value": "library", "count": 1} in after["facets"]["spec.type"]
        assert after != facet
        client.delete(f"/api/catalog/locations/{org['location']['id']}")
        assert client.get("/api/catalog/entities/by-query", params=query).json()["totalItems"] == 1

    def test_fields_keep_only_the_named_paths(
        self, client: TestClient, org: dict[str, Any]
    ) -> None:
        response = client.get(
            "/api/catalog/entities/by-query",
            params={"filter": "kind=group", "fields": "kind,metadata.name"},
        )
        assert response.json()["items"] == [
            {"kind": "Group", "metadata": {"name": "team-a"}},
            {"kind": "Group", "metadata": {"name": "team-b"}},
        ]

    def test_a_bad_filter_a_bad_order_and_a_bad_cursor_are_400(self, client: TestClient) -> None:
        for params in (
            {"filter": "=x"},
            {"orderField": "metadata.name,up"},
            {"cursor": "garbage!"},
        ):
            response = client.get("/api/catalog/entities/by-query", params=params)
            assert response.status_code == 400, params
            assert response.json()["error"]["name"] == "InputError"

    def test_the_deprecated_list_pages_with_a_link_header(
        self, client: TestClient, org: dict[str, Any]
    ) -> None:
        response = client.get("/api/catalog/entities", params={"filter": "kind=user", "limit": 2})
        assert [e["metadata"]["name"] for e in response.json()] == ["ann", "bob"]
        link = response.headers["link"]
        assert link.endswith('rel="next"') and "after=" in link
        url = link[1 : link.index(">")]
        assert [e["metadata"]["name"] for e in client.get(url).json()] == ["cy"]

    def test_facets_count_entities_per_value(self, client: TestClient, org: dict[str, Any]) -> None:
        facets = client.get(
            "/api/catalog/entity-facets", params=[("facet", "kind"), ("facet", "metadata.tags")]
        ).json()["facets"]
        assert {"value": "User", "count": 3} in facets["kind"]
        assert {"value": "java", "count": 1} in facets["metadata.tags"]
        filtered = client.get(
            "/api/catalog/entity-facets", params={"facet": "spec.type", "filter": "kind=component"}
        )
        assert filtered.json()["facets"]["spec.type"] == [
            {"value": "service", "count": 2},
            {"value": "website", "count": 1},
        ]
        assert client.get("/api/catalog/entity-facets").status_code == 400

    def test_a_page_costs_the_same_queries_however_many_entities_it_holds(
        self, client: TestClient, runtime: Runtime, org: dict[str, Any]
    ) -> None:
        client.get("/api/catalog/entities/by-query", params={"limit": 2})  # the count is cached
        with counting_queries(runtime) as small:
            client.get("/api/catalog/entities/by-query", params={"limit": 1})
        with counting_queries(runtime) as large:
            client.get("/api/catalog/entities/by-query", params={"limit": 10})
        # Two (a transaction and a generation read) are for who is asking: their groups are cached.
        assert len(small) == len(large) <= 7

    def test_a_repeated_request_is_answered_from_the_cache_until_the_catalog_changes(
        self, client: TestClient, runtime: Runtime, org: dict[str, Any], tmp_path: Path
    ) -> None:
        params = {"filter": "kind=user", "limit": 2}
        first = client.get("/api/catalog/entities/by-query", params=params).json()
        with counting_queries(runtime) as repeated:
            assert client.get("/api/catalog/entities/by-query", params=params).json() == first
        assert [q for q in repeated if "entities" in q] == []  # only the generation was read
        user = {
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "User",
            "metadata": {"name": "aa"},
            "spec": {"memberOf": []},
        }
        path = write_entities(tmp_path / "aa.yaml", user)
        client.post("/api/catalog/locations", json={"type": "file", "target": str(path)})
        after = client.get("/api/catalog/entities/by-query", params=params).json()
        assert after["totalItems"] == first["totalItems"] + 1
        assert names_of(after) == ["aa", "ann"]


class TestValidation:
    def test_validate_entity_is_200_when_valid(self, client: TestClient) -> None:
        response = client.post(
            "/api/catalog/validate-entity", json={"location": "url:x", "entity": component("ok")}
        )
        assert response.status_code == 200

    def test_validate_entity_lists_every_problem_with_its_field_and_hint(
        self, client: TestClient
    ) -> None:
        entity = component("Bad Name")
        del entity["spec"]["lifecycle"]
        response = client.post(
            "/api/catalog/validate-entity", json={"location": "url:x", "entity": entity}
        )
        assert response.status_code == 400
        errors = response.json()["errors"]
        assert [e["field"] for e in errors] == ["metadata.name"]
        assert errors[0]["hint"]

    def test_ingestion_errors_are_listed_per_location_and_entity(
        self, client: TestClient, tmp_path: Path
    ) -> None:
        path = write_entities(tmp_path / "x.yaml", component("x", dependsOn=["db"]))
        client.post("/api/catalog/locations", json={"type": "file", "target": str(path)})
        [error] = client.get("/api/catalog/errors").json()["items"]
        assert error["category"] == "entity-ref" and error["field"] == "spec.dependsOn[0]"
        assert client.get("/api/catalog/errors", params={"entity": "component:default/x"}).json()[
            "items"
        ] == [error]
