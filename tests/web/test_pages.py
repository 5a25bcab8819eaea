"""The portal's pages on the demo organisation: home, catalog, entity pages, stars, errors."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from pavedroad.runtime import Runtime
from tests.catalog.test_api import counting_queries

HTML = {"accept": "text/html"}
HTMX = {"accept": "text/html", "hx-request": "true"}


def rows(html: str) -> list[str]:
    """Entity names in the catalog table, in order."""
    return re.findall(r'<td><a href="/catalog/[^"]+" title="([^"]+)"', html)


class TestLayout:
    def test_pages_share_the_layout_with_search_navigation_and_the_signed_in_user(
        self, portal: TestClient
    ) -> None:
        page = portal.get("/catalog", headers=HTML).text
        assert '<a class="skip-link" href="#main">' in page
        assert 'id="global-search"' in page and 'action="/search"' in page
        assert 'aria-current="page"' in page and ">Catalog<" in page
        assert "Esi Mensah" in page
        assert "<title>Catalog · pavedroad</title>" in page

    def test_vendored_assets_are_served_with_long_caching(self, portal: TestClient) -> None:
        page = portal.get("/", headers=HTML).text
        [htmx] = re.findall(r'src="(/static/vendor/htmx/htmx.min.js\?v=[0-9a-f]+)"', page)
        response = portal.get(htmx)
        assert response.status_code == 200
        assert "immutable" in response.headers["cache-control"]

    def test_an_unknown_page_is_a_page_that_says_where_to_go(self, portal: TestClient) -> None:
        response = portal.get("/nowhere", headers=HTML)
        assert response.status_code == 404
        assert "Nothing here" in response.text and 'href="/catalog"' in response.text

    def test_the_api_still_answers_errors_in_json(self, portal: TestClient) -> None:
        response = portal.get("/api/catalog/entities/by-name/component/default/nope", headers=HTML)
        assert response.status_code == 404
        assert response.json()["error"]["name"] == "NotFoundError"


class TestHome:
    def test_home_shows_what_the_viewers_teams_own_by_kind(self, portal: TestClient) -> None:
        page = portal.get("/", headers=HTML).text
        assert "Good to see you, Esi" in page
        # Checkout owns seven; its department, Commerce & Billing, one more.
        assert 'What you own <span class="muted">(8)</span>' in page
        assert "<strong>2</strong> Component" in page
        assert "Order Service" in page

    def test_starred_and_recently_visited_entities_appear_on_home(self, portal: TestClient) -> None:
        portal.get("/catalog/default/component/order-service", headers=HTML)
        portal.post("/catalog/default/api/order-api/star", data={"star": "on"}, headers=HTML)
        page = portal.get("/", headers=HTML).text
        starred = page.split('id="starred-heading"')[1].split("</section>")[0]
        recent = page.split('id="recent-heading"')[1].split("</section>")[0]
        assert "Order API" in starred
        assert "Order Service" in recent


class TestCatalog:
    def test_the_table_filters_by_facets_in_the_url(self, portal: TestClient) -> None:
        page = portal.get("/catalog?kind=component&lifecycle=deprecated", headers=HTML).text
        assert "3 entities" in page
        assert all(ref.startswith("component:") for ref in rows(page))

    def test_facet_counts_ignore_their_own_selection(self, portal: TestClient) -> None:
        page = portal.get("/catalog?kind=component", headers=HTML).text
        kinds = page.split('id="facet-kind"')[1].split("</fieldset>")[0]
        assert "User</span>" in kinds  # still offered, with its count
        assert re.search(r'value="Component" checked>', kinds)

    def test_facet_counts_follow_the_text_filter(self, portal: TestClient) -> None:
        page = portal.get("/catalog?q=checkout", headers=HTML).text
        kinds = page.split('id="facet-kind"')[1].split("</fieldset>")[0]
        assert "User</span>" not in kinds  # no user matches "checkout"

    def test_owned_by_me_and_text_filter(self, portal: TestClient) -> None:
        # Checkout's seven and the Commerce domain of its department.
        assert len(rows(portal.get("/catalog?owned=me", headers=HTML).text)) == 8
        page = portal.get("/catalog?q=checkout", headers=HTML).text
        assert "component:default/checkout-web" in rows(page)

    def test_sorting_and_cursor_pages(self, portal: TestClient) -> None:
        first = portal.get("/catalog?kind=user&sort=name&dir=desc&size=25", headers=HTML).text
        names = rows(first)
        assert names == sorted(names, reverse=True) and len(names) == 25
        [next_url] = re.findall(
            r'href="([^"]+)" hx-get="[^"]+" hx-target="#catalog" hx-push-url="true" rel="next"',
            first,
        )
        second = rows(portal.get(next_url.replace("&amp;", "&"), headers=HTML).text)
        assert second and second[0] < names[-1] and not set(second) & set(names)

    def test_htmx_requests_get_only_the_table_and_facets(self, portal: TestClient) -> None:
        fragment = portal.get("/catalog?kind=api", headers=HTMX).text
        assert "<html" not in fragment and 'id="catalog-filters"' in fragment

    def test_starred_view_lists_only_stars(self, portal: TestClient) -> None:
        assert "No entities match" in portal.get("/catalog?starred=me", headers=HTML).text
        portal.post("/catalog/default/system/orders/star", data={"star": "on"}, headers=HTML)
        assert rows(portal.get("/catalog?starred=me", headers=HTML).text) == [
            "system:default/orders"
        ]

    def test_a_page_costs_the_same_queries_for_25_or_100_rows(
        self, portal: TestClient, runtime: Runtime
    ) -> None:
        portal.get("/catalog?size=25", headers=HTML)
        portal.get("/catalog?size=50", headers=HTML)  # counts and facets cached
        with counting_queries(runtime) as small:
            portal.get("/catalog?size=25&sort=kind", headers=HTML)
        with counting_queries(runtime) as large:
            portal.get("/catalog?size=100&sort=kind", headers=HTML)
        assert len(small) == len(large)


class TestEntityPage:
    def test_the_overview_shows_owner_system_domain_links_and_source(
        self, portal: TestClient
    ) -> None:
        page = portal.get("/catalog/default/component/order-service", headers=HTML).text
        assert "<h1>Order Service</h1>" in page
        assert 'href="/catalog/default/group/team-checkout"' in page
        assert 'href="/catalog/default/system/orders"' in page
        assert "Domain" in page
        assert (
            "backstage.io/managed-by-location" not in page.split('id="annotations-heading"')[-1][:0]
        )
        assert 'role="tab"' in page and 'aria-selected="true"' in page

    def test_the_yaml_tab_shows_the_stored_entity_with_a_copy_button(
        self, portal: TestClient
    ) -> None:
        page = portal.get("/catalog/default/component/order-service?tab=yaml", headers=HTML).text
        assert "kind: Component" in page and "uid:" in page
        assert 'data-copy-target="entity-yaml"' in page

    def test_a_tab_requested_by_htmx_comes_without_the_page(self, portal: TestClient) -> None:
        fragment = portal.get(
            "/catalog/default/component/order-service?tab=yaml",
            headers={**HTMX, "hx-target": "tab-panel"},
        ).text
        assert "<html" not in fragment and "kind: Component" in fragment

    def test_group_pages_list_members_sub_groups_and_what_the_group_owns(
        self, portal: TestClient
    ) -> None:
        page = portal.get("/catalog/default/group/team-checkout", headers=HTML).text
        assert "<h1>Checkout</h1>" in page
        assert 'Members <span class="muted">(3)</span>' in page
        assert 'href="/catalog/default/user/esi.mensah"' in page
        assert "<strong>2</strong> components" in page

    def test_user_pages_show_the_profile_and_teams(self, portal: TestClient) -> None:
        page = portal.get("/catalog/default/user/esi.mensah", headers=HTML).text
        assert "<h1>Esi Mensah</h1>" in page and "esi.mensah@fernhollow.example.com" in page
        assert 'href="/catalog/default/group/team-checkout"' in page

    def test_an_unknown_entity_is_a_404_page(self, portal: TestClient) -> None:
        response = portal.get("/catalog/default/component/ghost", headers=HTML)
        assert response.status_code == 404
        assert "There is no component called default/ghost" in response.text

    def test_ingestion_errors_are_shown_to_the_owner_on_the_entity_page(
        self, portal: TestClient, runtime: Runtime, tmp_path: Any
    ) -> None:
        from tests.helpers import component, write_entities

        path = write_entities(tmp_path / "mine.yaml", component("cart", owner="team-checkout"))
        portal.post("/api/catalog/locations", json={"type": "file", "target": str(path)})
        broken = component("cart", owner="team-checkout", dependsOn=["cart-db"])
        write_entities(path, broken)
        portal.post("/api/catalog/refresh", json={"entityRef": "component:default/cart"})
        page = portal.get("/catalog/default/component/cart", headers=HTML).text
        assert "Ingestion problems" in page
        assert "mine.yaml:" in page and "resource:cart-db" in page


class TestStars:
    def test_starring_without_javascript_redirects_back(self, portal: TestClient) -> None:
        response = portal.post(
            "/catalog/default/component/order-service/star",
            data={"star": "on"},
            headers=HTML,
            follow_redirects=False,
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/catalog/default/component/order-service"
        page = portal.get("/catalog/default/component/order-service", headers=HTML).text
        assert 'aria-pressed="true"' in page and "★ Starred" in page

    def test_htmx_gets_the_new_button_and_unstarring_works(self, portal: TestClient) -> None:
        on = portal.post(
            "/catalog/default/component/order-service/star", data={"star": "on"}, headers=HTMX
        )
        assert "★ Starred" in on.text and "<html" not in on.text
        off = portal.post(
            "/catalog/default/component/order-service/star", data={"star": "off"}, headers=HTMX
        )
        assert "☆ Star" in off.text

    def test_starring_an_unknown_entity_is_404(self, portal: TestClient) -> None:
        response = portal.post(
            "/catalog/default/component/ghost/star", data={"star": "on"}, headers=HTML
        )
        assert response.status_code == 404
