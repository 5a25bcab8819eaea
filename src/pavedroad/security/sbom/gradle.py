"""Gradle dependency lockfiles (``gradle.lockfile``, ``<configuration>.lockfile``): one
``group:artifact:version=configurations`` line per resolved module, direct or not unknown."""

from __future__ import annotations

from pathlib import Path

from pavedroad.security.sbom.packages import LockfileError, LockfileRead, locked
from pavedroad.security.sbom.positions import read_source

ECOSYSTEM = "Maven"


def read_gradle_lockfile(path: Path, root: Path) -> LockfileRead:
    file, text = read_source(path, root)
    read = LockfileRead(file=file, format="gradle.lockfile")
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        coordinates, equals, configurations = line.partition("=")
        if coordinates == "empty":
            continue
        parts = coordinates.split(":")
        if len(parts) != 3 or not all(parts) or (equals and not configurations):
            raise LockfileError(f"{line!r} is not group:artifact:version=configurations", number)
        group, artifact, version = parts
        scope = None
        names = set(configurations.split(",")) if configurations else set()
        if names and all("test" in name.lower() for name in names):
            scope = "test"
        read.packages.append(
            locked(ECOSYSTEM, f"{group}:{artifact}", version, file, number, scope=scope)
        )
    return read
