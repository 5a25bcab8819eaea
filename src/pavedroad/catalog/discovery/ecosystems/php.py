"""PHP: composer.json."""

from __future__ import annotations

import json

from pavedroad.catalog.discovery.files import RepoFiles
from pavedroad.catalog.discovery.findings import Findings, Framework, Package

FRAMEWORKS = {
    "laravel/framework": Framework("laravel", "server"),
    "symfony/framework-bundle": Framework("symfony", "server"),
    "slim/slim": Framework("slim", "server"),
    "laminas/laminas-mvc": Framework("laminas", "server"),
    "cakephp/cakephp": Framework("cakephp", "server"),
}


def read(files: RepoFiles, found: Findings) -> None:
    text = files.text("composer.json")
    if text is None:
        return
    try:
        data = json.loads(text)
    except ValueError as error:
        found.unreadable("composer.json", f"not valid JSON ({error})")
        return
    if not isinstance(data, dict):
        found.unreadable("composer.json", "not a JSON object")
        return
    require = data.get("require")
    names = [
        key.lower()
        for key in (require if isinstance(require, dict) else {})
        if isinstance(key, str) and "/" in key  # not php itself, ext-* or lib-*
    ]
    frameworks = found.frameworks_in(names, FRAMEWORKS, "composer.json")
    name = data.get("name")
    kind = data.get("type", "library")
    published = None
    if kind == "project":
        found.signal("application", "composer project", "composer.json")
    elif isinstance(name, str) and name:
        published = Package("composer", name.lower())
        found.signal("library", f"composer package {name}", "composer.json")
    found.describe("composer.json", data.get("description"))
    found.manifest(
        "composer.json",
        "php",
        published=published,
        dependencies=[Package("composer", n) for n in names],
        frameworks=frameworks,
    )
