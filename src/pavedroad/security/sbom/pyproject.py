"""``pyproject.toml``: the project's own dependencies, PEP 621 ``[project]`` and Poetry's
``[tool.poetry.*dependencies]``. Exact pins are packages; ranges are reported as unpinned
(unless a lockfile beside it pins them); the names mark the lockfile's packages direct."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement

from pavedroad.security.advisories.versions import normalise_package_name
from pavedroad.security.sbom.packages import LockfileError, LockfileRead, Unpinned, locked
from pavedroad.security.sbom.positions import LineIndex, load_toml, read_source

ECOSYSTEM = "PyPI"
_POETRY_EXACT = set("0123456789")


def read_pyproject(path: Path, root: Path) -> LockfileRead:
    file, text = read_source(path, root)
    document = load_toml(text)
    read = LockfileRead(file=file, format="pyproject.toml", direct_names=set())
    lines = LineIndex(text)
    project = document.get("project") or {}
    if isinstance(project, dict):
        requirements = list(project.get("dependencies") or [])
        optional = project.get("optional-dependencies") or {}
        for group, more in optional.items() if isinstance(optional, dict) else ():
            requirements.extend((text, group) for text in more)
        for item in requirements:
            requirement, scope = item if isinstance(item, tuple) else (item, None)
            _pep621(str(requirement), scope, file, lines, read)
    poetry = (document.get("tool") or {}).get("poetry") or {}
    if isinstance(poetry, dict):
        tables: list[tuple[dict[str, Any], str | None]] = [
            (poetry.get("dependencies") or {}, None),
            (poetry.get("dev-dependencies") or {}, "dev"),
        ]
        groups = poetry.get("group") or {}
        for group, table in groups.items() if isinstance(groups, dict) else ():
            tables.append(((table or {}).get("dependencies") or {}, group))
        for table, scope in tables:
            for name, constraint in table.items():
                if name.lower() != "python":
                    _poetry(name, constraint, scope, file, lines, read)
    return read


def _pep621(text: str, scope: str | None, file: str, lines: LineIndex, read: LockfileRead) -> None:
    line = lines.line_of(text, from_start=True)
    try:
        requirement = Requirement(text)
    except InvalidRequirement as error:
        raise LockfileError(f"{text!r} is not a requirement: {error}", line) from None
    name = normalise_package_name(ECOSYSTEM, requirement.name)
    assert read.direct_names is not None
    read.direct_names.add(name)
    specifiers = list(requirement.specifier)
    if (
        not requirement.url
        and len(specifiers) == 1
        and specifiers[0].operator in ("==", "===")
        and "*" not in specifiers[0].version
    ):
        read.packages.append(
            locked(ECOSYSTEM, name, specifiers[0].version, file, line, direct=True, scope=scope)
        )
        return
    reason = "a direct URL" if requirement.url else "a range, not an exact version"
    read.unpinned.append(Unpinned(ECOSYSTEM, name, text, file, line, reason))


def _poetry(
    name: str, constraint: Any, scope: str | None, file: str, lines: LineIndex, read: LockfileRead
) -> None:
    line = lines.line_of(f"{name} =", from_start=True)
    normalised = normalise_package_name(ECOSYSTEM, name)
    assert read.direct_names is not None
    read.direct_names.add(normalised)
    version = constraint.get("version") if isinstance(constraint, dict) else constraint
    written = f"{name} = {constraint!r}"
    if not isinstance(version, str):
        read.unpinned.append(
            Unpinned(ECOSYSTEM, normalised, written, file, line, "a git, path or URL source")
        )
        return
    exact = version.removeprefix("==").strip()
    # Poetry reads a bare "2.2.0" as ==2.2.0; ^, ~, >=, * and "||" are ranges.
    if exact and exact[0] in _POETRY_EXACT and not any(c in exact for c in "*,|<>=^~ "):
        read.packages.append(locked(ECOSYSTEM, name, exact, file, line, direct=True, scope=scope))
    else:
        read.unpinned.append(
            Unpinned(ECOSYSTEM, normalised, written, file, line, "a range, not an exact version")
        )
