"""``yarn.lock``: Yarn 1's own format and Yarn 2+ (Berry) YAML. Entries are keyed by the
descriptors (``name@range``) they satisfy, so each dependency edge resolves exactly; which
packages are direct comes from the workspace entry (Berry) or the ``package.json`` beside it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pavedroad.security.sbom.packages import LockfileError, LockfileRead, locked
from pavedroad.security.sbom.positions import expect_mapping, load_yaml, read_source

ECOSYSTEM = "npm"
_V1_FIELD = re.compile(r'^\s+("?)([^"\s]+)\1\s+"?([^"]*)"?\s*$')
DEPENDENCY_FIELDS = ("dependencies", "optionalDependencies")
ROOT_FIELDS = (*DEPENDENCY_FIELDS, "devDependencies", "peerDependencies")


def read_yarn_lock(path: Path, root: Path) -> LockfileRead:
    file, text = read_source(path, root)
    if "__metadata:" in text:
        entries = _berry_entries(text)
        format_ = "yarn.lock (berry)"
    else:
        entries = _v1_entries(text)
        format_ = "yarn.lock (v1)"
    descriptors: dict[str, dict[str, Any]] = {}
    for entry in entries:
        for descriptor in entry["descriptors"]:
            descriptors[descriptor] = entry
    workspaces = [e for e in entries if _is_workspace(e)]
    roots = [e["dependencies"] for e in workspaces] or [_package_json_dependencies(path)]
    direct = {id(d) for deps in roots for d in _targets(deps, descriptors)}
    read = LockfileRead(file=file, format=format_)
    purls = {
        id(e): locked(ECOSYSTEM, e["name"], e["version"], file).purl
        for e in entries
        if not _is_workspace(e)
    }
    for entry in entries:
        if _is_workspace(entry):
            continue
        edges = [
            purls[id(t)] for t in _targets(entry["dependencies"], descriptors) if id(t) in purls
        ]
        read.packages.append(
            locked(
                ECOSYSTEM,
                entry["name"],
                entry["version"],
                file,
                entry["line"],
                direct=id(entry) in direct if roots != [{}] or workspaces else None,
                dependencies=tuple(dict.fromkeys(edges)),
            )
        )
    return read


def split_descriptor(descriptor: str) -> tuple[str, str]:
    """``@scope/name@^1.0`` → ``("@scope/name", "^1.0")``."""
    cut = descriptor.find("@", 1)
    if cut < 0:
        raise LockfileError(f"{descriptor!r} is not a name@range descriptor")
    return descriptor[:cut], descriptor[cut + 1 :]


def _v1_entries(text: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    section: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            if not line.rstrip().endswith(":"):
                raise LockfileError(
                    f"expected an entry header ending with ':', found {line!r}", number
                )
            keys = [k.strip().strip('"') for k in line.rstrip()[:-1].split(",")]
            try:
                name = split_descriptor(keys[0])[0]
            except LockfileError as error:
                raise LockfileError(error.message, number) from None
            current = {"descriptors": keys, "name": name, "line": number, "dependencies": {}}
            entries.append(current)
            section = None
            continue
        if current is None:
            raise LockfileError("an indented line before any entry", number)
        indent = len(line) - len(line.lstrip())
        if indent <= 2:
            stripped = line.strip()
            if stripped.endswith(":"):
                section = stripped[:-1]
                continue
            section = None
            field = _V1_FIELD.match(line)
            if field is None:
                raise LockfileError(f"cannot read {stripped!r}", number)
            current[field.group(2)] = field.group(3)
        else:
            field = _V1_FIELD.match(line)
            if field is None:
                raise LockfileError(f"cannot read {line.strip()!r}", number)
            if section in DEPENDENCY_FIELDS:
                current["dependencies"][field.group(2)] = field.group(3)
    for entry in entries:
        if "version" not in entry:
            raise LockfileError(f"the entry for {entry['name']} has no version", entry["line"])
    return entries


def _berry_entries(text: str) -> list[dict[str, Any]]:
    document = expect_mapping(load_yaml(text), "yarn.lock", 1)
    lines = text.splitlines()
    header_lines = {
        line.rstrip()[:-1].strip().strip('"'): number
        for number, line in enumerate(lines, start=1)
        if line and not line[0].isspace() and line.rstrip().endswith(":")
    }
    entries: list[dict[str, Any]] = []
    for key, value in document.items():
        if key == "__metadata":
            continue
        entry = expect_mapping(value, f"the entry {key!r}", header_lines.get(key))
        keys = [k.strip() for k in str(key).split(",")]
        if "version" not in entry:
            raise LockfileError(f"the entry {key!r} has no version", header_lines.get(key))
        dependencies: dict[str, str] = {}
        for field in DEPENDENCY_FIELDS:
            dependencies.update({str(k): str(v) for k, v in (entry.get(field) or {}).items()})
        entries.append(
            {
                "descriptors": keys,
                "name": split_descriptor(keys[0])[0],
                "version": str(entry["version"]),
                "line": header_lines.get(str(key)),
                "dependencies": dependencies,
                "resolution": str(entry.get("resolution", "")),
                "linkType": entry.get("linkType"),
            }
        )
    return entries


def _is_workspace(entry: dict[str, Any]) -> bool:
    return "@workspace:" in entry.get("resolution", "") or any(
        "@workspace:" in d for d in entry["descriptors"]
    )


def _targets(
    dependencies: dict[str, str], descriptors: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    found = []
    for name, range_ in dependencies.items():
        entry = descriptors.get(f"{name}@{range_}") or descriptors.get(f"{name}@npm:{range_}")
        if entry is not None:
            found.append(entry)
    return found


def _package_json_dependencies(lockfile: Path) -> dict[str, str]:
    """What the ``package.json`` beside a Yarn 1 lockfile asks for; {} when there is none."""
    manifest = lockfile.parent / "package.json"
    try:
        document = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    found: dict[str, str] = {}
    for field in ROOT_FIELDS:
        section = document.get(field) if isinstance(document, dict) else None
        if isinstance(section, dict):
            found.update({str(k): str(v) for k, v in section.items()})
    return found
