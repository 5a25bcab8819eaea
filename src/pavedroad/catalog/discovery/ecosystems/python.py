"""Python: pyproject.toml (PEP 621 and Poetry), setup.py, setup.cfg, requirements files."""

from __future__ import annotations

import ast
import configparser
import re
import tomllib
from typing import Any

from pavedroad.catalog.discovery.files import RepoFiles
from pavedroad.catalog.discovery.findings import Findings, Framework, Package

FRAMEWORKS = {
    "fastapi": Framework("fastapi", "server"),
    "django": Framework("django", "server"),
    "flask": Framework("flask", "server"),
    "starlette": Framework("starlette", "server"),
    "litestar": Framework("litestar", "server"),
    "tornado": Framework("tornado", "server"),
    "sanic": Framework("sanic", "server"),
    "pyramid": Framework("pyramid", "server"),
    "falcon": Framework("falcon", "server"),
    "aiohttp": Framework("aiohttp"),  # as often an HTTP client as a server
    "uvicorn": Framework(None, "server"),
    "gunicorn": Framework(None, "server"),
    "hypercorn": Framework(None, "server"),
}
_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def normalise(name: str) -> str:
    """PEP 503: ``Payments_Core`` and ``payments.core`` name the same distribution."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(line: str) -> str | None:
    """The distribution a PEP 508 requirement names; None for options, URLs and comments."""
    line = line.split("#", 1)[0].strip()
    if not line or line.startswith("-") or "://" in line.split(";", 1)[0].split("@", 1)[0]:
        return None
    match = _REQUIREMENT.match(line)
    return normalise(match.group(1)) if match else None


def read(files: RepoFiles, found: Findings) -> None:
    _pyproject(files, found)
    _setup_py(files, found)
    _setup_cfg(files, found)
    for path in _requirement_files(files):
        text = files.text(path) or ""
        names = [n for n in (requirement_name(line) for line in text.splitlines()) if n]
        _record(found, path, None, names)
    if files.exists("manage.py"):
        found.frameworks_in(["django"], FRAMEWORKS, "manage.py")
        found.evidence.append("manage.py: a Django project")
        found.add_language("python")


def _requirement_files(files: RepoFiles) -> list[str]:
    return files.names("", "requirements*.txt") + files.names("requirements", "*.txt")


def _record(found: Findings, file: str, published: str | None, names: list[str]) -> None:
    frameworks = found.frameworks_in(names, FRAMEWORKS, file)
    found.manifest(
        file,
        "python",
        published=Package("pypi", normalise(published)) if published else None,
        dependencies=[Package("pypi", name) for name in names],
        frameworks=frameworks,
    )
    if published:
        found.signal("library", f"python distribution {published}", file)


def _pyproject(files: RepoFiles, found: Findings) -> None:
    text = files.text("pyproject.toml")
    if text is None:
        return
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        found.unreadable("pyproject.toml", f"not valid TOML ({error})")
        return
    project: dict[str, Any] = _table(data, "project")
    poetry: dict[str, Any] = _table(_table(data, "tool"), "poetry")
    names = [n for n in map(requirement_name, _strings(project.get("dependencies"))) if n]
    names += [normalise(k) for k in _table(poetry, "dependencies") if k.lower() != "python"]
    name = project.get("name") or poetry.get("name")
    # Only something with a build backend can be installed by others; a bare [project] table
    # is how uv and friends describe applications.
    buildable = "build-system" in data or (bool(poetry) and poetry.get("package-mode") is not False)
    found.describe("pyproject.toml", project.get("description") or poetry.get("description"))
    _record(found, "pyproject.toml", name if isinstance(name, str) and buildable else None, names)


def _setup_py(files: RepoFiles, found: Findings) -> None:
    text = files.text("setup.py")
    if text is None:
        return
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        found.unreadable("setup.py", "not valid Python")
        return
    arguments: dict[str, Any] = {}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", getattr(node.func, "attr", "")) == "setup"
        ):
            for keyword in node.keywords:
                if keyword.arg:
                    arguments[keyword.arg] = _literal(keyword.value)
    name = arguments.get("name")
    names = [n for n in map(requirement_name, _strings(arguments.get("install_requires"))) if n]
    found.describe("setup.py", arguments.get("description"))
    _record(found, "setup.py", name if isinstance(name, str) else None, names)


def _setup_cfg(files: RepoFiles, found: Findings) -> None:
    text = files.text("setup.cfg")
    if text is None:
        return
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text)
    except configparser.Error:
        found.unreadable("setup.cfg", "not a valid configuration file")
        return
    if not parser.has_section("metadata"):
        return
    name = parser.get("metadata", "name", fallback=None)
    requires = parser.get("options", "install_requires", fallback="")
    names = [n for n in map(requirement_name, requires.splitlines()) if n]
    found.describe("setup.cfg", parser.get("metadata", "description", fallback=None))
    _record(found, "setup.cfg", name, names)


def _literal(node: ast.expr) -> Any:
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, RecursionError):
        return None


def _table(data: Any, key: str) -> dict[str, Any]:
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, dict) else {}


def _strings(value: Any) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []
