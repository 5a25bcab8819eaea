"""Go: go.mod, and whether the module builds a program (``package main``) that serves HTTP."""

from __future__ import annotations

import re

from pavedroad.catalog.discovery.files import RepoFiles
from pavedroad.catalog.discovery.findings import Findings, Framework, Package

FRAMEWORKS = {
    "github.com/gin-gonic/gin": Framework("gin", "server"),
    "github.com/labstack/echo": Framework("echo", "server"),
    "github.com/labstack/echo/v*": Framework("echo", "server"),
    "github.com/gofiber/fiber": Framework("fiber", "server"),
    "github.com/gofiber/fiber/v*": Framework("fiber", "server"),
    "github.com/go-chi/chi": Framework("chi", "server"),
    "github.com/go-chi/chi/v*": Framework("chi", "server"),
    "github.com/gorilla/mux": Framework("gorilla-mux", "server"),
    "google.golang.org/grpc": Framework("grpc"),
    "github.com/spf13/cobra": Framework("cobra", "application"),
}
_MODULE = re.compile(r"^\s*module\s+(\S+)", re.MULTILINE)
_REQUIRE_BLOCK = re.compile(r"^\s*require\s*\((.*?)^\s*\)", re.MULTILINE | re.DOTALL)
_REQUIRE_LINE = re.compile(r"^\s*require\s+([^\s(]+)\s+\S+(.*)$", re.MULTILINE)
_MAIN = re.compile(r"^package\s+main\b", re.MULTILINE)
_SERVES_HTTP = re.compile(r"\bListenAndServe(TLS)?\s*\(|\bhttp\.Server\s*\{")
MAX_GO_FILES = 40


def read(files: RepoFiles, found: Findings) -> None:
    text = files.text("go.mod")
    if text is None:
        return
    module = _MODULE.search(text)
    requires = _requires(text)
    frameworks = found.frameworks_in(requires, FRAMEWORKS, "go.mod")
    published = Package("go", module.group(1)) if module else None
    mains = _main_packages(files)
    for path, serves in mains:
        found.signal("application", f"package main in {path}", path)
        if serves:
            found.signal("server", f"net/http server in {path}", path)
    if published is not None and not mains:
        found.signal("library", f"go module {published.name} without a main package", "go.mod")
    found.manifest(
        "go.mod",
        "go",
        published=published,
        dependencies=[Package("go", name) for name in requires],
        frameworks=frameworks,
    )


def _requires(text: str) -> list[str]:
    """Direct requirements; ``// indirect`` ones are someone else's dependencies."""
    lines = [line for block in _REQUIRE_BLOCK.findall(text) for line in block.splitlines()]
    lines += [f"{m.group(1)} v {m.group(2)}" for m in _REQUIRE_LINE.finditer(text)]
    names = []
    for line in lines:
        parts = line.split()
        if len(parts) >= 2 and not parts[0].startswith("//") and "// indirect" not in line:
            names.append(parts[0])
    return names


def _main_packages(files: RepoFiles) -> list[tuple[str, bool]]:
    """Files declaring ``package main`` (root and ``cmd/*``), and whether each serves HTTP."""
    candidates = files.names("", "*.go")
    for directory in files.names("cmd"):
        candidates += files.names(directory, "*.go")
    found = []
    for path in [p for p in candidates if not p.endswith("_test.go")][:MAX_GO_FILES]:
        text = files.text(path) or ""
        if _MAIN.search(text):
            found.append((path, _SERVES_HTTP.search(text) is not None))
    return found
