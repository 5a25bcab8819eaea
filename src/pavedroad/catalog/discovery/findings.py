"""What a repository's manifests say about it, each fact with the file it came from.

Ecosystem readers (``discovery.ecosystems``) fill a :class:`Findings`; ``inference`` turns it
into a Component's type, tags and description; ``proposals`` links packages across repositories.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

Role = Literal["server", "frontend", "container", "library", "application"]
"""What a signal says the repository is: it serves requests, is a site, ships an image, is
imported by others, or is a program of its own."""


@dataclass(frozen=True, slots=True, order=True)
class Package:
    """A package as its ecosystem names it, normalised the way that ecosystem compares names."""

    ecosystem: str
    name: str


@dataclass(frozen=True, slots=True)
class Signal:
    """One reason to believe the repository has a role, e.g. ``fastapi`` in ``pyproject.toml``."""

    role: Role
    what: str
    file: str


@dataclass(frozen=True, slots=True)
class Framework:
    """A dependency worth a tag, a role, or both."""

    tag: str | None
    role: Role | None = None


@dataclass(slots=True)
class Findings:
    """Everything read from one repository's files, in the order the readers ran."""

    languages: list[str] = field(default_factory=list)
    frameworks: list[str] = field(default_factory=list)
    signals: list[Signal] = field(default_factory=list)
    publishes: dict[Package, str] = field(default_factory=dict)
    requires: dict[Package, str] = field(default_factory=dict)
    descriptions: list[tuple[str, str]] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)

    def add_language(self, tag: str) -> None:
        if tag not in self.languages:
            self.languages.append(tag)

    def signal(self, role: Role, what: str, file: str) -> None:
        self.signals.append(Signal(role, what, file))

    def describe(self, file: str, text: object) -> None:
        if isinstance(text, str) and text.strip():
            self.descriptions.append((file, text.strip()))

    def frameworks_in(
        self,
        names: Iterable[str],
        table: Mapping[str, Framework],
        file: str,
        *,
        runtime: Iterable[str] | None = None,
    ) -> list[str]:
        """Tag the frameworks among ``names``; only those in ``runtime`` (default: all) give
        the repository a role, since a test-only dependency says nothing about what ships."""
        counted = set(names if runtime is None else runtime)
        matched: list[str] = []
        for name in names:
            framework = lookup(table, name)
            if framework is None:
                continue
            if framework.tag and framework.tag not in self.frameworks:
                self.frameworks.append(framework.tag)
            if framework.tag and framework.tag not in matched:
                matched.append(framework.tag)
            if framework.role and name in counted:
                self.signal(framework.role, framework.tag or name, file)
        return matched

    def manifest(
        self,
        file: str,
        language: str,
        *,
        published: Package | None = None,
        dependencies: Iterable[Package] = (),
        frameworks: Iterable[str] = (),
    ) -> None:
        """Record what one manifest said, with a line of evidence a person can check."""
        self.add_language(language)
        parts = [f"{file}: {language}"]
        if published is not None:
            self.publishes.setdefault(published, file)
            parts.append(f"publishes {published.ecosystem} package {published.name}")
        count = 0
        for package in dependencies:
            self.requires.setdefault(package, file)
            count += 1
        if count:
            parts.append(f"{count} dependenc{'y' if count == 1 else 'ies'}")
        tags = list(frameworks)
        if tags:
            parts.append(f"uses {', '.join(tags)}")
        self.evidence.append(", ".join(parts))

    def unreadable(self, file: str, reason: str) -> None:
        self.evidence.append(f"{file}: ignored, {reason}")


def lookup(table: Mapping[str, Framework], name: str) -> Framework | None:
    """The table entry for ``name``: exact, or the first key with ``*`` that matches it."""
    exact = table.get(name)
    if exact is not None:
        return exact
    for key, framework in table.items():
        if "*" in key and fnmatch.fnmatchcase(name, key):
            return framework
    return None
