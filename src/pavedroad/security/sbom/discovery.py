"""Finding a repository's lockfiles and reading them all into one :class:`Inventory`.

The walk skips what is installed or built rather than declared (``node_modules``, virtualenvs,
``.git``, ``build``/``dist``/``target``, Go's ``vendor``). Packages pinned by several files are
merged by purl. A file that does not parse becomes a problem of the inventory: the caller
refuses the whole result rather than report fewer dependencies than there are.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from pavedroad.security.sbom.golang import read_go_mod
from pavedroad.security.sbom.gradle import read_gradle_lockfile
from pavedroad.security.sbom.maven import read_pom
from pavedroad.security.sbom.npm import read_package_json, read_package_lock
from pavedroad.security.sbom.packages import (
    Inventory,
    LockedPackage,
    LockfileError,
    LockfileProblem,
    LockfileRead,
)
from pavedroad.security.sbom.pnpm import read_pnpm_lock
from pavedroad.security.sbom.pyproject import read_pyproject
from pavedroad.security.sbom.python_locks import read_pipfile_lock, read_poetry_lock, read_uv_lock
from pavedroad.security.sbom.requirements import read_requirements
from pavedroad.security.sbom.yarn import read_yarn_lock

Reader = Callable[[Path, Path], LockfileRead]
READERS: dict[str, Reader] = {
    "poetry.lock": read_poetry_lock,
    "uv.lock": read_uv_lock,
    "Pipfile.lock": read_pipfile_lock,
    "pyproject.toml": read_pyproject,
    "package-lock.json": read_package_lock,
    "npm-shrinkwrap.json": read_package_lock,
    "package.json": read_package_json,
    "yarn.lock": read_yarn_lock,
    "pnpm-lock.yaml": read_pnpm_lock,
    "pom.xml": read_pom,
    "go.mod": read_go_mod,
}
PATTERNS: tuple[tuple[str, Reader], ...] = (
    ("requirements*.txt", read_requirements),
    ("requirements*.lock", read_requirements),
    ("*-requirements.txt", read_requirements),
    ("*.lockfile", read_gradle_lockfile),
)
SKIPPED_FOLDERS = frozenset(
    {
        ".git", ".hg", ".svn", "node_modules", "bower_components", ".venv", "venv",
        "__pycache__", ".tox", ".nox", ".mypy_cache", ".pytest_cache", ".ruff_cache",
        "site-packages", "build", "dist", "target", "out", ".gradle", ".next", ".nuxt",
        "vendor", ".terraform", ".eggs", "htmlcov",
    }
)  # fmt: skip
FORMATS = (*READERS, *(pattern for pattern, _ in PATTERNS))


def reader_for(path: Path) -> Reader | None:
    """The reader of a file by its name, None for a file that is not a lockfile."""
    if path.name in READERS:
        return READERS[path.name]
    if path.parent.name == "requirements" and path.suffix == ".txt":
        return read_requirements
    for pattern, reader in PATTERNS:
        if fnmatch.fnmatchcase(path.name, pattern):
            return reader
    return None


def find_lockfiles(root: Path, *, exclude: Sequence[str] = ()) -> list[Path]:
    """Every lockfile under ``root`` (or ``root`` itself when it is one), sorted."""
    if root.is_file():
        return [root] if reader_for(root) is not None else []
    found: list[Path] = []
    for folder, folders, files in os.walk(root):
        here = Path(folder)
        folders[:] = sorted(
            name
            for name in folders
            if name not in SKIPPED_FOLDERS
            and not name.endswith(".egg-info")
            and not (here / name / "pyvenv.cfg").exists()  # a virtualenv of any name
            and not _excluded(here / name, root, exclude)
        )
        for name in sorted(files):
            path = here / name
            if reader_for(path) is not None and not _excluded(path, root, exclude):
                found.append(path)
    return found


def read_inventory(root: Path, *, exclude: Sequence[str] = ()) -> Inventory:
    """The packages of every lockfile under ``root``, merged; problems for files that do not
    parse, unpinned requirements, and warnings."""
    root = root.resolve()
    base = root.parent if root.is_file() else root
    inventory = Inventory(root=base)
    for path in find_lockfiles(root, exclude=exclude):
        reader = reader_for(path)
        assert reader is not None
        try:
            read = reader(path, base)
        except LockfileError as error:
            name = error.file or path.relative_to(base).as_posix()
            inventory.problems.append(LockfileProblem(name, error.line, error.message))
            continue
        inventory.files.append(read)
        inventory.problems.extend(read.problems)
        inventory.warnings.extend(read.warnings)
    _mark_direct(inventory.files)
    inventory.packages = _merged(read.packages for read in inventory.files)
    pinned = {(p.ecosystem, p.name) for p in inventory.packages}
    inventory.unpinned = [
        # A range in pyproject.toml or package.json is fine when a lockfile pins the package.
        unpinned
        for read in inventory.files
        for unpinned in read.unpinned
        if (unpinned.ecosystem, unpinned.name) not in pinned
    ]
    return inventory


def _excluded(path: Path, root: Path, exclude: Sequence[str]) -> bool:
    if not exclude:
        return False
    relative = path.relative_to(root).as_posix()
    return any(fnmatch.fnmatch(relative, pattern) for pattern in exclude)


def _mark_direct(reads: list[LockfileRead]) -> None:
    """Packages whose file does not say whether they are direct learn it from a manifest of
    the same folder that does (pyproject.toml beside poetry.lock or requirements.txt)."""
    manifests: dict[str, set[str]] = {}
    for read in reads:
        if read.direct_names is not None and read.format == "pyproject.toml":
            folder = str(Path(read.file).parent)
            manifests.setdefault(folder, set()).update(read.direct_names)
    for read in reads:
        names = manifests.get(str(Path(read.file).parent))
        if names is None:
            continue
        read.packages = [
            package
            if package.direct is not None or package.ecosystem != "PyPI"
            else dataclasses.replace(package, direct=package.name in names)
            for package in read.packages
        ]


def _merged(groups: Iterable[Iterable[LockedPackage]]) -> list[LockedPackage]:
    by_purl: dict[str, LockedPackage] = {}
    for packages in groups:
        for package in packages:
            known = by_purl.get(package.purl)
            if known is None:
                by_purl[package.purl] = package
                continue
            direct = known.direct
            if package.direct is not None:
                direct = bool(known.direct) or package.direct
            by_purl[package.purl] = dataclasses.replace(
                known,
                direct=direct,
                dependencies=tuple(dict.fromkeys((*known.dependencies, *package.dependencies))),
                scope=known.scope if known.scope == package.scope else None,
            )
    return list(by_purl.values())
