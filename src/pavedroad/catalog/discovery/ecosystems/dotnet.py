"""C#: *.csproj project files at the root or one level under src/; test projects are skipped."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

from pavedroad.catalog.discovery.files import RepoFiles
from pavedroad.catalog.discovery.findings import Findings, Framework, Package

FRAMEWORKS = {
    "Microsoft.AspNetCore*": Framework("aspnet-core", "server"),
    "Microsoft.NET.Sdk.Web": Framework("aspnet-core", "server"),
}
MAX_PROJECTS = 10


def read(files: RepoFiles, found: Findings) -> None:
    projects = files.names("", "*.csproj")
    for directory in files.names("src"):
        projects += files.names(directory, "*.csproj")
    for path in projects[:MAX_PROJECTS]:
        _project(files, found, path)


def _project(files: RepoFiles, found: Findings, path: str) -> None:
    try:
        # expat refuses entity-expansion bombs by itself; the file is capped at 1 MB.
        root = ElementTree.fromstring(files.text(path) or "")
    except ElementTree.ParseError as error:
        found.unreadable(path, f"not valid XML ({error})")
        return
    references = [
        item.get("Include", "") for item in root.iter() if _local(item.tag) == "PackageReference"
    ]
    if "Microsoft.NET.Test.Sdk" in references:
        return  # a test project says nothing about what the repository ships
    properties = {_local(e.tag): (e.text or "").strip() for e in root.iter() if len(e) == 0}
    names = [root.get("Sdk", ""), *references]
    frameworks = found.frameworks_in([n for n in names if n], FRAMEWORKS, path)
    stem = path.rsplit("/", 1)[-1].removesuffix(".csproj")
    published = None
    web = root.get("Sdk", "") == "Microsoft.NET.Sdk.Web"
    if web or properties.get("OutputType", "").lower() in ("exe", "winexe"):
        found.signal("application", f"{stem} builds an executable", path)
    elif properties.get("IsPackable", "").lower() != "false":
        published = Package("nuget", (properties.get("PackageId") or stem).lower())
        found.signal("library", f"nuget package {published.name}", path)
    found.describe(path, properties.get("Description"))
    found.manifest(
        path,
        "csharp",
        published=published,
        dependencies=[Package("nuget", r.lower()) for r in references if r],
        frameworks=frameworks,
    )


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""
