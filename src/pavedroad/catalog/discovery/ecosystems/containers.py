"""Language-neutral signs of a deployable service: container build files and a Procfile."""

from __future__ import annotations

import re

from pavedroad.catalog.discovery.files import RepoFiles
from pavedroad.catalog.discovery.findings import Findings

_WEB_PROCESS = re.compile(r"^web\s*:", re.MULTILINE)


def read(files: RepoFiles, found: Findings) -> None:
    builds = [
        path
        for pattern in ("Dockerfile", "Containerfile", "Dockerfile.*", "*.Dockerfile")
        for path in files.names("", pattern)
    ]
    if builds:
        found.signal("container", f"{builds[0]} builds a container image", builds[0])
        found.evidence.append(f"{builds[0]}: builds a container image")
    procfile = files.text("Procfile")
    if procfile is not None and _WEB_PROCESS.search(procfile):
        found.signal("server", "Procfile declares a web process", "Procfile")
        found.evidence.append("Procfile: declares a web process")
