"""What the target tests share: a checkout of the tiny service at a version, and contexts."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pavedroad.deploy.hooks import TargetContext

TINY_SERVICE = Path(__file__).parent / "data" / "tiny_service.py"


def service_checkout(root: Path, version: str) -> Path:
    """A folder that holds the tiny service at ``version`` (what a checkout would be)."""
    folder = root / f"checkout-{version}"
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(TINY_SERVICE, folder / "service.py")
    (folder / "VERSION").write_text(version)
    return folder


def process_config(**overrides: Any) -> dict[str, Any]:
    section: dict[str, Any] = {
        "command": f"exec {sys.executable} service.py",
        "health": "/healthz",
        "startup_seconds": 10,
        "stop_grace_seconds": 3,
    }
    section.update(overrides)
    return {"process": section}


def context(
    data_dir: Path,
    *,
    deployment_id: str,
    version: str,
    workspace: Path | None,
    config: Mapping[str, Any],
    previous: Mapping[str, Any] | None = None,
    component_ref: str = "component:default/tiny",
    environment: str = "dev",
    lines: list[str] | None = None,
) -> TargetContext:
    log = lines if lines is not None else []
    return TargetContext(
        deployment_id=deployment_id,
        component_ref=component_ref,
        environment=environment,
        version=version,
        commit=None,
        workspace=workspace,
        config=config,
        previous=previous,
        log=log.append,
        runtime=None,
        data_dir=data_dir,
    )
