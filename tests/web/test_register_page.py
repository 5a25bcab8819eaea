"""The Register page: checking pasted YAML and targets, the preview, and registering them."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from pavedroad import demo
from pavedroad.config import Settings
from tests.helpers import write

HTML = {"accept": "text/html"}
HTMX = {"accept": "text/html", "hx-request": "true"}

PAYMENTS_WITHOUT_OWNER = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: payments
spec:
  type: service
  lifecycle: production
"""
PAYMENTS = (
    PAYMENTS_WITHOUT_OWNER
    + """\
  owner: team-checkout
  providesApis: [order-api]
  dependsOn: [resource:payments-ledger]
"""
)


def check(portal: TestClient, text: str) -> str:
    response = portal.post(
        "/catalog-import/validate", data={"mode": "yaml", "yaml": text}, headers=HTMX
    )
    assert response.status_code == 200
    return response.text


def location_count(portal: TestClient) -> int:
    return len(portal.get("/api/catalog/locations").json())


class TestThePage:
    def test_the_page_offers_an_editor_with_line_numbers_that_checks_as_you_type(
        self, portal: TestClient
    ) -> None:
        page = portal.get("/catalog-import", headers=HTML).text
        assert '<textarea id="descriptor" name="yaml"' in page
        assert 'data-gutter="descriptor-gutter"' in page
        assert 'hx-post="/catalog-import/validate"' in page
        assert 'hx-trigger="input changed delay:500ms"' in page

    def test_register_is_in_the_sidebar(self, portal: TestClient) -> None:
        page = portal.get("/", headers=HTML).text
        assert '<a href="/catalog-import"' in page and "Register</a>" in page

    def test_an_example_starts_with_the_viewers_team_as_owner(self, portal: TestClient) -> None:
        page = portal.get("/catalog-import?example=component", headers=HTML).text
        assert "owner: team-checkout" in page
        assert "Ready to register 1 entity" in page

    def test_the_location_type_defaults_to_a_guess_from_the_target(
        self, portal: TestClient
    ) -> None:
        params = {"mode": "target", "target": "https://git.example.com/team/repo.git"}
        page = portal.get("/catalog-import", params=params, headers=HTML).text
        assert '<option value="auto" selected>Detected: a git repository' in page


class TestChecking:
    def test_a_component_without_owner_is_shown_at_line_5_with_the_fix(
        self, portal: TestClient
    ) -> None:
        panel = check(portal, PAYMENTS_WITHOUT_OWNER)
        assert "1 problem to fix" in panel
        assert 'data-goto-line="5"' in panel and "line 5, column 1" in panel
        assert '<code class="field-path">spec.owner</code>' in panel
        assert "spec.owner is required for kind Component" in panel
        assert "Fix: e.g. &#34;owner: team-payments&#34;" in panel
        assert 'data-error-lines="5"' in panel  # the editor marks line 5 in its gutter

    def test_a_yaml_syntax_error_names_its_line(self, portal: TestClient) -> None:
        panel = check(portal, "apiVersion: backstage.io/v1alpha1\nkind: [Component\n")
        assert "YAML syntax error" in panel
        assert re.search(r'data-goto-line="[23]"', panel)

    def test_the_preview_lists_entities_with_kind_name_owner_and_relations(
        self, portal: TestClient
    ) -> None:
        panel = check(portal, PAYMENTS)
        assert "Ready to register 1 entity" in panel
        assert '<span class="badge badge-accent">Component</span>' in panel
        assert "<strong>payments</strong>" in panel
        assert "Owner <strong>team-checkout</strong>" in panel
        relations = panel.split('class="relations"')[1]
        assert 'Owned by</span> <span class="rel-target">group:team-checkout</span>' in relations
        assert 'Provides API</span> <span class="rel-target">api:order-api</span>' in relations
        # A relation to something not in the catalog yet is kept, and said so.
        assert 'resource:payments-ledger</span> <span class="badge"' in relations
        assert "not in catalog" in relations

    def test_a_name_taken_by_another_location_is_a_problem_at_the_name_line(
        self, portal: TestClient
    ) -> None:
        taken = PAYMENTS.replace("name: payments", "name: order-service")
        panel = check(portal, taken)
        assert "component:default/order-service is already in the catalog" in panel
        assert 'data-goto-line="4"' in panel

    def test_nothing_pasted_explains_what_happens(self, portal: TestClient) -> None:
        panel = check(portal, "  \n")
        assert "What happens here" in panel

    def test_checking_without_javascript_returns_the_page_with_problems_in_the_gutter(
        self, portal: TestClient
    ) -> None:
        response = portal.post(
            "/catalog-import/validate",
            data={"mode": "yaml", "yaml": PAYMENTS_WITHOUT_OWNER},
            headers=HTML,
        )
        assert response.status_code == 422
        page = response.text
        assert "<html" in page and "line 5, column 1" in page
        assert '<span class="error">5</span>' in page
        assert "name: payments" in page  # what was pasted stays in the editor


class TestRegisteringPastedYaml:
    def test_registering_keeps_a_file_and_creates_the_entities(
        self, portal: TestClient, settings: Settings
    ) -> None:
        response = portal.post(
            "/catalog-import",
            data={"mode": "yaml", "yaml": PAYMENTS},
            headers=HTML,
            follow_redirects=False,
        )
        assert response.status_code == 303
        result = portal.get(response.headers["location"], headers=HTML).text
        assert "Registered." in result and "1 entity is in the catalog now" in result
        assert 'href="/catalog/default/component/payments"' in result
        [kept] = (settings.data_dir / "registered").glob("payments-*.yaml")
        assert kept.read_text() == PAYMENTS
        entity = portal.get("/api/catalog/entities/by-name/component/default/payments")
        assert entity.status_code == 200

    def test_line_breaks_from_the_browser_are_stored_as_plain_newlines(
        self, portal: TestClient, settings: Settings
    ) -> None:
        portal.post(
            "/catalog-import", data={"mode": "yaml", "yaml": PAYMENTS.replace("\n", "\r\n")}
        )
        [kept] = (settings.data_dir / "registered").glob("payments-*.yaml")
        assert kept.read_bytes() == PAYMENTS.encode()

    def test_unregistering_a_pasted_descriptor_deletes_its_kept_copy(
        self, portal: TestClient, settings: Settings
    ) -> None:
        response = portal.post(
            "/catalog-import", data={"mode": "yaml", "yaml": PAYMENTS}, follow_redirects=False
        )
        location_id = response.headers["location"].split("/")[-1].split("?")[0]
        [kept] = (settings.data_dir / "registered").glob("payments-*.yaml")
        assert portal.delete(f"/api/catalog/locations/{location_id}").status_code == 204
        assert not kept.exists()
        missing = portal.get("/api/catalog/entities/by-name/component/default/payments")
        assert missing.status_code == 404

    def test_unregistering_a_file_the_portal_did_not_write_keeps_the_file(
        self, portal: TestClient, tmp_path: Path
    ) -> None:
        own = write(tmp_path / "own" / "catalog-info.yaml", PAYMENTS)
        created = portal.post("/api/catalog/locations", json={"type": "file", "target": str(own)})
        assert created.status_code == 201, created.text
        location_id = created.json()["location"]["id"]
        assert portal.delete(f"/api/catalog/locations/{location_id}").status_code == 204
        assert own.read_text() == PAYMENTS

    def test_a_descriptor_with_a_problem_registers_nothing(
        self, portal: TestClient, settings: Settings
    ) -> None:
        before = location_count(portal)
        response = portal.post(
            "/catalog-import", data={"mode": "yaml", "yaml": PAYMENTS_WITHOUT_OWNER}, headers=HTML
        )
        assert response.status_code == 422
        assert "line 5, column 1" in response.text
        assert location_count(portal) == before
        assert not list((settings.data_dir / "registered").glob("*.yaml"))

    def test_the_same_descriptor_twice_is_already_registered(self, portal: TestClient) -> None:
        first = portal.post(
            "/catalog-import",
            data={"mode": "yaml", "yaml": PAYMENTS},
            headers=HTML,
            follow_redirects=False,
        )
        location_id = first.headers["location"].split("/")[2].split("?")[0]
        again = portal.post(
            "/catalog-import", data={"mode": "yaml", "yaml": PAYMENTS}, headers=HTML
        )
        assert again.status_code == 409
        assert "This exact descriptor is already registered." in again.text
        assert f'href="/locations/{location_id}"' in again.text


class TestRegisteringTargets:
    def test_a_folder_is_registered_and_the_result_links_its_entities(
        self, portal: TestClient, tmp_path: Path
    ) -> None:
        write(tmp_path / "ledger" / "catalog-info.yaml", PAYMENTS.replace("payments", "ledger"))
        response = portal.post(
            "/catalog-import",
            data={"mode": "target", "target": str(tmp_path / "ledger"), "type": "auto"},
            headers=HTML,
            follow_redirects=False,
        )
        assert response.status_code == 303
        result = portal.get(response.headers["location"], headers=HTML).text
        assert 'href="/catalog/default/component/ledger"' in result
        locations = portal.get("/api/catalog/locations").json()
        assert {"dir"} <= {item["data"]["type"] for item in locations}

    def test_checking_a_target_previews_what_it_holds(
        self, portal: TestClient, tmp_path: Path
    ) -> None:
        write(tmp_path / "ledger" / "catalog-info.yaml", PAYMENTS.replace("payments", "ledger"))
        panel = portal.post(
            "/catalog-import/validate",
            data={"mode": "target", "target": str(tmp_path / "ledger")},
            headers=HTMX,
        ).text
        assert "Ready to register 1 entity" in panel
        assert "1 file read as a folder" in panel

    def test_a_target_with_a_refused_file_is_registered_and_its_errors_shown(
        self, portal: TestClient, tmp_path: Path
    ) -> None:
        write(tmp_path / "broken" / "catalog-info.yaml", PAYMENTS_WITHOUT_OWNER)
        response = portal.post(
            "/catalog-import",
            data={"mode": "target", "target": str(tmp_path / "broken"), "type": "dir"},
            headers=HTML,
        )
        assert response.status_code == 200  # followed to the result
        assert "Registered, with 1 problem." in response.text
        assert "catalog-info.yaml:5:1" in response.text
        assert "Fix: e.g. &#34;owner: team-payments&#34;" in response.text

    def test_an_already_registered_target_is_a_clear_conflict(self, portal: TestClient) -> None:
        target = str(demo.CATALOG_FILE.resolve())
        response = portal.post(
            "/catalog-import",
            data={"mode": "target", "target": target, "type": "file"},
            headers=HTML,
        )
        assert response.status_code == 409
        assert f"Location file:{target} already exists." in response.text
        assert re.search(r'href="/locations/[0-9a-f-]{36}">Open the location', response.text)

    def test_checking_an_already_registered_target_says_so(self, portal: TestClient) -> None:
        target = str(demo.CATALOG_FILE.resolve())
        panel = portal.post(
            "/catalog-import/validate", data={"mode": "target", "target": target}, headers=HTMX
        ).text
        assert f"file:{target} is already registered." in panel

    def test_an_unreadable_git_url_shows_the_git_error(
        self, portal: TestClient, tmp_path: Path
    ) -> None:
        url = f"file://{tmp_path}/no-such-repository.git"
        response = portal.post(
            "/catalog-import", data={"mode": "target", "target": url, "type": "auto"}, headers=HTML
        )
        assert response.status_code == 400
        assert f"Cannot read location git:{url}: cannot read git repository" in response.text
        assert "does not appear to be a git repository" in response.text
        assert "check the URL and that this server may read it" in response.text

    def test_a_missing_file_is_an_inline_error(self, portal: TestClient, tmp_path: Path) -> None:
        missing = str(tmp_path / "nowhere.yaml")
        response = portal.post(
            "/catalog-import", data={"mode": "target", "target": missing}, headers=HTML
        )
        assert response.status_code == 400
        assert "does not exist or is not a file" in response.text
        assert 'class="alert alert-danger check-error"' in response.text
