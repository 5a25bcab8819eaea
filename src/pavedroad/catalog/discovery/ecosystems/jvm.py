"""Java and Kotlin: Maven's pom.xml, Gradle's build.gradle(.kts) and settings.gradle(.kts)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree

from pavedroad.catalog.discovery.files import RepoFiles
from pavedroad.catalog.discovery.findings import Findings, Framework, Package

FRAMEWORKS = {
    "org.springframework.boot:*": Framework("spring-boot", "server"),
    "io.quarkus:*": Framework("quarkus", "server"),
    "io.micronaut*": Framework("micronaut", "server"),
    "io.ktor:ktor-server*": Framework("ktor", "server"),
    "io.dropwizard:*": Framework("dropwizard", "server"),
    "io.vertx:vertx-web*": Framework("vertx", "server"),
}
GRADLE_PLUGINS = {
    "org.springframework.boot": Framework("spring-boot", "server"),
    "io.quarkus": Framework("quarkus", "server"),
    "io.micronaut.application": Framework("micronaut", "server"),
    "io.ktor.plugin": Framework("ktor", "server"),
    "application": Framework(None, "application"),
    "java-library": Framework(None, "library"),
    "maven-publish": Framework(None, "library"),
}
_PLUGIN = re.compile(r"""(?:\bid\s*\(?\s*|apply\s+plugin\s*:\s*)["']([\w.-]+)["']""")
_BARE_PLUGIN = re.compile(
    r"^\s*(application|java-library|`java-library`|`maven-publish`)\s*$", re.M
)
_KOTLIN_PLUGIN = re.compile(r"""\bkotlin\s*\(\s*["']|org\.jetbrains\.kotlin""")
_GRADLE_DEPENDENCY = re.compile(
    r"""\b(?:implementation|api|compile|runtimeOnly|compileOnly)\s*\(?\s*["']([^"':\s]+):([^"':\s]+)"""
)
_GROUP = re.compile(r"""^\s*group\s*=\s*["']([^"']+)["']""", re.MULTILINE)
_ROOT_NAME = re.compile(r"""rootProject\.name\s*=\s*["']([^"']+)["']""")
TEST_SCOPES = ("test", "provided", "system")


def read(files: RepoFiles, found: Findings) -> None:
    _maven(files, found)
    for path in ("build.gradle.kts", "build.gradle"):
        if files.exists(path):
            _gradle(files, found, path)
            break


def _language(files: RepoFiles, mentions_kotlin: bool) -> str:
    if mentions_kotlin or files.is_dir("src/main/kotlin"):
        return "kotlin"
    return "java"


def _maven(files: RepoFiles, found: Findings) -> None:
    text = files.text("pom.xml")
    if text is None:
        return
    try:
        # expat refuses entity-expansion bombs by itself; the file is capped at 1 MB.
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as error:
        found.unreadable("pom.xml", f"not valid XML ({error})")
        return
    _strip_namespaces(root)
    group = root.findtext("groupId") or root.findtext("parent/groupId") or ""
    artifact = root.findtext("artifactId") or ""
    packaging = (root.findtext("packaging") or "jar").strip()
    parent = _coordinate(root.findtext("parent/groupId"), root.findtext("parent/artifactId"))
    coordinates = [parent]
    runtime: list[str] = []
    for dependency in root.iterfind("dependencies/dependency"):
        coordinate = _coordinate(dependency.findtext("groupId"), dependency.findtext("artifactId"))
        coordinates.append(coordinate)
        if (dependency.findtext("scope") or "compile").strip() not in TEST_SCOPES:
            runtime.append(coordinate)
    names = [c for c in coordinates if c]
    # A parent such as spring-boot-starter-parent makes the project a Spring Boot application.
    frameworks = found.frameworks_in(names, FRAMEWORKS, "pom.xml", runtime=[parent, *runtime])
    published = None
    if group and artifact and packaging in ("jar", "war"):
        published = Package("maven", f"{group.strip()}:{artifact.strip()}".lower())
    if packaging == "war":
        found.signal("server", "war packaging", "pom.xml")
    elif published is not None:
        found.signal("library", f"maven artifact {published.name}", "pom.xml")
    found.describe("pom.xml", root.findtext("description"))
    found.manifest(
        "pom.xml",
        _language(files, "kotlin" in text),
        published=published,
        dependencies=[Package("maven", c) for c in runtime if c],
        frameworks=frameworks,
    )


def _coordinate(group: str | None, artifact: str | None) -> str:
    if not group or not artifact:
        return ""
    return f"{group.strip()}:{artifact.strip()}".lower()


def _strip_namespaces(root: ElementTree.Element) -> None:
    for element in root.iter():
        if isinstance(element.tag, str) and "}" in element.tag:
            element.tag = element.tag.rsplit("}", 1)[1]


def _gradle(files: RepoFiles, found: Findings, path: str) -> None:
    text = files.text(path) or ""
    plugins = _PLUGIN.findall(text) + [p.strip("`") for p in _BARE_PLUGIN.findall(text)]
    frameworks = found.frameworks_in(plugins, GRADLE_PLUGINS, path)
    coordinates = [f"{g}:{a}".lower() for g, a in _GRADLE_DEPENDENCY.findall(text)]
    frameworks += [
        f for f in found.frameworks_in(coordinates, FRAMEWORKS, path) if f not in frameworks
    ]
    group = _GROUP.search(text)
    settings = files.text(f"settings{path.removeprefix('build')}") or ""
    name = _ROOT_NAME.search(settings)
    published = None
    if group and name:
        published = Package("maven", f"{group.group(1)}:{name.group(1)}".lower())
    found.manifest(
        path,
        _language(files, _KOTLIN_PLUGIN.search(text) is not None),
        published=published,
        dependencies=[Package("maven", c) for c in coordinates],
        frameworks=frameworks,
    )
