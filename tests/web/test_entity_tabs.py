"""The Relations and API tabs of entity pages, on the demo organisation."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from pavedroad.catalog.views.relations_graph import GraphOptions, neighbourhood
from pavedroad.runtime import Runtime
from tests.catalog.test_api import counting_queries
from tests.helpers import component, write_entities

HTML = {"accept": "text/html"}
ORDER_SERVICE = "/catalog/default/component/order-service"


def graph(portal: TestClient, page: str, **params: str) -> dict[str, Any]:
    response = portal.get(f"{page}/graph.json", params=params)
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


class TestRelationsGraph:
    def test_one_step_reaches_the_owner_system_and_apis_of_a_component(
        self, portal: TestClient
    ) -> None:
        found = graph(portal, ORDER_SERVICE, depth="1")
        ids = {node["id"] for node in found["nodes"]}
        assert found["root"] == "component:default/order-service"
        assert {
            "group:default/team-checkout",
            "system:default/orders",
            "api:default/order-api",
            "resource:default/orders-db",
        } <= ids
        assert all(node["depth"] <= 1 for node in found["nodes"])

    def test_edges_point_the_way_people_read_them_and_are_drawn_once(
        self, portal: TestClient
    ) -> None:
        edges = graph(portal, ORDER_SERVICE, depth="1")["edges"]
        owner = [e for e in edges if e["target"] == "group:default/team-checkout"]
        assert owner == [
            {
                "source": "component:default/order-service",
                "target": "group:default/team-checkout",
                "type": "ownedBy",
                "kind": "ownership",
                "label": "owned by",
            }
        ]
        pairs = [(e["source"], e["target"]) for e in edges]
        assert len(pairs) == len(set(pairs))

    def test_a_deeper_walk_reaches_further_and_keeps_the_nearest_first(
        self, portal: TestClient
    ) -> None:
        near = graph(portal, ORDER_SERVICE, depth="1")
        far = graph(portal, ORDER_SERVICE, depth="2")
        assert far["total"] > near["total"]
        depths = [node["depth"] for node in far["nodes"]]
        assert depths == sorted(depths) and depths[0] == 0

    def test_relation_kinds_narrow_the_walk(self, portal: TestClient) -> None:
        found = graph(portal, ORDER_SERVICE, depth="2", rel="ownership")
        assert {edge["kind"] for edge in found["edges"]} == {"ownership"}
        assert found["rel"] == ["ownership"]
        nothing = graph(portal, ORDER_SERVICE, depth="2", rel="")
        assert [node["id"] for node in nothing["nodes"]] == ["component:default/order-service"]

    def test_people_and_teams_follow_membership_by_default(self, portal: TestClient) -> None:
        team = graph(portal, "/catalog/default/group/team-checkout", depth="1")
        assert "membership" in team["rel"]
        assert "user:default/esi.mensah" in {node["id"] for node in team["nodes"]}
        assert "membership" not in graph(portal, ORDER_SERVICE)["rel"]

    def test_invalid_depths_fall_back_and_large_ones_are_capped(self, portal: TestClient) -> None:
        assert graph(portal, ORDER_SERVICE, depth="many")["depth"] == 2
        assert graph(portal, ORDER_SERVICE, depth="40")["depth"] == 3
        assert graph(portal, ORDER_SERVICE, depth="0")["depth"] == 1

    def test_a_large_neighbourhood_is_cut_at_the_limit_nearest_first(
        self, portal: TestClient, runtime: Runtime
    ) -> None:
        options = GraphOptions.parse("group", "3", None)
        with runtime.db.read_session() as session:
            whole = neighbourhood(session, "group:default/team-checkout", options)
            cut = neighbourhood(session, "group:default/team-checkout", options, limit=5)
        assert len(whole.nodes) > 5 and not whole.truncated
        assert [node.ref for node in cut.nodes] == [node.ref for node in whole.nodes[:5]]
        assert cut.truncated
        shown = {node.ref for node in cut.nodes}
        assert all(edge.source in shown and edge.target in shown for edge in cut.edges)

    def test_a_cut_graph_says_how_much_it_shows(self, portal: TestClient) -> None:
        # The whole company, three steps out from its root group, is more than a graph can show.
        page = portal.get("/catalog/default/group/fernhollow?tab=relations&depth=3", headers=HTML)
        assert re.search(r"Showing 150 of (more than )?\d+, nearest first", page.text)

    def test_relations_to_missing_entities_are_nodes_without_a_link(
        self, portal: TestClient, runtime: Runtime, tmp_path: Path
    ) -> None:
        path = write_entities(
            tmp_path / "ghostly.yaml",
            component("ghostly", owner="team-checkout", dependsOn=["resource:default/nowhere"]),
        )
        response = portal.post("/api/catalog/locations", json={"type": "file", "target": str(path)})
        assert response.status_code == 201, response.text
        found = graph(portal, "/catalog/default/component/ghostly", depth="1")
        [ghost] = [node for node in found["nodes"] if node["id"] == "resource:default/nowhere"]
        assert ghost["missing"] is True and ghost["url"] is None
        page = portal.get("/catalog/default/component/ghostly?tab=relations", headers=HTML).text
        assert "not in the catalog" in page

    def test_an_unknown_entity_has_no_graph(self, portal: TestClient) -> None:
        response = portal.get("/catalog/default/component/ghost/graph.json")
        assert response.status_code == 404
        assert response.json()["error"]["name"] == "NotFoundError"

    def test_the_query_count_does_not_grow_with_the_neighbourhood(
        self, portal: TestClient, runtime: Runtime
    ) -> None:
        graph(portal, ORDER_SERVICE, depth="1")  # who is asking is remembered
        with counting_queries(runtime) as small:
            graph(portal, "/catalog/default/resource/orders-db", depth="1")
        with counting_queries(runtime) as large:
            graph(portal, "/catalog/default/group/team-checkout", depth="1")
        assert len(small) == len(large)


class TestRelationsTab:
    def test_the_tab_lists_every_neighbour_by_distance_without_javascript(
        self, portal: TestClient
    ) -> None:
        page = portal.get(f"{ORDER_SERVICE}?tab=relations", headers=HTML).text
        assert "Directly related" in page and "Two steps away" in page
        assert 'href="/catalog/default/group/team-checkout"' in page
        assert "owner of" in page  # what the team is to the order service
        assert 'data-graph-src="/catalog/default/component/order-service/graph.json?' in page

    def test_the_options_are_kept_in_the_url_and_ticked_in_the_form(
        self, portal: TestClient
    ) -> None:
        page = portal.get(
            f"{ORDER_SERVICE}?tab=relations&depth=1&rel=ownership,apis", headers=HTML
        ).text
        assert re.search(r'id="graph-depth-1" name="depth" value="1" checked', page)
        assert re.search(r'id="graph-rel-ownership" name="rel" value="ownership" checked', page)
        assert not re.search(r'id="graph-rel-part-of" name="rel" value="part-of" checked', page)
        assert "Two steps away" not in page

    def test_the_form_without_javascript_redirects_to_a_shareable_tab_url(
        self, portal: TestClient
    ) -> None:
        response = portal.get(
            f"{ORDER_SERVICE}/relations",
            params=[("depth", "1"), ("rel", ""), ("rel", "ownership"), ("rel", "apis")],
            follow_redirects=False,
        )
        assert response.status_code == 303
        assert response.headers["location"] == (
            f"{ORDER_SERVICE}?tab=relations&depth=1&rel=ownership,apis"
        )

    def test_unticking_every_kind_says_what_to_do(self, portal: TestClient) -> None:
        page = portal.get(f"{ORDER_SERVICE}?tab=relations&rel=", headers=HTML).text
        assert "No relation kinds selected" in page


class TestApiTab:
    def test_only_api_entities_have_the_tab(self, portal: TestClient) -> None:
        assert 'id="tab-api"' in portal.get("/catalog/default/api/payment-api", headers=HTML).text
        assert 'id="tab-api"' not in portal.get(ORDER_SERVICE, headers=HTML).text

    def test_openapi_is_handed_to_the_vendored_viewer_inline(self, portal: TestClient) -> None:
        page = portal.get("/catalog/default/api/payment-api?tab=api", headers=HTML).text
        assert "OpenAPI 3.0.3" in page
        assert "vendor/swagger-ui/swagger-ui-bundle.js" in page
        document = json.loads(
            re.search(r'id="api-spec-json">(.*?)</script>', page, re.S).group(1)  # type: ignore[union-attr]
        )
        assert document["openapi"] == "3.0.3" and "/refunds" in document["paths"]

    def test_without_javascript_the_operations_and_the_text_are_on_the_page(
        self, portal: TestClient
    ) -> None:
        page = portal.get("/catalog/default/api/payment-api?tab=api", headers=HTML).text
        noscript = page.split("<noscript>", 1)[1].split("</noscript>", 1)[0]
        assert "/payment-intents/{intentId}/capture" in noscript
        assert 'id="api-definition"' in page and "openapi: 3.0.3" in html.unescape(page)

    def test_asyncapi_lists_channels_with_their_messages(self, portal: TestClient) -> None:
        page = portal.get("/catalog/default/api/order-events?tab=api", headers=HTML).text
        assert "AsyncAPI" in page and "Channels" in page
        assert "orders.lifecycle.v1" in page
        assert 'data-language="yaml"' in page

    def test_grpc_and_graphql_are_highlighted_source(self, portal: TestClient) -> None:
        grpc = portal.get("/catalog/default/api/authz-api?tab=api", headers=HTML).text
        assert 'data-language="protobuf"' in grpc and "service Authorizer" in grpc
        graphql = portal.get("/catalog/default/api/customer-graph-api?tab=api", headers=HTML).text
        assert 'data-language="graphql"' in graphql

    def test_a_definition_that_is_not_valid_yaml_is_shown_with_the_problem_and_its_line(
        self, portal: TestClient, tmp_path: Path
    ) -> None:
        broken = {
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "API",
            "metadata": {"name": "broken-api"},
            "spec": {
                "type": "openapi",
                "lifecycle": "production",
                "owner": "team-checkout",
                "definition": "openapi: 3.0.0\npaths:\n  /x: [unclosed\n",
            },
        }
        path = write_entities(tmp_path / "broken.yaml", broken)
        response = portal.post("/api/catalog/locations", json={"type": "file", "target": str(path)})
        assert response.status_code == 201, response.text
        page = portal.get("/catalog/default/api/broken-api?tab=api", headers=HTML).text
        assert "This definition cannot be rendered." in page
        assert "not valid YAML at line" in page
        assert "api-spec-json" not in page
        assert "/x: [unclosed" in html.unescape(page)

    def test_a_script_tag_in_a_definition_cannot_escape_the_inline_json(
        self, portal: TestClient, tmp_path: Path
    ) -> None:
        sneaky = {
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "API",
            "metadata": {"name": "sneaky-api"},
            "spec": {
                "type": "openapi",
                "lifecycle": "production",
                "owner": "team-checkout",
                "definition": (
                    "openapi: 3.0.0\ninfo:\n  title: '</script><script>alert(1)</script>'\n"
                    "  version: '1'\npaths: {}\n"
                ),
            },
        }
        path = write_entities(tmp_path / "sneaky.yaml", sneaky)
        portal.post("/api/catalog/locations", json={"type": "file", "target": str(path)})
        page = portal.get("/catalog/default/api/sneaky-api?tab=api", headers=HTML).text
        assert "<script>alert(1)</script>" not in page
