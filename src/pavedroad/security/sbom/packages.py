"""What a lockfile pins: packages with where they came from, requirements that pin nothing, and
problems (a file that does not parse), kept apart so that a broken file is never read as a
project without dependencies."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pavedroad.security.advisories.purls import purl_of
from pavedroad.security.advisories.versions import normalise_package_name


@dataclass(frozen=True, slots=True)
class LockedPackage:
    """A package at the exact version a lockfile pins.

    ``direct`` is None when the file does not say whether the project asked for the package
    itself; ``dependencies`` are the purls of the packages it depends on, when the file records
    them."""

    ecosystem: str  # OSV ecosystem: PyPI, npm, Maven, Go
    name: str  # normalised per ecosystem
    version: str
    file: str  # relative to the scanned root
    line: int | None = None
    direct: bool | None = None
    dependencies: tuple[str, ...] = ()
    scope: str | None = None  # dev, optional, test, ... when the file says so

    @property
    def purl(self) -> str:
        return purl_of(self.ecosystem, self.name, self.version)


def locked(
    ecosystem: str,
    name: str,
    version: str,
    file: str,
    line: int | None = None,
    *,
    direct: bool | None = None,
    dependencies: tuple[str, ...] = (),
    scope: str | None = None,
) -> LockedPackage:
    """A :class:`LockedPackage` with its name normalised the way the ecosystem compares names."""
    return LockedPackage(
        ecosystem=ecosystem,
        name=normalise_package_name(ecosystem, name),
        version=version.strip(),
        file=file,
        line=line,
        direct=direct,
        dependencies=dependencies,
        scope=scope,
    )


@dataclass(frozen=True, slots=True)
class Unpinned:
    """A requirement that names no exact version (``django>=2``, an editable path, a property
    that cannot be resolved): it is not in the SBOM, and is reported so."""

    ecosystem: str
    name: str
    requirement: str  # as written
    file: str
    line: int | None
    reason: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.requirement} — {self.reason}"


@dataclass(frozen=True, slots=True)
class LockfileProblem:
    """A file that cannot be read as what its name says: nothing of it is used."""

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}"


class LockfileError(ValueError):
    """Raised by a reader for a file it cannot parse; discovery turns it into a problem."""

    def __init__(self, message: str, line: int | None = None, *, file: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.file = file  # when not the file being read (go.sum read for its go.mod)


@dataclass(slots=True)
class LockfileRead:
    """What one reader got from one file (and the files it included)."""

    file: str
    format: str  # requirements, poetry.lock, package-lock.json, ...
    packages: list[LockedPackage] = field(default_factory=list)
    unpinned: list[Unpinned] = field(default_factory=list)
    problems: list[LockfileProblem] = field(default_factory=list)
    warnings: list[LockfileProblem] = field(default_factory=list)  # read, but worth a look
    # Names the project itself asks for, when the file says (pyproject.toml, package.json):
    # other files of the same folder mark their packages direct or transitive by them.
    direct_names: set[str] | None = None


@dataclass(slots=True)
class Inventory:
    """Everything found under a folder: the packages of every lockfile, merged by purl."""

    root: Path
    files: list[LockfileRead] = field(default_factory=list)
    packages: list[LockedPackage] = field(default_factory=list)
    unpinned: list[Unpinned] = field(default_factory=list)
    problems: list[LockfileProblem] = field(default_factory=list)
    warnings: list[LockfileProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems
