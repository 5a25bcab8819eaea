"""Small builders the tests share: descriptor files and entities as people write them."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import yaml


def write(path: Path, content: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(content).lstrip("\n"))
    return path


def component(name: str, owner: str = "team-a", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {"name": name},
        "spec": {"type": "service", "lifecycle": "production", "owner": owner, **spec},
    }


def group(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Group",
        "metadata": {"name": name},
        "spec": {"type": "team", "children": [], **spec},
    }


def location(name: str, *targets: str) -> dict[str, Any]:
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Location",
        "metadata": {"name": name},
        "spec": {"targets": list(targets)},
    }


def write_entities(path: Path, *entities: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump_all(entities, sort_keys=False))
    return path
