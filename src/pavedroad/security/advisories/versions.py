"""Version ordering per ecosystem, as OSV ranges need it.

Each ecosystem orders versions its own way: PyPI by PEP 440 (``1.0rc1 < 1.0 < 1.0.post1``),
npm, Go and crates.io by Semantic Versioning 2.0 (``1.0.0-alpha < 1.0.0``), Maven by Maven's
ComparableVersion (``1.0-alpha < 1.0-SNAPSHOT < 1.0 < 1.0-sp1``). Comparing them as strings or
tuples of numbers gets exactly the cases advisories care about (pre-releases) wrong.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import total_ordering
from typing import Any

from packaging.version import InvalidVersion, Version


class VersionError(ValueError):
    """A version an ecosystem's ordering cannot read."""


@total_ordering
class SemVer:
    """A Semantic Versioning 2.0 version; a leading ``v`` and missing minor/patch are allowed
    (Go writes ``v1.2.3``; some npm ranges write ``1.2``)."""

    _PATTERN = re.compile(
        r"^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$"
    )

    def __init__(self, text: str) -> None:
        match = self._PATTERN.match(text.strip())
        if match is None:
            raise VersionError(f"{text!r} is not a semantic version (major.minor.patch)")
        major, minor, patch, pre = match.groups()
        self.core = (int(major), int(minor or 0), int(patch or 0))
        self.pre: tuple[tuple[int, int | str], ...] = tuple(
            (0, int(part)) if part.isdigit() else (1, part)
            for part in (pre or "").split(".")
            if part
        )

    def _key(self) -> tuple[Any, ...]:
        # A release sorts after all of its pre-releases; identifiers compare numerically
        # when numeric, numbers before words, shorter lists first (semver §11).
        return (self.core, not self.pre, self.pre)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SemVer) and self._key() == other._key()

    def __lt__(self, other: SemVer) -> bool:
        return self._key() < other._key()

    def __hash__(self) -> int:
        return hash(self._key())


# Maven's well-known qualifiers, in order; "" (a release) == "ga" == "final" == "release".
_MAVEN_QUALIFIERS = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"]
_MAVEN_ALIASES = {
    "a": "alpha",
    "b": "beta",
    "m": "milestone",
    "cr": "rc",
    "ga": "",
    "final": "",
    "release": "",
}


def _maven_items(text: str) -> list[int | str]:
    """A Maven version as its items: numbers and qualifiers, split on ``.``/``-`` and at every
    change between digits and letters, trailing zero/empty items dropped."""
    items: list[int | str] = []
    for token in re.findall(r"\d+|[a-z]+", text.lower()):
        items.append(int(token) if token.isdigit() else _MAVEN_ALIASES.get(token, token))
    # Zeros that end a run of numbers say nothing: 1.0 == 1, 1.0-rc1 == 1-rc1; a release
    # qualifier ("") says nothing anywhere.
    trimmed: list[int | str] = []
    for item in reversed(items):
        following = trimmed[-1] if trimmed else None
        if item == "" or (item == 0 and not isinstance(following, int)):
            continue
        trimmed.append(item)
    return trimmed[::-1]


def _maven_rank(item: int | str | None) -> tuple[int, int, str]:
    """A sort key per item: qualifiers before a missing item (a release) before numbers."""
    if item is None:
        return (1, _MAVEN_QUALIFIERS.index(""), "")
    if isinstance(item, int):
        return (2, item, "")
    if item in _MAVEN_QUALIFIERS:
        return (1, _MAVEN_QUALIFIERS.index(item), "")
    return (1, len(_MAVEN_QUALIFIERS), item)  # unknown qualifiers after the known ones


@total_ordering
class MavenVersion:
    """A Maven version, ordered as Maven's ComparableVersion orders them."""

    def __init__(self, text: str) -> None:
        if not text.strip() or not re.search(r"[0-9a-zA-Z]", text):
            raise VersionError(f"{text!r} is not a Maven version")
        self.items = _maven_items(text)

    def _cmp(self, other: MavenVersion) -> int:
        length = max(len(self.items), len(other.items))
        for index in range(length):
            mine = _maven_rank(self.items[index] if index < len(self.items) else None)
            theirs = _maven_rank(other.items[index] if index < len(other.items) else None)
            if mine != theirs:
                return -1 if mine < theirs else 1
        return 0

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MavenVersion) and self._cmp(other) == 0

    def __lt__(self, other: MavenVersion) -> bool:
        return self._cmp(other) < 0

    def __hash__(self) -> int:
        return hash(tuple(self.items))


def _pep440(text: str) -> Version:
    try:
        return Version(text)
    except InvalidVersion:
        raise VersionError(f"{text!r} is not a PEP 440 version") from None


Parser = Callable[[str], Any]

ORDERINGS: dict[str, Parser] = {
    "PyPI": _pep440,
    "npm": SemVer,
    "Go": SemVer,
    "crates.io": SemVer,
    "Maven": MavenVersion,
}
SUPPORTED_ECOSYSTEMS = tuple(ORDERINGS)


def parse_version(ecosystem: str, text: str) -> Any:
    """``text`` as a comparable version of ``ecosystem``; VersionError when it is not one."""
    try:
        parser = ORDERINGS[ecosystem]
    except KeyError:
        raise VersionError(
            f"ecosystem {ecosystem!r} is not supported (supported: "
            f"{', '.join(SUPPORTED_ECOSYSTEMS)})"
        ) from None
    return parser(text)


_NAME_SEPARATORS = re.compile(r"[-_.]+")


def normalise_package_name(ecosystem: str, name: str) -> str:
    """The name as the ecosystem compares names: PEP 503 for PyPI (``Django_Rest.Framework``
    → ``django-rest-framework``), lower case for npm and Maven, unchanged for Go modules."""
    name = name.strip()
    if ecosystem == "PyPI":
        return _NAME_SEPARATORS.sub("-", name).lower()
    if ecosystem in ("npm", "Maven", "crates.io"):
        return name.lower()
    return name
