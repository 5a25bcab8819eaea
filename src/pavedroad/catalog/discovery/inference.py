"""From findings to a Component's ``spec.type``, tags and description, each with its reason.

``spec.type``, first rule that applies:

1. ``service``: a server-side web framework (fastapi, django, express, spring-boot, gin, ...),
   a Go ``main`` that calls ``ListenAndServe``, a Procfile ``web:`` process, ``config.ru``.
2. ``website``: a frontend framework (react, vue, angular, next, ...) and no server framework,
   even with a Dockerfile (a static site served from a container is still a website).
3. ``service``: a container build file (Dockerfile, Containerfile) and nothing above.
4. ``library``: a package others can install (a Python distribution with a build backend, a
   public npm package, a Go module without ``main``, a Maven jar, a crate with a lib target, a
   gem, a NuGet or Composer package).
5. ``other``: a program that serves nothing we recognise (a CLI, a worker), or no manifest.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from pavedroad.catalog.discovery.files import RepoFiles
from pavedroad.catalog.discovery.findings import Findings, Role, Signal
from pavedroad.catalog.discovery.readme import readme_paragraph, shorten
from pavedroad.catalog.validation import TAG

EXTENSIONS = {
    ".py": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".tsx": "typescript",
    ".go": "go",
    ".java": "java",
    ".kt": "kotlin",
    ".rs": "rust",
    ".rb": "ruby",
    ".cs": "csharp",
    ".php": "php",
    ".scala": "scala",
    ".swift": "swift",
    ".c": "c",
    ".cpp": "cpp",
    ".cc": "cpp",
    ".sh": "shell",
    ".tf": "terraform",
}
MAX_COUNTED_FILES = 2000
LANGUAGE_SHARE = 0.2


def spec_type(findings: Findings) -> tuple[str, str]:
    """The type and one line saying which rule chose it and from which file."""
    servers = _of(findings.signals, "server")
    frontends = _of(findings.signals, "frontend")
    containers = _of(findings.signals, "container")
    libraries = _of(findings.signals, "library")
    programs = _of(findings.signals, "application")
    if servers:
        return "service", f"spec.type service: {_cite(servers)} serves requests"
    if frontends:
        return "website", f"spec.type website: {_cite(frontends)} is a frontend framework"
    if containers:
        return "service", f"spec.type service: {_cite(containers)}"
    if libraries:
        return "library", f"spec.type library: {_cite(libraries)}, and nothing serves requests"
    if programs:
        return "other", (
            f"spec.type other: {_cite(programs)} is a program, but nothing shows it serves "
            "requests; set spec.type (e.g. service or tool) if you know better"
        )
    return "other", "spec.type other: no manifest or container file recognised; set spec.type"


def _of(signals: Sequence[Signal], role: Role) -> list[Signal]:
    return [signal for signal in signals if signal.role == role]


def _cite(signals: list[Signal]) -> str:
    first = signals[0]
    return first.what if first.file in first.what else f"{first.what} ({first.file})"


def count_languages(files: RepoFiles, findings: Findings) -> None:
    """Without any manifest, tag the languages of at least a fifth of the source files."""
    counts = Counter(
        language
        for path in files.walk(MAX_COUNTED_FILES)
        if (language := EXTENSIONS.get(_suffix(path))) is not None
    )
    total = sum(counts.values())
    if not total:
        return
    chosen = [lang for lang, n in counts.most_common() if n >= LANGUAGE_SHARE * total]
    for language in chosen:
        findings.add_language(language)
    summary = ", ".join(f"{counts[lang]} {lang}" for lang in chosen)
    findings.evidence.append(f"no manifest; languages from file extensions ({summary} files)")


def _suffix(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    return name[name.rfind(".") :].lower() if "." in name else ""


def tags(findings: Findings) -> list[str]:
    """Languages, then frameworks; only strings Backstage accepts as tags."""
    chosen: list[str] = []
    for tag in [*findings.languages, *findings.frameworks]:
        if tag not in chosen and len(tag) <= 63 and TAG.match(tag):
            chosen.append(tag)
    return chosen


def description(findings: Findings, files: RepoFiles) -> tuple[str, str] | None:
    """``(text, reason)``: a manifest's own description first (written to be one), else the
    README's first paragraph."""
    if findings.descriptions:
        file, text = findings.descriptions[0]
        return shorten(text), f"description from {file}"
    paragraph = readme_paragraph(files)
    if paragraph is not None:
        return paragraph[1], f"description from the first paragraph of {paragraph[0]}"
    return None
