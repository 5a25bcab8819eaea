"""pip requirements files (``requirements*.txt``, pip-compile's ``requirements.lock``).

Only exact pins (``==1.2.3`` without a wildcard, ``===``) are packages; any other line that
names a package is reported as unpinned. ``-r``/``--requirement`` includes are followed
(relative to the including file), hashes, markers and extras are accepted, other pip options
ignored. pip-compile's ``# via`` annotations say which packages are direct (``via -r ...``) and
which package pulled in each of the others: the dependency graph.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

from pavedroad.security.advisories.versions import normalise_package_name
from pavedroad.security.sbom.packages import (
    LockedPackage,
    LockfileError,
    LockfileProblem,
    LockfileRead,
    Unpinned,
    locked,
)

ECOSYSTEM = "PyPI"
_INCLUDE = re.compile(r"^(?:-r|--requirement)(?:\s*=\s*|\s+|(?=\S))(\S+)$")
_OPTION_WITH_VALUE = re.compile(
    r"^(?:-[icfe]|--(?:index-url|extra-index-url|find-links|constraint|editable|trusted-host|"
    r"no-binary|only-binary|use-feature|progress-bar))(?:\s*=\s*|\s+|(?=\S))(\S+)"
)
_HASH = re.compile(r"\s--hash[=\s]\S+")
_COMMENT = re.compile(r"(^|\s)#.*$")


@dataclass(slots=True)
class _Entry:
    package: LockedPackage
    via: list[str] = field(default_factory=list)  # pip-compile: "-r requirements.in", "django"
    in_via: bool = False


def read_requirements(path: Path, root: Path) -> LockfileRead:
    """The pins of a requirements file and of the files it includes."""
    read = LockfileRead(file=_relative(path, root), format="requirements")
    entries: list[_Entry] = []
    _read_file(path, root, read, entries, seen=set())
    read.packages = _with_graph(entries)
    return read


def _read_file(
    path: Path, root: Path, read: LockfileRead, entries: list[_Entry], *, seen: set[Path]
) -> None:
    resolved = path.resolve()
    if resolved in seen:
        return
    seen.add(resolved)
    name = _relative(path, root)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise LockfileError(f"cannot read {name}: {error}") from None
    current: _Entry | None = None
    for number, line in _logical_lines(text):
        stripped = line.strip()
        if stripped.startswith("#"):
            if current is not None:
                _annotation(stripped, current)
            continue
        current = None
        line = _COMMENT.sub("", line).strip()
        if not line:
            continue
        include = _INCLUDE.match(line)
        if include:
            target = path.parent / include.group(1)
            if not target.is_file():
                read.problems.append(
                    LockfileProblem(
                        name, number, f"the included file {include.group(1)} does not exist"
                    )
                )
                continue
            _read_file(target, root, read, entries, seen=seen)
            continue
        editable = line.startswith(("-e", "--editable"))
        if line.startswith("-"):
            if editable:
                source = _OPTION_WITH_VALUE.sub(r"\1", line)
                read.unpinned.append(
                    Unpinned(
                        ECOSYSTEM, source, line, name, number, "an editable install pins no version"
                    )
                )
            continue
        current = _requirement(line, name, number, read)
        if current is not None:
            entries.append(current)


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Lines with their ``\\`` continuations joined, numbered by where they start."""
    lines: list[tuple[int, str]] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not pending:
            start = number
        if raw.rstrip().endswith("\\") and not raw.lstrip().startswith("#"):
            pending.append(raw.rstrip()[:-1])
            continue
        pending.append(raw)
        lines.append((start, " ".join(pending)))
        pending = []
    if pending:
        lines.append((start, " ".join(pending)))
    return lines


def _requirement(line: str, file: str, number: int, read: LockfileRead) -> _Entry | None:
    text = _HASH.sub("", f" {line}").strip()
    if text.startswith((".", "/")) or "://" in text.split(";")[0].split("@")[0]:
        read.unpinned.append(
            Unpinned(ECOSYSTEM, text, text, file, number, "a path or URL pins no version")
        )
        return None
    try:
        requirement = Requirement(text)
    except InvalidRequirement as error:
        raise LockfileError(f"{text!r} is not a requirement: {error}", number) from None
    specifiers = list(requirement.specifier)
    exact = len(specifiers) == 1 and (
        specifiers[0].operator == "==="
        or (specifiers[0].operator == "==" and "*" not in specifiers[0].version)
    )
    if requirement.url:
        reason = "a direct URL pins no registry version"
    elif not exact:
        reason = "no exact version (== or ===)" if specifiers else "no version at all"
    else:
        reason = ""
    if reason:
        read.unpinned.append(
            Unpinned(
                ECOSYSTEM,
                normalise_package_name(ECOSYSTEM, requirement.name),
                text,
                file,
                number,
                reason,
            )
        )
        return None
    package = locked(ECOSYSTEM, requirement.name, specifiers[0].version, file, number)
    return _Entry(package)


def _annotation(comment: str, entry: _Entry) -> None:
    """pip-compile's ``# via x`` (older: ``# via x, y``), or ``# via`` then ``#   x`` lines."""
    body = comment[1:].strip()
    if body == "via" or body.startswith("via "):
        entry.in_via = True
        entry.via.extend(part.strip() for part in body[3:].split(", ") if part.strip())
    elif entry.in_via and comment.startswith("#   ") and body:
        entry.via.append(body)
    else:
        entry.in_via = False


def _with_graph(entries: list[_Entry]) -> list[LockedPackage]:
    """Direct or transitive and the dependency edges, from the ``# via`` annotations; packages
    of files without annotations keep ``direct`` unknown."""
    annotated = any(entry.via for entry in entries)
    if not annotated:
        return [entry.package for entry in entries]
    children: dict[str, list[str]] = {}
    for entry in entries:
        for parent in entry.via:
            if not parent.startswith("-") and not parent.endswith(")"):
                parent_name = normalise_package_name(ECOSYSTEM, parent.split()[0])
                children.setdefault(parent_name, []).append(entry.package.purl)
    packages: list[LockedPackage] = []
    for entry in entries:
        package = entry.package
        # "-r requirements.in", "-c constraints.txt", "myproject (pyproject.toml)"
        direct = any(via.startswith("-") or via.endswith(")") for via in entry.via)
        packages.append(
            LockedPackage(
                ecosystem=package.ecosystem,
                name=package.name,
                version=package.version,
                file=package.file,
                line=package.line,
                direct=direct,
                dependencies=tuple(children.get(package.name, ())),
            )
        )
    return packages


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.name
