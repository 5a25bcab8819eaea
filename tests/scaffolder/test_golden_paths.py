"""The golden paths pavedroad ships: each template is in the demo catalog, owned by developer
experience, and a real run of it publishes a repository whose own test suite passes in a fresh
virtual environment."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pavedroad import demo
from pavedroad.core.actors import Actor
from pavedroad.runtime import Runtime
from pavedroad.scaffolder.engine import (
    apply_defaults,
    check_template,
    run_template,
    template_from_directory,
    validate_parameters,
)
from pavedroad.scaffolder.hooks import TemplateUser
from tests.conftest import TESTER, git

GOLDEN = demo.GOLDEN_PATHS_FILE.parent
OWNER = "group:default/team-checkout"
# What a developer of team-checkout types into each template's form (repoUrl comes later).
FORMS: dict[str, dict[str, str]] = {
    "python-service": {
        "name": "energy-quotes",
        "description": 'Quotes "solar" installs: panels, battery and the price',
        "owner": OWNER,
        "system": "system:default/quoting",
    },
    "python-library": {
        "name": "tariff-rules",
        "description": "Tariff rules shared by billing and quoting",
        "owner": OWNER,
        "system": "system:default/billing",
    },
    "docs-site": {  # no system: it is optional for a site
        "name": "installer-handbook",
        "description": "How installers plan, fit and hand over a home energy system",
        "owner": OWNER,
    },
}
# What the project's pipeline runs first (.pavedroad/pipeline.yaml), as a developer runs it.
MAKE_TARGETS = {
    "python-service": ["install", "lint", "test"],
    "python-library": ["install", "lint", "test"],
    "docs-site": ["install", "test"],
}
REPORTS = {
    "python-service": ["junit.xml", "coverage.xml"],
    "python-library": ["junit.xml", "coverage.xml"],
    "docs-site": ["junit.xml"],  # no Python code of its own to cover
}


def entity(client: TestClient, kind: str, name: str) -> dict[str, Any]:
    response = client.get(f"/api/catalog/entities/by-name/{kind}/default/{name}")
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def owners(found: dict[str, Any]) -> list[str]:
    return [r["targetRef"] for r in found["relations"] if r["type"] == "ownedBy"]


class TestTheTemplates:
    def test_the_demo_offers_each_owned_by_developer_experience(
        self, runtime: Runtime, client: TestClient
    ) -> None:
        with runtime.db.session() as session:
            demo.load(session, runtime.catalog)
        for name in FORMS:
            template = entity(client, "template", name)
            assert owners(template) == ["group:default/team-developer-experience"]
            assert template["metadata"]["annotations"]["pavedroad.dev/template-version"] == "1.0.0"
            assert template["metadata"]["tags"]

    @pytest.mark.parametrize("name", FORMS)
    def test_its_steps_name_installed_actions_and_the_form_is_enough(
        self, runtime: Runtime, name: str
    ) -> None:
        template = template_from_directory(GOLDEN / name).entity
        assert check_template(template, runtime.scaffolder_actions) == []
        values = apply_defaults(template, {**FORMS[name], "repoUrl": "file:///srv/x.git"})
        assert validate_parameters(template, values) == []

    @pytest.mark.parametrize("name", ["python-service", "python-library"])
    def test_a_new_project_starts_experimental(self, name: str) -> None:
        template = template_from_directory(GOLDEN / name).entity
        assert apply_defaults(template, FORMS[name])["lifecycle"] == "experimental"

    @pytest.mark.parametrize("name", ["python-service", "python-library"])
    def test_a_name_that_cannot_be_a_python_distribution_is_refused(self, name: str) -> None:
        template = template_from_directory(GOLDEN / name).entity
        form = {**FORMS[name], "name": "Energy_Quotes", "repoUrl": "file:///srv/x.git"}
        problems = validate_parameters(template, apply_defaults(template, form))
        assert [problem.field for problem in problems] == ["name"]


@pytest.fixture(scope="session")
def pip_cache(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """One wheel cache for every generated project of the run, shared by the xdist workers, so
    the three templates download each package once."""
    base = tmp_path_factory.getbasetemp()
    path = (base if worker_id == "master" else base.parent) / "pip-cache"
    path.mkdir(exist_ok=True)
    return path


def developer_shell(pip_cache: Path) -> dict[str, str]:
    """The environment of a developer's shell: nothing of this test run, its venv or pavedroad."""
    ours = ("PYTEST_", "PAVEDROAD_", "VIRTUAL_ENV", "COV_CORE_")
    kept = {key: value for key, value in os.environ.items() if not key.startswith(ours)}
    return {
        **kept,
        "PIP_CACHE_DIR": str(pip_cache),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_NO_COMPILE": "0",  # pip's inverted spelling of --no-compile: a quarter faster
    }


@pytest.mark.slow
@pytest.mark.parametrize("name", FORMS)
def test_a_real_run_publishes_a_project_whose_own_tests_pass(
    name: str,
    runtime: Runtime,
    client: TestClient,
    database_kind: str,
    tmp_path: Path,
    pip_cache: Path,
) -> None:
    if database_kind != "sqlite":
        # The engine's database work is covered on both databases above; what this adds is
        # the generated project's own run, which takes seconds and is the same on either.
        pytest.skip("the generated project's run is database independent: SQLite only")
    with runtime.db.session() as session:
        demo.load(session, runtime.catalog)
    form = FORMS[name]
    repository = runtime.settings.resolved_repositories_root / f"{form['name']}.git"
    source = template_from_directory(GOLDEN / name)
    values = apply_defaults(source.entity, {**form, "repoUrl": repository.as_uri()})

    result = run_template(
        runtime,
        source,
        values,
        workspace=tmp_path / "workspace",
        user=TemplateUser(TESTER),
        actor=Actor(ref=TESTER),
    )

    assert result.status == "completed", result.error
    links = {link["title"]: link for link in result.output["links"]}
    assert links["Open repository"]["url"] == repository.as_uri()
    ref = f"component:default/{form['name']}"
    assert links["View in catalog"]["entityRef"] == ref
    registered = entity(client, "component", form["name"])
    assert registered["spec"]["owner"] == OWNER and owners(registered) == [OWNER]
    assert registered["metadata"]["annotations"]["pavedroad.dev/template"] == source.ref

    project = tmp_path / "clone"
    git("clone", "--quiet", repository.as_uri(), str(project), cwd=tmp_path)
    validate = subprocess.run(
        [
            str(Path(sys.executable).parent / "pavedroad"),
            "catalog",
            "validate",
            "catalog-info.yaml",
        ],
        cwd=project,
        capture_output=True,
        text=True,
        env={**os.environ, "PAVEDROAD_DATA_DIR": str(tmp_path / "validate")},
        check=False,
    )
    assert validate.returncode == 0, validate.stdout + validate.stderr

    own_run = subprocess.run(  # in a virtual environment of its own
        ["make", *MAKE_TARGETS[name], f"PYTHON={sys.executable}"],
        cwd=project,
        capture_output=True,
        text=True,
        env=developer_shell(pip_cache),
        timeout=300,
        check=False,
    )
    assert own_run.returncode == 0, own_run.stdout[-4000:] + own_run.stderr[-4000:]
    for report in REPORTS[name]:
        assert (project / "reports" / report).is_file(), report
    junit = ElementTree.parse(project / "reports" / "junit.xml").getroot().find("testsuite")
    assert junit is not None and int(junit.get("tests", 0)) > 0
    assert junit.get("failures") == junit.get("errors") == "0"
