"""Discovery: proposing Components for repositories that nobody has described yet."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from pavedroad.catalog import service
from pavedroad.catalog.discovery import (
    DISCOVERED,
    PLACEHOLDER_OWNER,
    PROJECT_SLUG,
    SOURCE_LOCATION,
    Proposal,
    discover,
    entity_name,
)
from pavedroad.catalog.discovery_cli import discover as discover_command
from pavedroad.catalog.models import Entity
from pavedroad.config import Settings, get_settings
from pavedroad.core.actors import Actor
from pavedroad.runtime import Runtime
from tests.conftest import git
from tests.helpers import component, write, write_entities

FASTAPI_SERVICE = {
    "pyproject.toml": """
        [build-system]
        requires = ["setuptools"]

        [project]
        name = "payments-api"
        description = "Takes card payments for the web shop."
        dependencies = ["fastapi>=0.110", "uvicorn[standard]", "sqlalchemy"]
        """,
    "src/payments_api/main.py": "from fastapi import FastAPI\napp = FastAPI()\n",
}
REACT_APP = {
    "package.json": """
        {"name": "shop-web", "private": true,
         "dependencies": {"react": "^18.2.0", "react-dom": "^18.2.0"},
         "devDependencies": {"typescript": "^5.4.0", "vite": "^5.2.0"}}
        """,
    "tsconfig.json": "{}\n",
    "src/App.tsx": "export const App = () => null;\n",
}
GO_LIBRARY = {
    "go.mod": """
        module github.com/acme/retry

        go 1.22

        require github.com/stretchr/testify v1.9.0 // indirect
        """,
    "retry.go": "package retry\n\nfunc Do(f func() error) error { return f() }\n",
}


def repo(path: Path, files: dict[str, str], *, commit: bool = False) -> Path:
    """A repository with ``files``; with ``commit``, a git repository with them committed."""
    path.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        write(path / name, content)
    if commit:
        git("init", "-q", "-b", "main", cwd=path)
        git("add", "-A", cwd=path)
        git("commit", "-q", "-m", "initial", cwd=path)
    return path


def publish(source: Path, bare: Path) -> str:
    """Push ``source`` to a new bare repository at ``bare``; its file:// URL."""
    bare.mkdir(parents=True)
    git("init", "-q", "--bare", "-b", "main", cwd=bare)
    git("push", "-q", str(bare), "main", cwd=source)
    return bare.as_uri()


@pytest.fixture
def scan_settings(tmp_path: Path) -> Settings:
    """Settings for discovery alone: a git cache, no database."""
    return Settings(data_dir=tmp_path / "data", log_format="console")


def discover_one(path: Path, settings: Settings) -> Proposal:
    (proposal,) = discover([str(path)], settings=settings)
    assert proposal.error is None, proposal.error
    return proposal


def entity_of(proposal: Proposal) -> dict[str, Any]:
    assert proposal.entity is not None, proposal.evidence
    return proposal.entity


class TestInference:
    def test_python_fastapi_repository_is_a_service_tagged_python_and_fastapi(
        self, tmp_path: Path, scan_settings: Settings
    ) -> None:
        proposal = discover_one(repo(tmp_path / "payments-api", FASTAPI_SERVICE), scan_settings)
        entity = entity_of(proposal)
        assert entity["apiVersion"] == "backstage.io/v1alpha1"
        assert entity["kind"] == "Component"
        assert entity["metadata"]["name"] == "payments-api"
        assert entity["spec"]["type"] == "service"
        assert entity["metadata"]["tags"] == ["python", "fastapi"]
        assert entity["metadata"]["description"] == "Takes card payments for the web shop."
        assert any("service" in line and "fastapi" in line for line in proposal.evidence)

    def test_react_app_is_a_website_in_typescript(
        self, tmp_path: Path, scan_settings: Settings
    ) -> None:
        entity = entity_of(discover_one(repo(tmp_path / "shop-web", REACT_APP), scan_settings))
        assert entity["spec"]["type"] == "website"
        assert entity["metadata"]["tags"] == ["typescript", "react"]

    def test_go_module_without_a_main_package_is_a_library(
        self, tmp_path: Path, scan_settings: Settings
    ) -> None:
        proposal = discover_one(repo(tmp_path / "retry", GO_LIBRARY), scan_settings)
        entity = entity_of(proposal)
        assert entity["spec"]["type"] == "library"
        assert entity["metadata"]["tags"] == ["go"]
        assert any("without a main package" in line for line in proposal.evidence)

    def test_go_program_that_listens_for_http_is_a_service(
        self, tmp_path: Path, scan_settings: Settings
    ) -> None:
        files = {
            "go.mod": "module github.com/acme/quotes\n\ngo 1.22\n",
            "cmd/quotes/main.go": 'package main\n\nimport "net/http"\n\n'
            'func main() { http.ListenAndServe(":8080", nil) }\n',
        }
        entity = entity_of(discover_one(repo(tmp_path / "quotes", files), scan_settings))
        assert entity["spec"]["type"] == "service"

    def test_frontend_with_a_dockerfile_is_still_a_website(
        self, tmp_path: Path, scan_settings: Settings
    ) -> None:
        files = {**REACT_APP, "Dockerfile": "FROM nginx\nCOPY dist /usr/share/nginx/html\n"}
        entity = entity_of(discover_one(repo(tmp_path / "shop-web", files), scan_settings))
        assert entity["spec"]["type"] == "website"

    def test_repository_without_manifests_is_other_with_languages_from_its_files(
        self, tmp_path: Path, scan_settings: Settings
    ) -> None:
        files = {"scripts/a.sh": "echo a\n", "scripts/b.sh": "echo b\n", "notes.txt": "x\n"}
        proposal = discover_one(repo(tmp_path / "ops-scripts", files), scan_settings)
        entity = entity_of(proposal)
        assert entity["spec"]["type"] == "other"
        assert entity["metadata"]["tags"] == ["shell"]
        assert any("set spec.type" in line for line in proposal.evidence)

    def test_description_falls_back_to_the_readme_first_paragraph(
        self, tmp_path: Path, scan_settings: Settings
    ) -> None:
        readme = """
            # Retry

            [![build](https://ci.example/badge.svg)](https://ci.example)

            Retries **flaky** calls with
            [exponential backoff](https://en.wikipedia.org/wiki/Exponential_backoff).

            ## Usage
            """
        files = {**GO_LIBRARY, "README.md": readme}
        entity = entity_of(discover_one(repo(tmp_path / "retry", files), scan_settings))
        assert entity["metadata"]["description"] == (
            "Retries flaky calls with exponential backoff."
        )

    def test_proposal_is_an_experimental_discovered_component_pointing_at_its_source(
        self, tmp_path: Path, scan_settings: Settings
    ) -> None:
        path = repo(tmp_path / "payments-api", FASTAPI_SERVICE)
        entity = entity_of(discover_one(path, scan_settings))
        assert entity["spec"]["lifecycle"] == "experimental"
        assert entity["metadata"]["annotations"] == {
            SOURCE_LOCATION: f"url:{path.as_uri()}",
            DISCOVERED: "true",
        }

    def test_local_clone_is_located_by_its_origin_with_the_github_project_slug(
        self, tmp_path: Path, scan_settings: Settings
    ) -> None:
        path = repo(tmp_path / "payments-api", FASTAPI_SERVICE, commit=True)
        git(
            "remote",
            "add",
            "origin",
            "https://ci:s3cret@github.com/acme/payments-api.git",
            cwd=path,
        )
        annotations = entity_of(discover_one(path, scan_settings))["metadata"]["annotations"]
        assert annotations[SOURCE_LOCATION] == "url:https://github.com/acme/payments-api"
        assert annotations[PROJECT_SLUG] == "acme/payments-api"


class TestOwner:
    @pytest.mark.parametrize(
        ("path", "codeowners", "owner"),
        [
            (".github/CODEOWNERS", "* @acme/payments-team @acme/sre\n", "payments-team"),
            ("CODEOWNERS", "*.py @acme/python\n* @jane\n", "user:jane"),
            ("docs/CODEOWNERS", "# owners\n/ jane.doe@acme.example\n", "user:jane.doe"),
            (
                "CODEOWNERS",
                "* @acme/old-team\n/docs/ @acme/writers\n* @acme/new-team\n",
                "new-team",
            ),
            ("CODEOWNERS", "/src/ @acme/core\n/docs/ @acme/writers\n", "core"),
        ],
        ids=["team", "user", "email", "last-whole-repo-rule-wins", "first-rule-otherwise"],
    )
    def test_owner_comes_from_codeowners(
        self, tmp_path: Path, scan_settings: Settings, path: str, codeowners: str, owner: str
    ) -> None:
        files = {**GO_LIBRARY, path: codeowners}
        entity = entity_of(discover_one(repo(tmp_path / "retry", files), scan_settings))
        assert entity["spec"]["owner"] == owner

    def test_without_codeowners_the_owner_is_a_placeholder_that_must_be_set(
        self, tmp_path: Path, scan_settings: Settings
    ) -> None:
        proposal = discover_one(repo(tmp_path / "retry", GO_LIBRARY), scan_settings)
        assert entity_of(proposal)["spec"]["owner"] == PLACEHOLDER_OWNER == "group:needs-owner"
        assert any("placeholder" in line and "set spec.owner" in line for line in proposal.evidence)


class TestNames:
    @pytest.mark.parametrize(
        ("repository", "name"),
        [
            ("PaymentService", "payment-service"),
            ("my_repo.v2", "my-repo-v2"),
            ("Ünïcode Repo!!", "unicode-repo"),
            ("x" * 80, "x" * 63),
        ],
    )
    def test_repository_names_become_lowercase_kebab_within_63_characters(
        self, repository: str, name: str
    ) -> None:
        assert entity_name(repository) == name

    def test_three_repositories_called_backend_get_distinct_names_by_the_clash_rule(
        self, tmp_path: Path, scan_settings: Settings
    ) -> None:
        payments = repo(tmp_path / "payments/backend", FASTAPI_SERVICE)
        search = repo(tmp_path / "search/backend", GO_LIBRARY)
        clone = repo(tmp_path / "work/backend", REACT_APP, commit=True)
        url = publish(clone, tmp_path / "remotes/payments/backend.git")
        targets = [str(payments), str(search), url]

        proposals = discover(targets, settings=scan_settings)
        names = [p.name for p in proposals]
        assert names[1] == "search-backend"  # qualified by its parent directory
        assert "clash rule: 3 repositories are called backend" in proposals[1].evidence[0]
        # payments/backend twice (a directory and a URL owner): qualified, then hashed
        assert all(re.fullmatch(r"payments-backend-[0-9a-f]{6}", n or "") for n in names[::2])
        assert len(set(names)) == 3
        reordered = [p.name for p in discover(targets[::-1], settings=scan_settings)]
        assert reordered == names[::-1]

    def test_a_name_the_catalog_gives_another_repository_is_not_proposed(
        self, tmp_path: Path, runtime: Runtime, session: Session
    ) -> None:
        write_entities(tmp_path / "elsewhere/catalog-info.yaml", component("backend"))
        service.register_locations(
            session,
            runtime.catalog,
            [("file", str(tmp_path / "elsewhere/catalog-info.yaml"))],
            actor=Actor("user:default/t"),
        )
        session.commit()
        path = repo(tmp_path / "payments/backend", FASTAPI_SERVICE)
        (proposal,) = discover([str(path)], settings=runtime.settings, session=session)
        assert proposal.name == "payments-backend"
        assert any("already in the catalog" in line for line in proposal.evidence)

    def test_a_repository_keeps_the_name_the_catalog_knows_it_by_when_discovered_alone(
        self, tmp_path: Path, runtime: Runtime, session: Session
    ) -> None:
        payments = repo(tmp_path / "payments/backend", FASTAPI_SERVICE)
        search = repo(tmp_path / "search/backend", GO_LIBRARY)
        first, _ = discover([str(payments), str(search)], settings=runtime.settings)
        assert first.name == "payments-backend"
        write_entities(tmp_path / "discovered/payments-backend.yaml", entity_of(first))
        service.register_locations(
            session,
            runtime.catalog,
            [("file", str(tmp_path / "discovered/payments-backend.yaml"))],
            actor=Actor("user:default/t"),
        )
        session.commit()
        (alone,) = discover([str(payments)], settings=runtime.settings, session=session)
        assert alone.name == "payments-backend"


class TestDependencies:
    def test_requirement_on_a_distribution_another_repository_publishes_is_a_dependency(
        self, tmp_path: Path, scan_settings: Settings
    ) -> None:
        core = repo(
            tmp_path / "payments-core",
            {"pyproject.toml": '[build-system]\n[project]\nname = "payments-core"\n'},
        )
        checkout = repo(tmp_path / "checkout", {"requirements.txt": "Payments_Core>=1.2\nflask\n"})
        library, app = discover([str(core), str(checkout)], settings=scan_settings)
        assert entity_of(app)["spec"]["dependsOn"] == ["component:payments-core"]
        assert "dependsOn" not in entity_of(library)["spec"]
        assert any("payments-core publishes" in line for line in app.evidence)

    def test_dependency_on_a_sibling_npm_package_is_a_dependency(
        self, tmp_path: Path, scan_settings: Settings
    ) -> None:
        kit = repo(tmp_path / "ui-kit", {"package.json": '{"name": "@acme/ui-kit"}'})
        shop = repo(
            tmp_path / "shop",
            {"package.json": '{"private": true, "dependencies": {"@acme/ui-kit": "^2"}}'},
        )
        _, app = discover([str(kit), str(shop)], settings=scan_settings)
        assert entity_of(app)["spec"]["dependsOn"] == ["component:ui-kit"]


class TestDescribedRepositories:
    def test_repository_with_a_descriptor_is_reported_as_described_not_proposed(
        self, tmp_path: Path, scan_settings: Settings
    ) -> None:
        path = repo(tmp_path / "billing", FASTAPI_SERVICE)
        write_entities(path / "catalog-info.yaml", component("billing"))
        proposal = discover_one(path, scan_settings)
        assert proposal.existing_descriptors == ["catalog-info.yaml"]
        assert proposal.entity is None
        assert "already described by catalog-info.yaml" in proposal.evidence[-1]

    def test_include_described_proposes_a_component_all_the_same(
        self, tmp_path: Path, scan_settings: Settings
    ) -> None:
        path = repo(tmp_path / "billing", FASTAPI_SERVICE)
        write_entities(path / "catalog-info.yaml", component("billing"))
        (proposal,) = discover([str(path)], settings=scan_settings, include_described=True)
        assert proposal.existing_descriptors == ["catalog-info.yaml"]
        assert entity_of(proposal)["spec"]["type"] == "service"


class TestUnreadableTargets:
    def test_unreachable_git_url_is_an_error_and_the_other_targets_are_still_proposed(
        self, tmp_path: Path, scan_settings: Settings
    ) -> None:
        missing = (tmp_path / "remotes/gone.git").as_uri()
        path = repo(tmp_path / "retry", GO_LIBRARY)
        broken, fine = discover([missing, str(path)], settings=scan_settings)
        assert broken.entity is None
        assert broken.error is not None
        assert "cannot read git repository" in broken.error
        assert missing in broken.error
        assert "check the URL" in broken.hint
        assert entity_of(fine)["metadata"]["name"] == "retry"

    def test_path_that_is_no_directory_says_what_to_give_instead(
        self, tmp_path: Path, scan_settings: Settings
    ) -> None:
        (proposal,) = discover([str(tmp_path / "nowhere")], settings=scan_settings)
        assert proposal.error == f"{tmp_path / 'nowhere'} is neither a directory nor a git URL"
        assert "a URL that git clone accepts" in proposal.hint


class TestEveryProposalIsValid:
    def test_every_proposal_passes_the_catalog_pipeline(
        self, tmp_path: Path, runtime: Runtime
    ) -> None:
        gallery: dict[str, dict[str, str]] = {
            "payments-api": {**FASTAPI_SERVICE, "CODEOWNERS": "* jane.doe+ops@acme.example\n"},
            "shop-web": REACT_APP,
            "retry": GO_LIBRARY,
            "orders": {
                "pom.xml": """
                    <project xmlns="http://maven.apache.org/POM/4.0.0">
                      <parent><groupId>org.springframework.boot</groupId>
                        <artifactId>spring-boot-starter-parent</artifactId></parent>
                      <groupId>com.acme</groupId><artifactId>orders</artifactId>
                      <description>Orders, from cart to invoice.</description>
                    </project>
                    """,
            },
            "geo": {"Cargo.toml": '[package]\nname = "geo"\n[dependencies]\naxum = "0.7"\n'},
            "storefront": {"Gemfile": 'source "https://rubygems.org"\ngem "rails"\n'},
            "Ledger.Api": {
                "Ledger.Api.csproj": '<Project Sdk="Microsoft.NET.Sdk.Web"></Project>\n'
            },
            "blog": {
                "composer.json": '{"name": "acme/blog", "require": {"laravel/framework": "*"}}'
            },
            "Ünïcode Repo!!": {"README": "Nothing but words.\n"},
            "empty": {},
        }
        targets = [str(repo(tmp_path / name, files)) for name, files in gallery.items()]
        proposals = discover(targets, settings=runtime.settings)
        types = {p.name: entity_of(p)["spec"]["type"] for p in proposals}
        assert types == {
            "payments-api": "service",
            "shop-web": "website",
            "retry": "library",
            "orders": "service",
            "geo": "service",
            "storefront": "service",
            "ledger-api": "service",
            "blog": "service",
            "unicode-repo": "other",
            "empty": "other",
        }
        for proposal in proposals:
            outcome = runtime.catalog.pipeline.process(
                copy.deepcopy(proposal.entity), 0, read_placeholder=None
            )
            assert outcome.problems == [], (proposal.target, outcome.problems)


# -- the command ---------------------------------------------------------------------------------


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[typer.Typer]:
    """``discover`` mounted as the lead mounts it, reading settings from the environment."""
    monkeypatch.setenv("PAVEDROAD_DATA_DIR", str(tmp_path / "cli-data"))
    get_settings.cache_clear()
    app = typer.Typer()

    @app.callback()
    def catalog() -> None:
        """The catalog."""

    app.command("discover")(discover_command)
    yield app
    get_settings.cache_clear()


def run(app: typer.Typer, *args: str) -> Any:
    return CliRunner().invoke(app, ["discover", *args], catch_exceptions=False)


def yaml_comments(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("#")]


class TestDiscoverCommand:
    def test_prints_proposals_as_yaml_documents_with_evidence_comments(
        self, tmp_path: Path, cli: typer.Typer
    ) -> None:
        api = repo(tmp_path / "payments-api", FASTAPI_SERVICE)
        web = repo(tmp_path / "shop-web", REACT_APP)
        result = run(cli, str(api), str(web))
        assert result.exit_code == 0, result.output
        documents = list(yaml.safe_load_all(result.stdout))
        assert [d["metadata"]["name"] for d in documents] == ["payments-api", "shop-web"]
        assert f"# {api}" in yaml_comments(result.stdout)
        assert any("spec.type service" in line for line in yaml_comments(result.stdout))

    def test_unreadable_target_is_reported_and_exits_1_after_the_others(
        self, tmp_path: Path, cli: typer.Typer
    ) -> None:
        missing = (tmp_path / "gone.git").as_uri()
        api = repo(tmp_path / "payments-api", FASTAPI_SERVICE)
        result = run(cli, missing, str(api), "--output", "json")
        assert result.exit_code == 1
        assert f"error: {missing}: cannot read git repository" in result.stderr
        broken, fine = yaml.safe_load(result.stdout)
        assert broken["entity"] is None and broken["error"]
        assert fine["entity"]["metadata"]["name"] == "payments-api"

    def test_write_puts_a_descriptor_into_local_repositories_and_never_into_the_git_cache(
        self, tmp_path: Path, cli: typer.Typer
    ) -> None:
        api = repo(tmp_path / "payments-api", FASTAPI_SERVICE)
        source = repo(tmp_path / "work/retry", GO_LIBRARY, commit=True)
        url = publish(source, tmp_path / "remotes/retry.git")
        result = run(cli, str(api), url, "--write")
        assert result.exit_code == 0, result.output
        written = yaml.safe_load((api / "catalog-info.yaml").read_text())
        assert written["metadata"]["name"] == "payments-api"
        assert list((tmp_path / "cli-data").rglob("catalog-info.yaml")) == []
        assert yaml.safe_load(result.stdout)["metadata"]["name"] == "retry"  # printed instead

    def test_register_adds_proposals_and_described_repositories_then_refreshes_them(
        self,
        tmp_path: Path,
        cli: typer.Typer,
        settings: Settings,
        runtime: Runtime,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setenv("PAVEDROAD_DATA_DIR", str(settings.data_dir))
        monkeypatch.setenv("PAVEDROAD_DATABASE_URL", settings.database_url)
        get_settings.cache_clear()
        api = repo(tmp_path / "payments-api", FASTAPI_SERVICE)
        core = repo(
            tmp_path / "payments-core",
            {"pyproject.toml": '[build-system]\n[project]\nname = "payments-core"\n'},
        )
        billing = repo(
            tmp_path / "billing",
            {"catalog-info.yaml": yaml.safe_dump(component("billing"))},
            commit=True,
        )

        first = run(cli, str(api), str(core), str(billing), "--register")
        assert first.exit_code == 0, first.output
        assert "registered glob:" in first.stdout
        assert "registered git:" in first.stdout
        assert sorted(p.name for p in (settings.data_dir / "discovered").iterdir()) == [
            "payments-api.yaml",
            "payments-core.yaml",
        ]
        with runtime.db.read_session() as session:
            refs = set(session.scalars(select(Entity.ref)))
            assert {"component:default/payments-api", "component:default/billing"} <= refs
            assert len(service.list_locations(session)) == 2

        second = run(cli, str(api), str(core), str(billing), "--register")
        assert second.exit_code == 0, second.output
        assert "refreshed glob:" in second.stdout
        assert "0 created" in second.stdout
        with runtime.db.read_session() as session:
            assert len(service.list_locations(session)) == 2
            assert "component:default/payments-api" in set(session.scalars(select(Entity.ref)))


class TestAnalyzeLocation:
    def test_repository_without_descriptor_gets_a_generated_component(
        self, tmp_path: Path, client: TestClient
    ) -> None:
        path = repo(tmp_path / "payments-api", FASTAPI_SERVICE)
        response = client.post(
            "/api/catalog/analyze-location",
            json={"location": {"type": "dir", "target": str(path)}},
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["existingEntityFiles"] == []
        (generated,) = body["generateEntities"]
        assert generated["fields"] == []
        assert generated["entity"]["metadata"]["name"] == "payments-api"
        assert generated["entity"]["spec"]["type"] == "service"

    def test_repository_with_descriptor_lists_its_entities_and_whether_registered(
        self, tmp_path: Path, client: TestClient
    ) -> None:
        path = repo(tmp_path / "billing", FASTAPI_SERVICE)
        write_entities(path / "catalog-info.yaml", component("billing"))
        request = {"location": {"type": "dir", "target": str(path)}}
        before = client.post("/api/catalog/analyze-location", json=request).json()
        (existing,) = before["existingEntityFiles"]
        assert existing["location"] == {"type": "file", "target": f"{path}/catalog-info.yaml"}
        assert existing["isRegistered"] is False
        assert existing["entity"]["metadata"]["name"] == "billing"
        assert before["generateEntities"] == []

        client.post("/api/catalog/locations", json=request["location"])
        after = client.post("/api/catalog/analyze-location", json=request).json()
        assert after["existingEntityFiles"][0]["isRegistered"] is True

    def test_unreachable_repository_is_an_input_error(
        self, tmp_path: Path, client: TestClient
    ) -> None:
        target = (tmp_path / "gone.git").as_uri()
        response = client.post(
            "/api/catalog/analyze-location", json={"location": {"type": "git", "target": target}}
        )
        assert response.status_code == 400
        assert "cannot read git repository" in response.json()["error"]["message"]
