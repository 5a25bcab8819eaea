"""Ruby: Gemfile, *.gemspec and config.ru."""

from __future__ import annotations

import re

from pavedroad.catalog.discovery.files import RepoFiles
from pavedroad.catalog.discovery.findings import Findings, Framework, Package

FRAMEWORKS = {
    "rails": Framework("rails", "server"),
    "sinatra": Framework("sinatra", "server"),
    "hanami": Framework("hanami", "server"),
    "grape": Framework("grape", "server"),
    "roda": Framework("roda", "server"),
    "puma": Framework(None, "server"),
}
_GEM = re.compile(r"""^\s*gem\s+["']([^"']+)["']""", re.MULTILINE)
_SPEC_NAME = re.compile(r"""\.name\s*=\s*["']([^"']+)["']""")
_SPEC_SUMMARY = re.compile(r"""\.summary\s*=\s*["']([^"']+)["']""")
_SPEC_DEPENDENCY = re.compile(r"""add_(?:runtime_)?dependency\s*\(?\s*["']([^"']+)["']""")


def read(files: RepoFiles, found: Findings) -> None:
    text = files.text("Gemfile")
    if text is not None:
        names = [n.lower() for n in _GEM.findall(text)]
        frameworks = found.frameworks_in(names, FRAMEWORKS, "Gemfile")
        found.manifest(
            "Gemfile",
            "ruby",
            dependencies=[Package("gem", n) for n in names],
            frameworks=frameworks,
        )
    for path in files.names("", "*.gemspec")[:1]:
        spec = files.text(path) or ""
        name = _SPEC_NAME.search(spec)
        published = Package("gem", name.group(1).lower()) if name else None
        if published is not None:
            found.signal("library", f"gem {published.name}", path)
        summary = _SPEC_SUMMARY.search(spec)
        found.describe(path, summary.group(1) if summary else None)
        found.manifest(
            path,
            "ruby",
            published=published,
            dependencies=[Package("gem", n.lower()) for n in _SPEC_DEPENDENCY.findall(spec)],
        )
    if files.exists("config.ru"):
        found.signal("server", "config.ru (a Rack application)", "config.ru")
        found.add_language("ruby")
