"""Search: ranking, highlighting, kind facets, keyboard navigation, empty states, search sources."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from markupsafe import Markup
from sqlalchemy.orm import Session

from pavedroad import demo
from pavedroad.catalog.views import search_page
from pavedroad.catalog.views.search_page import (
    SearchHit,
    SearchRequest,
    SourceResults,
    highlight,
    snippet,
)
from pavedroad.runtime import Runtime
from tests.catalog.test_api import counting_queries
from tests.helpers import component, write_entities

HTML = {"accept": "text/html"}
HTMX = {"accept": "text/html", "hx-request": "true"}


def described(name: str, **metadata: Any) -> dict[str, Any]:
    entity = component(name)
    entity["metadata"].update(metadata)
    return entity


def register(client: TestClient, path: Path, *entities: dict[str, Any]) -> None:
    write_entities(path, *entities)
    response = client.post("/api/catalog/locations", json={"type": "file", "target": str(path)})
    assert response.status_code == 201, response.text


def hits(page: str) -> list[str]:
    """The entity pages the results link to, in order."""
    return re.findall(r'<li><a href="/catalog/default/[a-z]+/([^"]+)">', page)


@pytest.fixture
def ledgers(client: TestClient, tmp_path: Path) -> TestClient:
    """Entities that match "ledger" in every way a search can match."""
    register(
        client,
        tmp_path / "ledgers.yaml",
        described("accounts", description="Keeps the ledger balanced."),
        described("reports", tags=["ledger", "pdf"]),
        described("books", title="Ledger Books"),
        described("general-ledger"),
        described("ledger-sync"),
        described("ledger"),
    )
    return client


class TestRanking:
    def test_exact_name_then_prefix_contains_title_description_and_tags(
        self, ledgers: TestClient
    ) -> None:
        page = ledgers.get("/search", params={"q": "ledger"}, headers=HTML).text
        assert hits(page) == [
            "ledger",
            "ledger-sync",
            "general-ledger",
            "books",
            "accounts",
            "reports",
        ]

    def test_an_exact_name_ranks_above_a_description_that_mentions_it(
        self, client: TestClient, tmp_path: Path
    ) -> None:
        register(
            client,
            tmp_path / "c.yaml",
            described("aaa-checkout-ui", description="Calls billing for every order."),
            described("billing"),
        )
        page = client.get("/search", params={"q": "Billing"}, headers=HTML).text
        assert hits(page) == ["billing", "aaa-checkout-ui"]

    def test_a_short_term_searches_names_only_and_says_so(self, ledgers: TestClient) -> None:
        page = ledgers.get("/search", params={"q": "le"}, headers=HTML).text
        assert hits(page) == ["ledger", "ledger-sync"]
        assert "type three characters or more" in page


class TestResults:
    def test_matches_are_marked_and_everything_else_escaped(
        self, client: TestClient, tmp_path: Path
    ) -> None:
        register(
            client,
            tmp_path / "x.yaml",
            described("widget", description='<script>alert("widget")</script> & more'),
        )
        page = client.get("/search", params={"q": "widget"}, headers=HTML).text
        assert (
            "&lt;script&gt;alert(&#34;<mark>widget</mark>&#34;)&lt;/script&gt; &amp; more" in page
        )
        assert "<script>alert" not in page
        assert '<span class="title"><mark>widget</mark></span>' in page

    def test_the_query_itself_is_escaped(self, client: TestClient) -> None:
        page = client.get("/search", params={"q": "<b>x</b>"}, headers=HTML).text
        assert "<b>x</b>" not in page
        assert "&lt;b&gt;x&lt;/b&gt;" in page

    def test_results_are_links_in_a_keyboard_list(self, ledgers: TestClient) -> None:
        page = ledgers.get("/search", params={"q": "ledger"}, headers=HTML).text
        listing = page.split("data-keyboard-list")[1].split("</ul>")[0]
        assert listing.count("<li><a href=") == 6

    def test_the_top_bar_keeps_the_query(self, ledgers: TestClient) -> None:
        page = ledgers.get("/search", params={"q": "ledger"}, headers=HTML).text
        assert 'id="global-search" name="q" type="search"' in page
        assert 'value="ledger"' in page

    def test_htmx_gets_only_the_results(self, ledgers: TestClient) -> None:
        fragment = ledgers.get("/search", params={"q": "ledger"}, headers=HTMX).text
        assert "<html" not in fragment and "data-keyboard-list" in fragment


class TestKindFacets:
    def test_kind_facets_count_matches_and_narrow_the_results(
        self, client: TestClient, runtime: Runtime
    ) -> None:
        with runtime.db.session() as session:
            demo.load(session, runtime.catalog)
        page = client.get("/search", params={"q": "order"}, headers=HTML).text
        facets = page.split('aria-label="Narrow by kind"')[1].split("</nav>")[0]
        assert 'href="/search?q=order&amp;kind=api">API <span class="n">3</span>' in facets
        narrowed = client.get("/search", params={"q": "order", "kind": "api"}, headers=HTML).text
        assert set(hits(narrowed)) == {"order-api", "order-events", "inventory-api"}
        assert 'aria-current="true">API' in narrowed
        assert 'href="/search?q=order">All' in narrowed  # the way back to every kind


class TestEmptyStates:
    def test_an_empty_query_shows_a_prompt_and_kinds_to_browse(
        self, client: TestClient, tmp_path: Path
    ) -> None:
        register(client, tmp_path / "a.yaml", component("a"))
        page = client.get("/search", headers=HTML).text
        assert "Find components, APIs, teams, people and systems" in page
        assert 'href="/catalog?kind=component"><strong>1</strong> Component' in page

    def test_no_results_says_what_to_try(self, ledgers: TestClient) -> None:
        page = ledgers.get("/search", params={"q": "zebra", "kind": "api"}, headers=HTML).text
        assert "Nothing matches “zebra” among API entities" in page
        assert 'href="/search?q=zebra">Search every kind</a>' in page
        assert 'href="/catalog-import">Register it</a>' in page


class TestQueryCount:
    def test_the_query_count_does_not_grow_with_the_number_of_matches(
        self, client: TestClient, runtime: Runtime, tmp_path: Path
    ) -> None:
        register(client, tmp_path / "few.yaml", *(component(f"alpha-{i}") for i in range(2)))
        register(client, tmp_path / "many.yaml", *(component(f"omega-{i}") for i in range(30)))
        client.get("/", headers=HTML)  # the viewer's lookups are warm
        with counting_queries(runtime) as few:
            client.get("/search", params={"q": "alpha"}, headers=HTML)
        with counting_queries(runtime) as many:
            client.get("/search", params={"q": "omega"}, headers=HTML)
        assert len(few) == len(many)

    def test_a_repeated_search_is_answered_from_the_cache(
        self, ledgers: TestClient, runtime: Runtime
    ) -> None:
        ledgers.get("/search", params={"q": "ledger"}, headers=HTML)
        with counting_queries(runtime) as repeated:
            ledgers.get("/search", params={"q": "ledger"}, headers=HTML)
        searching = [q for q in repeated if re.search(r"name_key|entity_fts|search_text", q)]
        assert searching == []  # only the catalog's generation was read to validate the cache


class TestSearchSources:
    def test_a_registered_source_adds_its_results_after_the_catalogs(
        self, ledgers: TestClient
    ) -> None:
        search_page.register_source(Docs())
        try:
            page = ledgers.get("/search", params={"q": "ledger"}, headers=HTML).text
        finally:
            search_page.SEARCH_SOURCES[:] = [
                s for s in search_page.SEARCH_SOURCES if s.name != "Docs"
            ]
        assert page.index("/catalog/default/component/ledger") < page.index("/docs/ledger-guide")
        assert 'aria-label="Docs results"' in page


class Docs:
    """A search source as the docs capability would add one."""

    name = "Docs"

    def search(self, runtime: Runtime, session: Session, request: SearchRequest) -> SourceResults:
        hit = SearchHit(
            url="/docs/ledger-guide",
            title=highlight("Ledger guide", request.term),
            name=None,
            kind="Doc",
            type=None,
            summary=Markup(""),
            tags=[],
            owner=None,
            namespace="default",
            matched_in="title",
        )
        return SourceResults(self.name, [hit], 1)


class TestHighlighting:
    def test_every_occurrence_is_marked_whatever_its_case(self) -> None:
        assert highlight("Order orders ORDER", "order") == Markup(
            "<mark>Order</mark> <mark>order</mark>s <mark>ORDER</mark>"
        )

    def test_a_long_description_is_cut_around_the_match(self) -> None:
        text = "word " * 80 + "ledger " + "word " * 80
        cut = snippet(text, "ledger", width=100)
        assert "ledger" in cut and cut.startswith("… ") and cut.endswith(" …")
        assert len(cut) <= 104
