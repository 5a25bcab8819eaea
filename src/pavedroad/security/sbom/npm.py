"""npm's ``package-lock.json`` (and ``npm-shrinkwrap.json``), lockfile versions 2 and 3: the
``packages`` map keyed by install path, nested ``node_modules`` resolved the way Node does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pavedroad.security.sbom.packages import LockfileError, LockfileRead, Unpinned, locked
from pavedroad.security.sbom.positions import LineIndex, expect_mapping, load_json, read_source

ECOSYSTEM = "npm"
DEPENDENCY_FIELDS = ("dependencies", "optionalDependencies", "peerDependencies")
ROOT_FIELDS = (*DEPENDENCY_FIELDS, "devDependencies")
NODE_MODULES = "node_modules/"


def read_package_lock(path: Path, root: Path) -> LockfileRead:
    file, text = read_source(path, root)
    document = expect_mapping(load_json(text), path.name, 1)
    version = document.get("lockfileVersion")
    packages = document.get("packages")
    if version not in (2, 3) or not isinstance(packages, dict):
        raise LockfileError(
            f"lockfileVersion {version} is not supported (only 2 and 3, written by npm 7 and "
            "newer): run `npm install --lockfile-version 3` to rewrite it",
            LineIndex(text).line_of('"lockfileVersion"') or 1,
        )
    lines = LineIndex(text)
    purls: dict[str, str] = {}
    for key, entry in packages.items():
        if _installed(key, entry):
            purls[key] = locked(ECOSYSTEM, _name(key, entry), str(entry["version"]), file).purl
    direct: set[str] = set()
    for key, entry in packages.items():
        if isinstance(entry, dict) and (key == "" or not key.startswith(NODE_MODULES)):
            # The root project and workspace packages: what they ask for is direct.
            for field in ROOT_FIELDS:
                for name in entry.get(field) or {}:
                    found = _resolve(packages, key, name)
                    if found is not None:
                        direct.add(found)
    read = LockfileRead(file=file, format="package-lock.json")
    for key, entry in packages.items():
        if key not in purls:
            if key.startswith(NODE_MODULES) and isinstance(entry, dict) and not entry.get("link"):
                read.unpinned.append(
                    Unpinned(ECOSYSTEM, key, key, file, lines.line_of(f'"{key}"'), "no version")
                )
            continue
        edges = []
        for field in DEPENDENCY_FIELDS:
            for name in entry.get(field) or {}:
                target = _resolve(packages, key, name)
                if target in purls:
                    edges.append(purls[target])
        scope = "dev" if entry.get("dev") else "optional" if entry.get("optional") else None
        read.packages.append(
            locked(
                ECOSYSTEM,
                _name(key, entry),
                str(entry["version"]),
                file,
                lines.line_of(f'"{key}": {{', from_start=True),
                direct=key in direct,
                dependencies=tuple(dict.fromkeys(edges)),
                scope=scope,
            )
        )
    return read


def _installed(key: str, entry: Any) -> bool:
    return (
        key.startswith(NODE_MODULES)
        and isinstance(entry, dict)
        and not entry.get("link")
        and isinstance(entry.get("version"), str)
    )


def _name(key: str, entry: dict[str, Any]) -> str:
    # An alias (``"foo": "npm:bar@1"``) installs bar under node_modules/foo: the entry names it.
    return str(entry.get("name") or key.rsplit(NODE_MODULES, 1)[1])


def _resolve(packages: dict[str, Any], key: str, name: str) -> str | None:
    """Where Node finds ``name`` required from ``key``: the nearest ``node_modules`` upwards."""
    base = key
    while True:
        candidate = f"{base}/{NODE_MODULES}{name}" if base else f"{NODE_MODULES}{name}"
        if candidate in packages:
            entry = packages[candidate]
            if isinstance(entry, dict) and entry.get("link"):
                return None  # a workspace package: the project's own code
            return candidate
        if not base:
            return None
        cut = base.rfind(f"/{NODE_MODULES}")
        base = base[:cut] if cut >= 0 else ""


def read_package_json(path: Path, root: Path) -> LockfileRead:
    """A ``package.json``: no versions of its own (ranges), but what it asks for is reported as
    unpinned unless a lockfile of the repository pins it, so that a JavaScript project without
    a lockfile is not silently left out of the SBOM."""
    file, text = read_source(path, root)
    document = expect_mapping(load_json(text), "package.json", 1)
    lines = LineIndex(text)
    direct: set[str] = set()
    read = LockfileRead(file=file, format="package.json", direct_names=direct)
    for field in ROOT_FIELDS:
        section = document.get(field) or {}
        if not isinstance(section, dict):
            raise LockfileError(f'"{field}" should be a mapping', lines.line_of(f'"{field}"'))
        for name, spec in section.items():
            direct.add(str(name).lower())
            read.unpinned.append(
                Unpinned(
                    ECOSYSTEM,
                    str(name).lower(),
                    f"{name}@{spec}",
                    file,
                    lines.line_of(f'"{name}":', from_start=True),
                    "no lockfile pins it (npm install writes package-lock.json)",
                )
            )
    return read
