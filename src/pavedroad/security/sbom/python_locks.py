"""Python lockfiles: ``poetry.lock``, ``uv.lock`` and ``Pipfile.lock``.

poetry.lock and uv.lock record each package's dependencies (the graph); uv.lock also names the
project's own dependencies (its editable or virtual root package). Which packages of a
poetry.lock are direct comes from the ``pyproject.toml`` beside it.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from pavedroad.security.advisories.versions import normalise_package_name
from pavedroad.security.sbom.packages import (
    LockfileError,
    LockfileRead,
    Unpinned,
    locked,
)
from pavedroad.security.sbom.positions import (
    LineIndex,
    expect_mapping,
    load_json,
    load_toml,
    read_source,
)

ECOSYSTEM = "PyPI"


def read_poetry_lock(path: Path, root: Path) -> LockfileRead:
    file, text = read_source(path, root)
    document = load_toml(text)
    entries = _package_tables(document, file)
    lines = LineIndex(text)
    packages: list[tuple[dict[str, Any], int | None]] = []
    for entry in entries:
        packages.append((entry, lines.line_of(f'name = "{entry["name"]}"')))
    by_name = _purls_by_name(entry for entry, _ in packages)
    read = LockfileRead(file=file, format="poetry.lock")
    for entry, line in packages:
        depends = entry.get("dependencies") or {}
        read.packages.append(
            locked(
                ECOSYSTEM,
                entry["name"],
                entry["version"],
                file,
                line,
                dependencies=_edges(depends.keys(), by_name),
                scope=_poetry_scope(entry),
            )
        )
    return read


def read_uv_lock(path: Path, root: Path) -> LockfileRead:
    file, text = read_source(path, root)
    document = load_toml(text)
    entries = _package_tables(document, file, need_version=False)
    lines = LineIndex(text)
    direct_names: set[str] = set()
    read = LockfileRead(file=file, format="uv.lock", direct_names=direct_names)
    found: list[tuple[dict[str, Any], int | None]] = [
        (entry, lines.line_of(f'name = "{entry["name"]}"')) for entry in entries
    ]
    projects = [entry for entry, _ in found if _is_project(entry)]
    for project in projects:
        for dependency in _uv_dependencies(project):
            direct_names.add(normalise_package_name(ECOSYSTEM, str(dependency.get("name", ""))))
    registry = [(entry, line) for entry, line in found if not _is_project(entry)]
    for entry, line in registry:
        if "version" not in entry:
            read.unpinned.append(
                Unpinned(ECOSYSTEM, entry["name"], entry["name"], file, line, "no version locked")
            )
    versioned = [(entry, line) for entry, line in registry if "version" in entry]
    by_name = _purls_by_name(entry for entry, _ in versioned)
    by_name_version = {
        (normalise_package_name(ECOSYSTEM, e["name"]), str(e["version"])): locked(
            ECOSYSTEM, e["name"], str(e["version"]), file
        ).purl
        for e, _ in versioned
    }
    for entry, line in versioned:
        edges: list[str] = []
        for dependency in _uv_dependencies(entry, dev=False):
            name = normalise_package_name(ECOSYSTEM, str(dependency.get("name", "")))
            if "version" in dependency:
                purl = by_name_version.get((name, str(dependency["version"])))
                edges.extend([purl] if purl else [])
            else:
                edges.extend(by_name.get(name, ()))
        name = normalise_package_name(ECOSYSTEM, entry["name"])
        read.packages.append(
            locked(
                ECOSYSTEM,
                entry["name"],
                str(entry["version"]),
                file,
                line,
                direct=name in direct_names if projects else None,
                dependencies=tuple(dict.fromkeys(edges)),
            )
        )
    return read


def read_pipfile_lock(path: Path, root: Path) -> LockfileRead:
    file, text = read_source(path, root)
    document = expect_mapping(load_json(text), "Pipfile.lock")
    if "default" not in document and "develop" not in document:
        raise LockfileError('Pipfile.lock has neither a "default" nor a "develop" section', 1)
    lines = LineIndex(text)
    read = LockfileRead(file=file, format="Pipfile.lock")
    for section, scope in (("default", None), ("develop", "dev")):
        entries = expect_mapping(document.get(section) or {}, f'"{section}"')
        for name, entry in entries.items():
            line = lines.line_of(f'"{name}": {{', from_start=True)
            version = entry.get("version") if isinstance(entry, dict) else None
            if not isinstance(version, str) or not version.startswith("=="):
                source = "a VCS or path source" if isinstance(entry, dict) else "no version"
                read.unpinned.append(
                    Unpinned(
                        ECOSYSTEM, name, f"{name} ({section})", file, line, f"{source}: not pinned"
                    )
                )
                continue
            read.packages.append(
                locked(ECOSYSTEM, name, version.lstrip("="), file, line, scope=scope)
            )
    return read


def _package_tables(
    document: dict[str, Any], file: str, *, need_version: bool = True
) -> list[dict[str, Any]]:
    packages = document.get("package", [])
    if not isinstance(packages, list):
        raise LockfileError(f"{file}: [[package]] should be an array of tables")
    for number, entry in enumerate(packages, start=1):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise LockfileError(f"package #{number} has no name")
        if need_version and not isinstance(entry.get("version"), str):
            raise LockfileError(f"package {entry['name']} has no version")
    return packages


def _purls_by_name(entries: Any) -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    for entry in entries:
        package = locked(ECOSYSTEM, entry["name"], str(entry["version"]), "")
        found[package.name].append(package.purl)
    return found


def _edges(names: Any, by_name: dict[str, list[str]]) -> tuple[str, ...]:
    edges: list[str] = []
    for name in names:
        edges.extend(by_name.get(normalise_package_name(ECOSYSTEM, str(name)), ()))
    return tuple(dict.fromkeys(edges))


def _poetry_scope(entry: dict[str, Any]) -> str | None:
    groups = entry.get("groups")
    if isinstance(groups, list) and groups and "main" not in groups:
        return str(groups[0])
    category = entry.get("category")
    return "dev" if category == "dev" else None


def _is_project(entry: dict[str, Any]) -> bool:
    source = entry.get("source")
    return isinstance(source, dict) and ("editable" in source or "virtual" in source)


def _uv_dependencies(entry: dict[str, Any], *, dev: bool = True) -> list[dict[str, Any]]:
    found = [d for d in entry.get("dependencies") or [] if isinstance(d, dict)]
    optional = entry.get("optional-dependencies") or {}
    groups = entry.get("dev-dependencies") or {} if dev else {}
    for more in (*optional.values(), *groups.values()):
        found.extend(d for d in more if isinstance(d, dict))
    return found
