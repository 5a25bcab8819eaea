"""The Locations pages: every location with its status, one location's errors and files, refresh."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pavedroad import demo
from pavedroad.catalog import service
from pavedroad.catalog.views.locations_page import relative
from pavedroad.core.actors import Actor
from pavedroad.runtime import Runtime
from tests.catalog.test_api import counting_queries
from tests.helpers import component, write, write_entities

HTML = {"accept": "text/html"}
HTMX = {"accept": "text/html", "hx-request": "true"}
WITHOUT_OWNER = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: ledger
spec:
  type: service
  lifecycle: production
"""


@pytest.fixture
def portal(runtime: Runtime, client: TestClient) -> TestClient:
    with runtime.db.session() as session:
        demo.load(session, runtime.catalog)
    return client


def register(client: TestClient, type_: str, target: Path | str) -> str:
    response = client.post("/api/catalog/locations", json={"type": type_, "target": str(target)})
    assert response.status_code == 201, response.text
    location_id: str = response.json()["location"]["id"]
    return location_id


def location_links(page: str) -> list[str]:
    """Location ids in the order the table lists them."""
    return re.findall(r'<td><a href="/locations/([0-9a-f-]{36})"', page)


class TestLocationList:
    def test_nothing_registered_says_how_to_start(self, client: TestClient) -> None:
        page = client.get("/locations", headers=HTML).text
        assert "Nothing is registered yet" in page
        assert 'href="/catalog-import"' in page

    def test_a_failing_location_is_listed_first_with_its_error_count(
        self, portal: TestClient, tmp_path: Path
    ) -> None:
        healthy = write_entities(tmp_path / "a" / "catalog-info.yaml", component("aaa"))
        register(portal, "file", healthy)
        broken = register(
            portal, "dir", write(tmp_path / "z" / "catalog-info.yaml", WITHOUT_OWNER).parent
        )
        page = portal.get("/locations", headers=HTML).text
        assert location_links(page)[0] == broken
        first_row = page.split("<tbody>")[1].split("</tr>")[0]
        assert '<span class="badge badge-danger">failed</span>' in first_row
        assert f'href="/locations/{broken}#errors">1</a>' in first_row
        assert "<strong>1</strong> failing" in page

    def test_the_last_read_is_relative_with_the_timestamp_in_the_title(
        self, portal: TestClient
    ) -> None:
        page = portal.get("/locations", headers=HTML).text
        assert re.search(
            r'<time datetime="\d{4}-\d\d-\d\dT[^"]+" title="[^"]+">just now</time>', page
        )

    def test_pasted_descriptors_are_named_by_their_file(self, portal: TestClient) -> None:
        pasted = WITHOUT_OWNER.replace("lifecycle: production", "lifecycle: production\n  owner: x")
        portal.post("/catalog-import", data={"mode": "yaml", "yaml": pasted})
        page = portal.get("/locations", headers=HTML).text
        assert re.search(r">Pasted descriptor ledger-[0-9a-f]{10}\.yaml</a>", page)

    def test_its_query_count_does_not_grow_with_the_number_of_locations(
        self, client: TestClient, runtime: Runtime, tmp_path: Path
    ) -> None:
        register(client, "file", write_entities(tmp_path / "0.yaml", component("c0")))
        client.get("/locations", headers=HTML)
        with counting_queries(runtime) as one:
            client.get("/locations", headers=HTML)
        for index in range(1, 6):
            path = write(tmp_path / f"{index}" / "catalog-info.yaml", WITHOUT_OWNER)
            register(client, "dir", path.parent)
        with counting_queries(runtime) as six:
            client.get("/locations", headers=HTML)
        assert len(one) == len(six)


class TestLocationPage:
    def test_errors_are_grouped_by_file_with_place_field_message_and_hint(
        self, portal: TestClient, tmp_path: Path
    ) -> None:
        write(tmp_path / "repo" / "catalog-info.yaml", WITHOUT_OWNER)
        write(
            tmp_path / "repo" / "billing" / "catalog-info.yaml",
            WITHOUT_OWNER.replace("ledger", "Bad Name"),
        )
        location_id = register(portal, "dir", tmp_path / "repo")
        page = portal.get(f"/locations/{location_id}", headers=HTML).text
        groups = re.findall(r'<h3 class="file-name"><code>([^<]+)</code>', page)
        assert groups == ["billing/catalog-info.yaml", "catalog-info.yaml"]
        assert "catalog-info.yaml:5:1</span>" in page
        assert '<code class="field-path">spec.owner</code>' in page
        assert "spec.owner is required for kind Component" in page
        assert "Fix: e.g. &#34;owner: team-payments&#34;" in page
        assert "billing/catalog-info.yaml:4:3</span>" in page  # the bad name

    def test_it_explains_why_an_entity_may_not_appear(
        self, portal: TestClient, runtime: Runtime
    ) -> None:
        page = portal.get(f"/locations/{demo_location(runtime)}", headers=HTML).text
        assert "Why did my entity not appear?" in page
        assert "Its file was refused." in page and "Its name is taken." in page

    def test_it_lists_the_files_it_read_and_the_entities_they_hold(
        self, portal: TestClient, runtime: Runtime
    ) -> None:
        page = portal.get(f"/locations/{demo_location(runtime)}", headers=HTML).text
        files = page.split('id="files-heading"')[1]
        assert "demo/catalog-info.yaml</code>" in files
        assert "demo/components/commerce.yaml</code>" in files
        assert 'href="/catalog/default/component/order-service"' in page

    def test_an_unknown_location_is_a_404_page(self, portal: TestClient) -> None:
        response = portal.get("/locations/00000000-0000-0000-0000-000000000000", headers=HTML)
        assert response.status_code == 404
        assert "Found no location" in response.text

    def test_refresh_now_reads_the_location_again(self, portal: TestClient, tmp_path: Path) -> None:
        descriptor = write(tmp_path / "repo" / "catalog-info.yaml", WITHOUT_OWNER)
        location_id = register(portal, "dir", tmp_path / "repo")
        descriptor.write_text(WITHOUT_OWNER + "  owner: team-checkout\n")
        response = portal.post(
            f"/locations/{location_id}/refresh", headers=HTML, follow_redirects=False
        )
        assert response.status_code == 303
        page = portal.get(response.headers["location"], headers=HTML).text
        assert "Read again just now: 1 created, 0 updated, 0 removed, 0 errors." in page
        assert '<span class="badge badge-success">ok</span>' in page
        assert "No errors" in page
        assert (
            portal.get("/api/catalog/entities/by-name/component/default/ledger").status_code == 200
        )

    def test_refresh_with_htmx_swaps_the_location_in_place(
        self, portal: TestClient, tmp_path: Path
    ) -> None:
        location_id = register(
            portal, "dir", write(tmp_path / "r" / "catalog-info.yaml", WITHOUT_OWNER).parent
        )
        response = portal.post(f"/locations/{location_id}/refresh", headers=HTMX)
        assert response.status_code == 200
        assert "<html" not in response.text
        assert "Read again just now: 0 created, 0 updated, 0 removed, 1 error." in response.text

    def test_its_query_count_does_not_grow_with_errors_and_files(
        self, client: TestClient, runtime: Runtime, tmp_path: Path
    ) -> None:
        small = register(
            client, "dir", write(tmp_path / "s" / "catalog-info.yaml", WITHOUT_OWNER).parent
        )
        for index in range(5):
            write(
                tmp_path / "l" / f"{index}" / "catalog-info.yaml",
                WITHOUT_OWNER.replace("ledger", f"l{index}"),
            )
        large = register(client, "dir", tmp_path / "l")
        client.get(f"/locations/{small}", headers=HTML)
        with counting_queries(runtime) as one:
            client.get(f"/locations/{small}", headers=HTML)
        with counting_queries(runtime) as five:
            client.get(f"/locations/{large}", headers=HTML)
        assert len(one) == len(five)


class TestProviderErrors:
    def test_a_refused_provider_snapshot_is_listed_in_its_own_section(
        self, client: TestClient, runtime: Runtime
    ) -> None:
        runtime.catalog.providers.append(Snapshot("hr-export", [component("Not Valid!")]))
        with runtime.db.session() as session:
            service.refresh_provider(
                session, runtime.catalog, "hr-export", actor=Actor("user:default/t")
            )
        page = client.get("/locations", headers=HTML).text
        section = page.split('id="providers-heading"')[1]
        assert "hr-export" in section
        assert "metadata.name" in section


class Snapshot:
    """An entity provider that hands over a fixed snapshot (an outside system's export)."""

    def __init__(self, name: str, entities: list[dict[str, Any]]) -> None:
        self.name = name
        self.entities = entities

    def read(self) -> Iterable[dict[str, Any]]:
        return self.entities


def demo_location(runtime: Runtime) -> str:
    with runtime.db.read_session() as session:
        found = service.find_location(session, "file", str(demo.CATALOG_FILE.resolve()))
    assert found is not None
    return found.id


class TestRelativeTime:
    @pytest.mark.parametrize(
        ("offset", "said"),
        [
            (timedelta(seconds=10), "just now"),
            (timedelta(minutes=3), "3 minutes ago"),
            (timedelta(minutes=1), "1 minute ago"),
            (timedelta(hours=5), "5 hours ago"),
            (timedelta(days=2), "2 days ago"),
            (-timedelta(minutes=4), "in 4 minutes"),
        ],
    )
    def test_moments_are_said_as_people_say_them(self, offset: timedelta, said: str) -> None:
        now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
        assert relative(now - offset, now) == said

    def test_a_moment_without_zone_is_utc(self) -> None:
        now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
        assert relative(datetime(2026, 11, 22, 11, 57), now) == "3 minutes ago"


def test_locations_is_in_the_sidebar(client: TestClient) -> None:
    page = client.get("/locations", headers=HTML).text
    assert '<a href="/locations" aria-current="page">' in page
