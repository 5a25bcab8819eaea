"""Rust: Cargo.toml, and whether the crate is a library (src/lib.rs) or a program (src/main.rs)."""

from __future__ import annotations

import tomllib
from typing import Any

from pavedroad.catalog.discovery.files import RepoFiles
from pavedroad.catalog.discovery.findings import Findings, Framework, Package

FRAMEWORKS = {
    "actix-web": Framework("actix-web", "server"),
    "axum": Framework("axum", "server"),
    "rocket": Framework("rocket", "server"),
    "warp": Framework("warp", "server"),
    "poem": Framework("poem", "server"),
    "tide": Framework("tide", "server"),
    "tonic": Framework("tonic"),
}


def normalise(name: str) -> str:
    """crates.io treats ``-`` and ``_`` as the same character."""
    return name.replace("_", "-").lower()


def read(files: RepoFiles, found: Findings) -> None:
    text = files.text("Cargo.toml")
    if text is None:
        return
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        found.unreadable("Cargo.toml", f"not valid TOML ({error})")
        return
    package = data.get("package")
    if not isinstance(package, dict):
        found.evidence.append("Cargo.toml: a workspace without a package of its own")
        found.add_language("rust")
        return
    names = [normalise(n) for n in _dependencies(data.get("dependencies"))]
    frameworks = found.frameworks_in(names, FRAMEWORKS, "Cargo.toml")
    name = package.get("name")
    published = None
    if isinstance(name, str) and ("lib" in data or files.exists("src/lib.rs")):
        published = Package("cargo", normalise(name))
        found.signal("library", f"crate {name} with a library target", "Cargo.toml")
    if "bin" in data or files.exists("src/main.rs"):
        found.signal("application", "a binary target", "Cargo.toml")
    found.describe("Cargo.toml", package.get("description"))
    found.manifest(
        "Cargo.toml",
        "rust",
        published=published,
        dependencies=[Package("cargo", n) for n in names],
        frameworks=frameworks,
    )


def _dependencies(table: Any) -> list[str]:
    """Crate names, following ``package = "..."`` renames."""
    if not isinstance(table, dict):
        return []
    names = []
    for key, value in table.items():
        renamed = value.get("package") if isinstance(value, dict) else None
        names.append(renamed if isinstance(renamed, str) else key)
    return names
