"""Maven's ``pom.xml``: the declared dependencies whose versions the POM itself determines.

A version is taken as written, through ``${property}`` (``<properties>``, ``project.version``,
``project.groupId``, the parent's version), or from ``<dependencyManagement>`` (of this POM or
of a parent POM found at ``<relativePath>``, default ``../pom.xml``). Anything else (a version
range, an undefined property, a version managed by an imported BOM) is reported as unpinned:
only ``mvn`` can resolve it. Every declared dependency is direct; the transitive ones are not
in a POM.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from xml.parsers import expat

from pavedroad.security.sbom.packages import LockfileError, LockfileRead, Unpinned, locked
from pavedroad.security.sbom.positions import read_source

ECOSYSTEM = "Maven"
_PROPERTY = re.compile(r"\$\{([^}]+)\}")
MAX_PARENTS = 5


@dataclass(slots=True)
class Node:
    """An XML element with the line it starts on (ElementTree does not keep lines)."""

    tag: str
    line: int
    text: str = ""
    children: list[Node] = field(default_factory=list)

    def child(self, tag: str) -> Node | None:
        return next((c for c in self.children if c.tag == tag), None)

    def value(self, tag: str) -> str | None:
        found = self.child(tag)
        return found.text.strip() if found is not None else None

    def all(self, *path: str) -> list[Node]:
        nodes = [self]
        for tag in path:
            nodes = [c for n in nodes for c in n.children if c.tag == tag]
        return nodes


def parse_xml(text: str) -> Node:
    """The document's root element; DTD entities are refused (no entity expansion attacks)."""
    parser = expat.ParserCreate()
    stack: list[Node] = []
    root: list[Node] = []

    def start(tag: str, _: dict[str, str]) -> None:
        node = Node(tag.rsplit("}", 1)[-1].split(":")[-1], parser.CurrentLineNumber)
        (stack[-1].children if stack else root).append(node)
        stack.append(node)

    def end(_: str) -> None:
        stack.pop()

    def data(chunk: str) -> None:
        if stack:
            stack[-1].text += chunk

    def entity(*_: object) -> None:
        raise LockfileError("entity declarations are not allowed", parser.CurrentLineNumber)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = data
    parser.EntityDeclHandler = entity
    try:
        parser.Parse(text, True)
    except expat.ExpatError as error:
        raise LockfileError(
            f"not well-formed XML: {expat.errors.messages[error.code]}", error.lineno
        ) from None
    if not root or root[0].tag != "project":
        raise LockfileError("the root element is not <project>: not a Maven POM", 1)
    return root[0]


@dataclass(slots=True)
class _Pom:
    properties: dict[str, str]
    managed: dict[str, str]  # group:artifact -> version (unresolved)


def read_pom(path: Path, root: Path) -> LockfileRead:
    file, text = read_source(path, root)
    project = parse_xml(text)
    pom = _effective(project, path, depth=0)
    read = LockfileRead(file=file, format="pom.xml")
    for dependency in project.all("dependencies", "dependency"):
        group, artifact = dependency.value("groupId"), dependency.value("artifactId")
        if not group or not artifact:
            raise LockfileError("a <dependency> without groupId or artifactId", dependency.line)
        group, artifact = _resolve(group, pom.properties), _resolve(artifact, pom.properties)
        name = f"{group}:{artifact}"
        written = dependency.value("version")
        version = written if written is not None else pom.managed.get(name)
        reason = ""
        if version is None:
            reason = (
                "no version here or in <dependencyManagement> "
                "(a parent POM or an imported BOM sets it)"
            )
        else:
            version = _resolve(version, pom.properties)
            if "${" in version:
                reason = f"{', '.join(_PROPERTY.findall(version))} is not defined in this POM"
            elif version[:1] in "[(" or "," in version:
                reason = "a version range: only Maven resolves it"
        if reason:
            read.unpinned.append(
                Unpinned(ECOSYSTEM, name, f"{name}:{written or '?'}", file, dependency.line, reason)
            )
            continue
        assert version is not None
        scope = dependency.value("scope")
        read.packages.append(
            locked(
                ECOSYSTEM,
                name,
                version,
                file,
                dependency.line,
                direct=True,
                scope=scope if scope and scope != "compile" else None,
            )
        )
    return read


def _effective(project: Node, path: Path, *, depth: int) -> _Pom:
    """Properties and managed versions of ``project``, its parents' first."""
    parent = project.child("parent")
    inherited = _Pom({}, {})
    if parent is not None and depth < MAX_PARENTS:
        relative = parent.value("relativePath")
        parent_path = (path.parent / (relative or "..")).resolve()
        if parent_path.is_dir():
            parent_path = parent_path / "pom.xml"
        if parent_path.is_file():
            try:
                parent_node = parse_xml(parent_path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, LockfileError):
                parent_node = None
            if parent_node is not None and parent_node.value("artifactId") == parent.value(
                "artifactId"
            ):
                inherited = _effective(parent_node, parent_path, depth=depth + 1)
    properties = dict(inherited.properties)
    if parent is not None:
        for key in ("version", "groupId", "artifactId"):
            if parent.value(key):
                properties[f"project.parent.{key}"] = str(parent.value(key))
                properties[f"parent.{key}"] = str(parent.value(key))
    version = project.value("version") or (parent.value("version") if parent is not None else None)
    group = project.value("groupId") or (parent.value("groupId") if parent is not None else None)
    for key, value in (
        ("version", version),
        ("groupId", group),
        ("artifactId", project.value("artifactId")),
    ):
        if value:
            properties[f"project.{key}"] = value
            properties[f"pom.{key}"] = value
    for block in project.all("properties"):
        properties.update({node.tag: node.text.strip() for node in block.children})
    managed = dict(inherited.managed)
    for dependency in project.all("dependencyManagement", "dependencies", "dependency"):
        if dependency.value("scope") == "import":
            continue  # a BOM: its versions are in a file Maven downloads
        group_id, artifact_id = dependency.value("groupId"), dependency.value("artifactId")
        managed_version = dependency.value("version")
        if group_id and artifact_id and managed_version:
            key = f"{_resolve(group_id, properties)}:{_resolve(artifact_id, properties)}"
            managed[key] = managed_version
    return _Pom(properties, managed)


def _resolve(value: str, properties: dict[str, str]) -> str:
    for _ in range(10):  # properties may refer to properties; a cycle stops here
        resolved = _PROPERTY.sub(lambda m: properties.get(m.group(1), m.group(0)), value)
        if resolved == value:
            break
        value = resolved
    return value.strip()
