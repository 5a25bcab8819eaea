"""The auditor's page: presets, filters in the URL, the table, pages, exports, errors."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from pavedroad.audit import service
from pavedroad.core.actors import Actor
from pavedroad.runtime import Runtime
from tests.audit.conftest import deployment, failed_sign_in, many_events
from tests.catalog.test_api import counting_queries

HTML = {"accept": "text/html"}
HTMX = {"accept": "text/html", "hx-request": "true"}


def rows(page: str) -> list[str]:
    body = page.split("<tbody>")[1].split("</tbody>")[0] if "<tbody>" in page else ""
    return re.findall(r"<tr id=\"event-\d+\">(.*?)</tr>", body, re.DOTALL)


def link(page: str, rel: str) -> str:
    found = re.search(rf'<a class="btn btn-small" href="([^"]+)"[^>]*rel="{rel}"', page)
    assert found, f"no {rel} link"
    return found.group(1).replace("&amp;", "&")


class TestTable:
    def test_a_row_shows_time_actor_action_resource_result_origin_and_metadata(
        self, client: TestClient, session: Session
    ) -> None:
        client.get("/api/audit/events/export")  # an event with a client address and request id
        deployment(session)
        session.commit()
        page = client.get("/audit", headers=HTML).text
        newest, exported = rows(page)
        assert re.search(r'<time datetime="\d{4}-[^"]+" title="[^"]+">just now</time>', newest)
        assert '<a href="/catalog/default/user/ann" title="user:default/ann">ann</a>' in newest
        assert "<code>deployment.trigger</code>" in newest
        assert '<a href="/catalog/default/component/checkout"' in newest
        assert '<span class="sub">catalog-entity</span>' in newest
        assert '<span class="badge badge-success">success</span>' in newest
        assert '<details class="audit-metadata"><summary>environment: production' in newest
        assert "<dt>version</dt><dd>1.4.2</dd>" in newest
        assert '<span class="client-ip">testclient</span>' in exported
        assert re.search(r'<code class="request-id sub" title="Request id [0-9a-f]{32}">', exported)

    def test_a_system_actor_is_not_a_link_and_a_failure_is_a_red_badge(
        self, client: TestClient, session: Session
    ) -> None:
        failed_sign_in(session)
        service.record(
            session, actor=Actor.system("catalog-refresh"), event="x", target="location:abc"
        )
        session.commit()
        newest, failed = rows(client.get("/audit", headers=HTML).text)
        assert "<code>system:catalog-refresh</code>" in newest
        assert '<a href="/locations/abc"' in newest
        assert '<span class="badge badge-danger">failed</span>' in failed

    def test_its_query_count_does_not_grow_with_the_number_of_events(
        self, client: TestClient, runtime: Runtime, session: Session
    ) -> None:
        deployment(session)
        session.commit()
        client.get("/audit", headers=HTML)
        with counting_queries(runtime) as one:
            client.get("/audit", headers=HTML)
        many_events(session, 30)
        session.commit()
        with counting_queries(runtime) as many:
            assert len(rows(client.get("/audit", headers=HTML).text)) == 31
        assert len(one) == len(many)


class TestFilters:
    def test_the_presets_are_one_click_links_at_the_top(self, client: TestClient) -> None:
        page = client.get("/audit", headers=HTML).text
        presets = page.split('aria-label="Common questions"')[1].split("</nav>")[0]
        assert re.findall(r'href="/audit\?preset=([a-z-]+)"', presets) == [
            "recent-deployments",
            "failed-sign-ins",
            "production-deployments",
        ]

    def test_a_preset_shows_its_own_metadata_columns(
        self, client: TestClient, session: Session
    ) -> None:
        failed_sign_in(session, ip="198.51.100.7")
        deployment(session)
        session.commit()
        page = client.get("/audit?preset=failed-sign-ins", headers=HTML).text
        assert '<th scope="col">IP address</th><th scope="col">Reason</th>' in page
        [row] = rows(page)
        assert "<td>198.51.100.7</td><td>bad-password</td>" in row
        assert 'aria-current="true">Failed sign-ins</a>' in page

    def test_filters_live_in_the_url_and_fill_the_form(
        self, client: TestClient, session: Session
    ) -> None:
        deployment(session, "production")
        deployment(session, "staging")
        session.commit()
        page = client.get(
            "/audit?action=deployment.*&where=details.environment%3Dstaging&since=7d", headers=HTML
        ).text
        assert len(rows(page)) == 1
        assert 'name="action" value="deployment.*"' in page
        assert 'name="since" value="7d"' in page
        assert 'name="where" value="details.environment=staging"' in page
        assert 'action="/audit" method="get"' in page  # works without JavaScript
        assert 'hx-get="/audit" hx-target="#audit-results"' in page

    def test_the_export_links_carry_the_current_filters(
        self, client: TestClient, session: Session
    ) -> None:
        deployment(session)
        session.commit()
        page = client.get(
            "/audit?preset=production-deployments&actor=user:default/ann", headers=HTML
        )
        hrefs = re.findall(r'href="(/api/audit/events/export\?[^"]+)" download', page.text)
        queries = [dict(parse_qsl(urlsplit(href.replace("&amp;", "&")).query)) for href in hrefs]
        assert queries == [
            {"actor": "user:default/ann", "preset": "production-deployments", "format": "jsonl"},
            {"actor": "user:default/ann", "preset": "production-deployments", "format": "csv"},
        ]

    def test_htmx_gets_only_the_results(self, client: TestClient, session: Session) -> None:
        deployment(session)
        session.commit()
        response = client.get("/audit?result=success&actor=&since=", headers=HTMX)
        assert response.status_code == 200
        assert "<html" not in response.text
        assert len(rows(response.text)) == 1
        assert response.headers["hx-push-url"] == "/audit?result=success"

    @pytest.mark.parametrize(
        ("query", "parameter"),
        [("since=yesterday", "since"), ("preset=deploys", "preset"), ("cursor=zzz", "cursor")],
    )
    def test_a_bad_filter_is_a_400_page_naming_it(
        self, client: TestClient, query: str, parameter: str
    ) -> None:
        response = client.get(f"/audit?{query}", headers=HTML)
        assert response.status_code == 400
        assert f'<div class="alert alert-danger" role="alert"><strong>{parameter}:</strong>' in (
            response.text
        )
        assert "No audit events match" not in response.text

    def test_a_bad_filter_over_htmx_still_shows_the_message(self, client: TestClient) -> None:
        response = client.get("/audit?since=soon", headers=HTMX)
        assert response.status_code == 200  # htmx swaps only successful responses
        assert "<strong>since:</strong>" in response.text


class TestPagesAndEmptyStates:
    def test_older_and_newer_walk_the_log_a_page_at_a_time(
        self, client: TestClient, session: Session
    ) -> None:
        many_events(session, 55)
        session.commit()
        first = client.get("/audit", headers=HTML).text
        assert len(rows(first)) == 50
        assert 'rel="prev"' not in first
        older = client.get(link(first, "next"), headers=HTML).text
        assert len(rows(older)) == 5
        assert 'rel="next"' not in older
        back = client.get(link(older, "prev"), headers=HTML).text
        assert rows(back) == rows(first)

    def test_a_filter_matching_nothing_says_what_to_try(
        self, client: TestClient, session: Session
    ) -> None:
        deployment(session)
        session.commit()
        page = client.get("/audit?actor=user:default/nobody", headers=HTML).text
        assert "No audit events match" in page
        assert "Widen the time range" in page and 'href="/audit">clear them all</a>' in page

    def test_an_empty_log_says_what_will_appear(self, client: TestClient) -> None:
        page = client.get("/audit", headers=HTML).text
        assert "Nothing has been recorded yet" in page


def test_audit_is_available_in_the_sidebar(client: TestClient) -> None:
    page = client.get("/audit", headers=HTML).text
    assert '<a href="/audit" aria-current="page">' in page
    assert 'Audit<span class="soon">' not in page
