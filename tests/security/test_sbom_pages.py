"""The SBOM download API and the Dependencies tab of a component's page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from pavedroad.catalog import service
from pavedroad.core.actors import Actor
from pavedroad.runtime import Runtime, build_runtime
from pavedroad.security.advisories import import_advisories
from pavedroad.security.sbom import (
    build_bom,
    latest_sbom,
    read_inventory,
    schema_errors,
    store_sbom,
)
from pavedroad.security.sbom.models import Sbom
from pavedroad.security.sbom.packages import locked
from tests.catalog.test_api import counting_queries
from tests.conftest import SHARED
from tests.helpers import component, write_entities
from tests.identity import conftest as identity
from tests.identity.conftest import PASSWORD, new_client, sign_in
from tests.security.test_sbom_readers import FIXTURES

ACTOR = Actor("user:default/tester")
LEDGER = "component:default/ledger"
PAGE = "/catalog/default/component/ledger"
secure_runtime = identity.secure_runtime  # fixtures: a portal that needs signing in
signed_out_settings = identity.signed_out_settings


@pytest.fixture
def catalog(session: Session, runtime: Runtime, tmp_path: Path) -> Session:
    write_entities(tmp_path / "catalog.yaml", component("ledger"), component("search"))
    service.register_locations(
        session, runtime.catalog, [("file", str(tmp_path / "catalog.yaml"))], actor=ACTOR
    )
    session.commit()
    return session


def stored(session: Session, fixture: str, *, commit: str = "a1b2c3d4e5f6a7b8") -> Sbom:
    packages = read_inventory(FIXTURES / fixture).packages
    sbom = store_sbom(
        session,
        component_ref=LEDGER,
        commit=commit,
        version=None,
        document=build_bom(packages, component_ref=LEDGER, commit=commit),
        packages=packages,
        actor=ACTOR,
    )
    session.commit()
    return sbom


class TestDownload:
    def test_an_sbom_downloads_as_cyclonedx_json(
        self, client: TestClient, catalog: Session
    ) -> None:
        sbom = stored(catalog, "pip-compile")

        response = client.get(f"/api/security/v1/sboms/{sbom.id}")

        assert response.status_code == 200
        assert response.headers["content-type"] == "application/vnd.cyclonedx+json"
        assert 'filename="ledger-a1b2c3d4e5f6.cdx.json"' in response.headers["content-disposition"]
        assert schema_errors(response.json()) == []
        assert response.json()["serialNumber"] == sbom.document["serialNumber"]

    def test_the_latest_sbom_of_a_component(self, client: TestClient, catalog: Session) -> None:
        stored(catalog, "pip-compile", commit="old")
        newest = stored(catalog, "poetry", commit="new")

        response = client.get("/api/security/v1/components/component/default/ledger/sbom")

        assert response.status_code == 200
        assert response.json()["serialNumber"] == newest.document["serialNumber"]

    def test_a_component_without_an_sbom_is_not_found_with_a_hint(
        self, client: TestClient, catalog: Session
    ) -> None:
        response = client.get("/api/security/v1/components/component/default/search/sbom")

        assert response.status_code == 404
        assert "has no SBOM yet" in response.json()["error"]["message"]

    def test_an_unknown_sbom_is_not_found(self, client: TestClient, catalog: Session) -> None:
        assert client.get("/api/security/v1/sboms/nope").status_code == 404


class TestDependenciesTab:
    def test_lists_packages_with_direct_transitive_and_known_vulnerabilities(
        self, client: TestClient, catalog: Session
    ) -> None:
        import_advisories(catalog, SHARED / "advisories/pypa/vulns/django", actor=ACTOR)
        catalog.commit()
        sbom = stored(catalog, "pip-compile")

        html = client.get(PAGE, params={"tab": "dependencies"}).text

        assert "Dependencies" in html
        assert "<strong>8</strong> packages" in html
        assert f"/api/security/v1/sboms/{sbom.id}" in html
        assert "<code>django</code>" in html and "direct" in html and "transitive" in html
        assert "PYSEC-2019-13" in html
        assert "upgrade django 2.2.0 → 2.2.4" in html

    def test_search_narrows_the_list(self, client: TestClient, catalog: Session) -> None:
        stored(catalog, "pip-compile")

        html = client.get(PAGE, params={"tab": "dependencies", "deps_q": "char"}).text

        assert "<code>charset-normalizer</code>" in html
        assert "<code>django</code>" not in html
        assert "1 to 1 of 1" in html

    def test_long_lists_come_a_page_at_a_time(self, client: TestClient, catalog: Session) -> None:
        packages = [
            locked("npm", f"pkg-{n:03}", "1.0.0", "package-lock.json", n) for n in range(120)
        ]
        store_sbom(
            catalog,
            component_ref=LEDGER,
            commit="c",
            version=None,
            document=build_bom(packages, component_ref=LEDGER),
            packages=packages,
            actor=ACTOR,
        )
        catalog.commit()

        first = client.get(PAGE, params={"tab": "dependencies"}).text
        second = client.get(PAGE, params={"tab": "dependencies", "deps_offset": "50"}).text

        assert "1 to 50 of 120" in first and "pkg-049" in first and "pkg-050" not in first
        assert "deps_offset=50" in first
        assert "51 to 100 of 120" in second and "pkg-050" in second

    def test_the_number_of_queries_does_not_grow_with_the_packages(
        self, runtime: Runtime, client: TestClient, catalog: Session
    ) -> None:
        import_advisories(catalog, SHARED / "advisories/pypa/vulns/django", actor=ACTOR)
        catalog.commit()
        django = locked("PyPI", "django", "2.2.0", "requirements.txt", 1)
        many = [locked("npm", f"pkg-{n:03}", "1.0.0", "package-lock.json", n) for n in range(40)]
        for commit, packages in (("few", [django]), ("many", [django, *many])):
            store_sbom(
                catalog,
                component_ref=LEDGER,
                commit=commit,
                version=None,
                document=build_bom(packages, component_ref=LEDGER),
                packages=packages,
                actor=ACTOR,
            )
            catalog.commit()
            if commit == "few":
                client.get(PAGE, params={"tab": "dependencies"})  # warm caches
                with counting_queries(runtime) as few:
                    client.get(PAGE, params={"tab": "dependencies"})

        with counting_queries(runtime) as more:
            html = client.get(PAGE, params={"tab": "dependencies"}).text

        assert "PYSEC-2019-13" in html
        assert len(more) == len(few)

    def test_a_component_without_an_sbom_says_how_to_get_one(
        self, client: TestClient, catalog: Session
    ) -> None:
        html = client.get(PAGE, params={"tab": "dependencies"}).text

        assert "No SBOM yet" in html and "uses: sbom" in html


OWNERS_SEE_THEIR_OWN = """
rules:
  - name: owners-see-what-they-own
    permissions: [catalog.entity.read]
    if: {is_entity_owner: {}}
    decision: allow
  - name: team-a-reads-sboms
    permissions: [security.sbom.read, identity.self.read]
    if: {user_in_group: "group:default/team-a"}
    decision: allow
default: deny
"""


class TestPermissions:
    """Ada (team-a) owns ledger and may read SBOMs; Bo (team-b) owns payroll and may not."""

    @pytest.fixture
    def owners_only(self, secure_runtime: Runtime, tmp_path: Path) -> Iterator[Runtime]:
        policy = tmp_path / "policy.yaml"
        policy.write_text(OWNERS_SEE_THEIR_OWN)
        settings = secure_runtime.settings
        permissions = settings.permissions.model_copy(update={"policy_file": policy, "admins": []})
        built = build_runtime(
            settings.model_copy(update={"permissions": permissions}), db=secure_runtime.db
        )
        with built.db.session() as session:
            for name in ("ledger", "payroll"):
                ref = f"component:default/{name}"
                packages = [locked("PyPI", "django", "2.2.0", "requirements.txt", 1)]
                store_sbom(
                    session,
                    component_ref=ref,
                    commit=name,
                    version=None,
                    document=build_bom(packages, component_ref=ref),
                    packages=packages,
                    actor=ACTOR,
                )
        yield built

    def signed_in(self, runtime: Runtime, name: str) -> TestClient:
        client = new_client(runtime)
        client.__enter__()
        assert sign_in(client, name, PASSWORD).status_code == 303
        return client

    def test_the_sbom_of_a_component_one_may_not_see_is_not_found(
        self, owners_only: Runtime
    ) -> None:
        ada = self.signed_in(owners_only, "ada")
        with owners_only.db.read_session() as session:
            payroll = latest_sbom(session, "component:default/payroll")
            assert payroll is not None
            payroll_id = payroll.id

        own = ada.get("/api/security/v1/components/component/default/ledger/sbom")
        other = ada.get("/api/security/v1/components/component/default/payroll/sbom")
        by_id = ada.get(f"/api/security/v1/sboms/{payroll_id}")

        assert own.status_code == 200
        assert other.status_code == 404 and by_id.status_code == 404
        ada.__exit__(None, None, None)

    def test_without_the_permission_the_api_refuses_and_the_tab_says_so(
        self, owners_only: Runtime
    ) -> None:
        bo = self.signed_in(owners_only, "bo")

        refused = bo.get("/api/security/v1/components/component/default/payroll/sbom")
        html = bo.get("/catalog/default/component/payroll", params={"tab": "dependencies"}).text

        assert refused.status_code == 403
        assert "does not let you see this component's SBOM" in html
        bo.__exit__(None, None, None)
