"""A small template registered in the catalog, as organisations register theirs: it renders a
skeleton, pushes it to a new bare repository and registers the pushed catalog-info.yaml."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from pavedroad.catalog import service
from pavedroad.core.actors import Actor
from pavedroad.runtime import Runtime
from tests.helpers import group, write, write_entities

TEMPLATE_REF = "template:default/tiny-service"
OPERATOR = Actor.system("test")

TINY_TEMPLATE = {
    "apiVersion": "scaffolder.backstage.io/v1beta3",
    "kind": "Template",
    "metadata": {"name": "tiny-service", "title": "Tiny service", "tags": ["python", "tiny"]},
    "spec": {
        "owner": "team-a",
        "type": "service",
        "parameters": [
            {
                "title": "About it",
                "required": ["name", "owner"],
                "properties": {
                    "name": {"title": "Name", "type": "string", "pattern": "^[a-z][a-z0-9-]*$"},
                    "owner": {
                        "title": "Owner",
                        "type": "string",
                        "ui:field": "OwnerPicker",
                        "ui:options": {"catalogFilter": {"kind": "Group"}},
                    },
                    "pause": {"title": "Pause (s)", "type": "number", "default": 0},
                },
            },
            {
                "title": "Where",
                "required": ["repoUrl"],
                "properties": {"repoUrl": {"title": "Repository", "type": "string"}},
            },
        ],
        "steps": [
            {
                "id": "fetch",
                "name": "Render",
                "action": "fetch:template",
                "input": {
                    "url": "./skeleton",
                    "values": {
                        "name": "${{ parameters.name }}",
                        "owner": "${{ parameters.owner }}",
                    },
                },
            },
            {
                "id": "pause",
                "name": "Pause",
                "action": "debug:wait",
                "input": {"seconds": "${{ parameters.pause }}"},
            },
            {
                "id": "publish",
                "name": "Publish",
                "action": "publish:git",
                "input": {"repoUrl": "${{ parameters.repoUrl }}"},
            },
            {
                "id": "register",
                "name": "Register",
                "action": "catalog:register",
                "input": {
                    "repoContentsUrl": "${{ steps.publish.output.repoContentsUrl }}",
                    "catalogInfoPath": "/catalog-info.yaml",
                },
            },
        ],
        "output": {
            "links": [
                {"title": "Repository", "url": "${{ steps.publish.output.remoteUrl }}"},
                {"title": "In the catalog", "entityRef": "${{ steps.register.output.entityRef }}"},
            ]
        },
    },
}
SKELETON = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: ${{ values.name }}
spec:
  type: service
  lifecycle: experimental
  owner: ${{ values.owner }}
"""


@pytest.fixture
def tiny_template(runtime: Runtime, tmp_path: Path) -> Path:
    """The template registered (with a team to own things); its folder."""
    folder = tmp_path / "templates" / "tiny"
    (folder / "skeleton").mkdir(parents=True)
    write(folder / "skeleton" / "catalog-info.yaml", SKELETON)
    write(folder / "template.yaml", yaml.safe_dump(TINY_TEMPLATE, sort_keys=False))
    teams = write_entities(tmp_path / "teams.yaml", group("team-a"), group("team-b"))
    with runtime.db.session() as session:
        service.register_locations(
            session,
            runtime.catalog,
            [("file", str(teams)), ("file", str(folder / "template.yaml"))],
            actor=OPERATOR,
        )
    return folder


def values(tmp_path: Path, name: str = "ledger", **more: Any) -> dict[str, Any]:
    return {
        "name": name,
        "owner": "group:default/team-a",
        "repoUrl": f"file://{tmp_path}/data/repositories/{name}.git",
        **more,
    }


def wait_for(client: TestClient, task_id: str, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        task: dict[str, Any] = client.get(f"/api/scaffolder/v2/tasks/{task_id}").json()
        if task["status"] in ("completed", "failed", "cancelled"):
            return task
        time.sleep(0.05)
    raise AssertionError(f"task {task_id} did not finish within {timeout} s")


@pytest.fixture
def portal(client: TestClient, tiny_template: Path) -> Iterator[TestClient]:
    yield client
