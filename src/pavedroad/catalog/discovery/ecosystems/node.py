"""JavaScript and TypeScript: package.json (and tsconfig.json for the language)."""

from __future__ import annotations

import json
from typing import Any

from pavedroad.catalog.discovery.files import RepoFiles
from pavedroad.catalog.discovery.findings import Findings, Framework, Package

FRAMEWORKS = {
    "express": Framework("express", "server"),
    "fastify": Framework("fastify", "server"),
    "koa": Framework("koa", "server"),
    "@nestjs/core": Framework("nestjs", "server"),
    "@hapi/hapi": Framework("hapi", "server"),
    "react": Framework("react", "frontend"),
    "vue": Framework("vue", "frontend"),
    "@angular/core": Framework("angular", "frontend"),
    "svelte": Framework("svelte", "frontend"),
    "@sveltejs/kit": Framework("sveltekit", "frontend"),
    "next": Framework("next", "frontend"),
    "nuxt": Framework("nuxt", "frontend"),
    "gatsby": Framework("gatsby", "frontend"),
    "astro": Framework("astro", "frontend"),
    "@remix-run/react": Framework("remix", "frontend"),
    "solid-js": Framework("solid", "frontend"),
    "preact": Framework("preact", "frontend"),
    "ember-source": Framework("ember", "frontend"),
    "react-native": Framework("react-native", "application"),
    "electron": Framework("electron", "application"),
}
RUNTIME_SECTIONS = ("dependencies", "peerDependencies", "optionalDependencies")


def read(files: RepoFiles, found: Findings) -> None:
    text = files.text("package.json")
    if text is None:
        return
    try:
        data = json.loads(text)
    except ValueError as error:
        found.unreadable("package.json", f"not valid JSON ({error})")
        return
    if not isinstance(data, dict):
        found.unreadable("package.json", "not a JSON object")
        return
    sections = {key: _names(data.get(key)) for key in (*RUNTIME_SECTIONS, "devDependencies")}
    every = [name for names in sections.values() for name in names]
    private = data.get("private") is True
    # An application (private) often lists its framework among devDependencies (SvelteKit,
    # Vite); a published package lists there only what its own tests need.
    runtime = sections["dependencies"] + (sections["devDependencies"] if private else [])
    frameworks = found.frameworks_in(every, FRAMEWORKS, "package.json", runtime=runtime)
    language = (
        "typescript" if files.exists("tsconfig.json") or "typescript" in every else "javascript"
    )
    name = data.get("name")
    published = None
    if isinstance(name, str) and name and not private:
        published = Package("npm", name.lower())
        found.signal("library", f"npm package {name}", "package.json")
    found.describe("package.json", data.get("description"))
    found.manifest(
        "package.json",
        language,
        published=published,
        dependencies=[Package("npm", n.lower()) for k in RUNTIME_SECTIONS for n in sections[k]],
        frameworks=frameworks,
    )


def _names(value: Any) -> list[str]:
    return [key for key in value if isinstance(key, str)] if isinstance(value, dict) else []
