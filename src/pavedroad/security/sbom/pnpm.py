"""``pnpm-lock.yaml``: lockfile 6 (``/name@1.0.0`` keys, dependencies under ``packages``), 9
(``name@1.0.0`` keys, dependencies under ``snapshots``) and 5 (``/name/1.0.0``). The importers
(``.`` and workspace folders) say what is direct; peer suffixes (``(react@18.2.0)``) are cut."""

from __future__ import annotations

import re
from pathlib import Path

from pavedroad.security.sbom.packages import LockfileError, LockfileRead, locked
from pavedroad.security.sbom.positions import LineIndex, expect_mapping, load_yaml, read_source

ECOSYSTEM = "npm"
_PEERS = re.compile(r"\(.*\)$|_[^/]*$")
IMPORTER_FIELDS = ("dependencies", "devDependencies", "optionalDependencies")
PACKAGE_FIELDS = ("dependencies", "optionalDependencies")


def read_pnpm_lock(path: Path, root: Path) -> LockfileRead:
    file, text = read_source(path, root)
    document = expect_mapping(load_yaml(text), "pnpm-lock.yaml", 1)
    if "lockfileVersion" not in document:
        raise LockfileError("no lockfileVersion: this is not a pnpm lockfile", 1)
    packages = expect_mapping(document.get("packages") or {}, "packages")
    snapshots = expect_mapping(document.get("snapshots") or {}, "snapshots")
    importers = document.get("importers") or {".": document}
    lines = LineIndex(text)
    read = LockfileRead(file=file, format=f"pnpm-lock.yaml (v{document['lockfileVersion']})")
    direct: set[tuple[str, str]] = set()
    for importer in expect_mapping(importers, "importers").values():
        for field in IMPORTER_FIELDS:
            for name, spec in ((importer or {}).get(field) or {}).items():
                version = spec.get("version") if isinstance(spec, dict) else spec
                target = _target(str(name), str(version))
                if target is not None:
                    direct.add(target)
    groups: dict[tuple[str, str], list[str]] = {}
    for key in dict.fromkeys([*packages, *snapshots]):
        # One package may have several snapshots, one per set of peer dependencies.
        groups.setdefault(parse_key(str(key)), []).append(key)
    for (name, version), group in groups.items():
        entry = packages.get(group[0]) or {}
        edges: list[str] = []
        for snapshot_key in group:
            snapshot = snapshots.get(snapshot_key) or packages.get(snapshot_key) or {}
            for field in PACKAGE_FIELDS:
                for dependency, dependency_version in (snapshot.get(field) or {}).items():
                    target = _target(str(dependency), str(dependency_version))
                    if target is not None:
                        edges.append(locked(ECOSYSTEM, target[0], target[1], file).purl)
        scope = "dev" if isinstance(entry, dict) and entry.get("dev") is True else None
        read.packages.append(
            locked(
                ECOSYSTEM,
                name,
                version,
                file,
                lines.line_of(f"{group[0]}:", from_start=True)
                or lines.line_of(f"'{group[0]}':", from_start=True),
                direct=(name, version) in direct,
                dependencies=tuple(dict.fromkeys(edges)),
                scope=scope,
            )
        )
    return read


def parse_key(key: str) -> tuple[str, str]:
    """``/@types/node@20.1.0``, ``react-dom@18.2.0(react@18.2.0)``, ``/express/4.18.2`` →
    (name, version)."""
    key = key.lstrip("/")
    cut = key.find("(")
    if cut > 0:
        key = key[:cut]
    at = key.find("@", 1)
    if at > 0:
        return key[:at], key[at + 1 :]
    name, _, version = key.rpartition("/")  # lockfile 5
    if not name or not version:
        raise LockfileError(f"{key!r} is not a package key (name@version)")
    return name, _PEERS.sub("", version)


def _target(name: str, version: str) -> tuple[str, str] | None:
    """The package a dependency's version field points at; None for a workspace link."""
    if version.startswith(("link:", "file:", "workspace:")):
        return None
    cut = version.find("(")
    version = version[:cut] if cut > 0 else version
    if "@" in version.lstrip("/")[1:]:  # an alias: "npm:other@1.0.0" or "/other@1.0.0"
        return parse_key(version.removeprefix("npm:"))
    return name, _PEERS.sub("", version)
