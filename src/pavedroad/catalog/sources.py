"""Where descriptor files come from: a file, a glob, a directory tree or a git repository.

Every location is read through a :class:`SourceTree`: a directory that the location owns. Paths
named inside descriptors (Location targets, ``$text`` placeholders) are resolved against the
file that names them and must stay inside that tree; symbolic links are followed only when they
land inside it too. Nothing outside the tree is ever opened.
"""

from __future__ import annotations

import fcntl
import glob as globlib
import hashlib
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit, urlunsplit

from pavedroad.config import CatalogSettings

LOCATION_TYPES = ("file", "glob", "dir", "git")
_GLOB_CHARS = re.compile(r"[*?\[]")
_URL_LIKE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://|^git@[^:]+:")


class SourceError(Exception):
    """A location, file or reference that cannot be read; says why and how to fix it."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class OutsideTreeError(SourceError):
    """A path that would leave the location's own tree."""


@dataclass(frozen=True, slots=True)
class SourceTree:
    """The directory a location may read, and how to name its files for people."""

    root: Path
    location_prefix: str
    max_file_bytes: int

    def resolve(self, base: str | None, target: str) -> str:
        """The tree-relative path of ``target`` as written in file ``base`` (or at the root)."""
        if _URL_LIKE.match(target) or target.startswith("url:"):
            raise OutsideTreeError(
                f'"{target}" is a URL; only files inside this location can be read',
                "copy the file into the repository and refer to it with a relative path",
            )
        base_dir = PurePosixPath(base).parent if base else PurePosixPath(".")
        joined = Path(target) if os.path.isabs(target) else self.root / base_dir / target
        resolved = Path(os.path.realpath(joined))
        if not resolved.is_relative_to(self.root):
            raise OutsideTreeError(
                f'"{target}" points outside this location ({self.root.name or self.root}/); '
                "nothing outside the location's own tree is read",
                "use a path relative to this file that stays inside the repository",
            )
        return resolved.relative_to(self.root).as_posix()

    def read(self, path: str) -> bytes:
        full = self.root / path
        try:
            size = full.stat().st_size
        except FileNotFoundError:
            raise SourceError(
                f"{path} does not exist", "check the path or remove the reference"
            ) from None
        except OSError as error:
            raise SourceError(f"{path} cannot be read: {error.strerror}") from None
        if full.is_dir():
            raise SourceError(f"{path} is a directory, not a file", "name a YAML file")
        if size > self.max_file_bytes:
            raise SourceError(
                f"{path} is {size / 1_048_576:.1f} MB, over the limit of "
                f"{self.max_file_bytes / 1_048_576:.1f} MB",
                "split it into several files, or raise PAVEDROAD_CATALOG__MAX_FILE_BYTES",
            )
        with open(full, "rb") as handle:
            return handle.read(self.max_file_bytes + 1)

    def exists(self, path: str) -> bool:
        return (self.root / path).is_file()

    def glob(self, pattern: str) -> list[str]:
        matches = globlib.glob(pattern, root_dir=self.root, recursive=True)
        found = []
        for match in matches:
            full = Path(os.path.realpath(self.root / match))
            if (
                full.is_file()
                and full.is_relative_to(self.root)
                and ".git" not in Path(match).parts
            ):
                found.append(PurePosixPath(match).as_posix())
        return sorted(found)

    def name_of(self, path: str) -> str:
        """How a file is named in annotations and errors: ``file:/abs/path`` or ``git:url#path``."""
        return f"{self.location_prefix}{path}"


@dataclass(frozen=True, slots=True)
class OpenedLocation:
    tree: SourceTree
    entry_paths: list[str]
    revision: str | None = None


def infer_type(target: str) -> str:
    """The location type a bare target most likely means (the CLI's default)."""
    if _URL_LIKE.match(target):
        return "git"
    path = Path(target).expanduser()
    if _GLOB_CHARS.search(target):
        return "glob"
    if path.is_dir():
        return "git" if (path / ".git").exists() or (path / "HEAD").is_file() else "dir"
    return "file"


def normalise_target(type_: str, target: str) -> str:
    """Targets are stored absolute so that a location means the same from any working directory."""
    if type_ == "git" and _URL_LIKE.match(target):
        return target
    if type_ in ("file", "glob", "dir", "git"):
        return os.path.abspath(os.path.expanduser(target))
    return target


def open_location(
    type_: str, target: str, settings: CatalogSettings, data_dir: Path
) -> OpenedLocation:
    """Make a location's tree readable and list its entry files; raises :class:`SourceError`."""
    if type_ not in LOCATION_TYPES:
        raise SourceError(
            f'unknown location type "{type_}"', f"use one of: {', '.join(LOCATION_TYPES)}"
        )
    if type_ == "file" and _GLOB_CHARS.search(target):
        type_ = "glob"
    if type_ == "file":
        return _open_file(target, settings)
    if type_ == "glob":
        return _open_glob(target, settings)
    if type_ == "dir":
        return _open_dir(target, settings)
    return _open_git(target, settings, data_dir)


def _open_file(target: str, settings: CatalogSettings) -> OpenedLocation:
    path = Path(target)
    if not path.is_file():
        raise SourceError(f"{target} does not exist or is not a file", "check the path")
    root = _enclosing_repository(path.parent) or path.parent
    tree = SourceTree(
        Path(os.path.realpath(root)), f"file:{os.path.realpath(root)}/", settings.max_file_bytes
    )
    return OpenedLocation(tree, [tree.resolve(None, str(path))])


def _enclosing_repository(directory: Path) -> Path | None:
    for candidate in (directory, *directory.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


def _open_glob(target: str, settings: CatalogSettings) -> OpenedLocation:
    parts = Path(target).parts
    static = list(_until_glob(parts))
    root = Path(*static) if static else Path()
    if not root.is_dir():
        raise SourceError(f"{root} does not exist", "check the directory part of the pattern")
    pattern = str(Path(*parts[len(static) :]))
    tree = SourceTree(
        Path(os.path.realpath(root)), f"file:{os.path.realpath(root)}/", settings.max_file_bytes
    )
    entries = tree.glob(pattern)
    if not entries:
        raise SourceError(f"no file matches {target}", "check the pattern; ** matches any depth")
    return OpenedLocation(tree, entries)


def _until_glob(parts: tuple[str, ...]) -> Iterator[str]:
    for part in parts:
        if _GLOB_CHARS.search(part):
            return
        yield part


def _open_dir(target: str, settings: CatalogSettings) -> OpenedLocation:
    root = Path(target)
    if not root.is_dir():
        raise SourceError(f"{target} is not a directory", "check the path")
    tree = SourceTree(
        Path(os.path.realpath(root)), f"file:{os.path.realpath(root)}/", settings.max_file_bytes
    )
    entries = tree.glob(settings.descriptor_glob)
    if not entries:
        raise SourceError(
            f"no descriptor file ({settings.descriptor_glob}) under {target}",
            "add a catalog-info.yaml, or try 'pavedroad catalog discover' to propose one",
        )
    return OpenedLocation(tree, entries)


# -- git ----------------------------------------------------------------------------------------


def split_git_target(target: str) -> tuple[str, str | None]:
    """``<url>[#<path or glob>]`` into the repository and the files to read in it."""
    url, _, path = target.partition("#")
    return url, path or None


def redact_url(url: str) -> str:
    """A URL without its password or token, for messages and logs."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.password or (parts.username and parts.scheme in ("http", "https")):
        host = parts.hostname or ""
        netloc = f"***@{host}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def checkout_git(url: str, settings: CatalogSettings, data_dir: Path) -> tuple[Path, str]:
    """A local checkout of the default branch of ``url`` (cached; fetched again each call)."""
    checkout = data_dir / "git" / hashlib.sha256(url.encode()).hexdigest()[:20]
    checkout.parent.mkdir(parents=True, exist_ok=True)
    with _locked(checkout.with_suffix(".lock")):
        if (checkout / ".git").is_dir():
            fetch = ["fetch", "--quiet", "--depth", "1", "origin", "HEAD"]
            _git(fetch, settings, cwd=checkout, url=url)
            _git(["reset", "--quiet", "--hard", "FETCH_HEAD"], settings, cwd=checkout, url=url)
        else:
            if checkout.exists():
                shutil.rmtree(checkout)  # what an interrupted clone left
            _git(["clone", "--quiet", "--depth", "1", "--", url, str(checkout)], settings, url=url)
        revision = _git(["rev-parse", "HEAD"], settings, cwd=checkout, url=url).strip()
    return Path(os.path.realpath(checkout)), revision


def _open_git(target: str, settings: CatalogSettings, data_dir: Path) -> OpenedLocation:
    url, path_spec = split_git_target(target)
    root, revision = checkout_git(url, settings, data_dir)
    tree = SourceTree(root, f"git:{redact_url(url)}#", settings.max_file_bytes)
    pattern = path_spec or settings.descriptor_glob
    entries = tree.glob(pattern)
    if not entries:
        raise SourceError(
            f"no file matching {pattern} in {redact_url(url)} at {revision[:12]}",
            "add a catalog-info.yaml, name the file after '#', or run 'pavedroad catalog discover'",
        )
    return OpenedLocation(tree, entries, revision)


@contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    with open(lock_path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _git(args: list[str], settings: CatalogSettings, *, url: str, cwd: Path | None = None) -> str:
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_ALLOW_PROTOCOL": "file:git:http:https:ssh",
        "GIT_SSH_COMMAND": "ssh -o BatchMode=yes",
        "LC_ALL": "C",
    }
    try:
        completed = subprocess.run(
            ["git", *args],
            cwd=cwd,
            env=environment,
            capture_output=True,
            text=True,
            timeout=settings.git_timeout_seconds,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise SourceError(
            f"git gave no answer from {redact_url(url)} within {settings.git_timeout_seconds} s",
            "check that the host is reachable, or raise PAVEDROAD_CATALOG__GIT_TIMEOUT_SECONDS",
        ) from None
    if completed.returncode != 0:
        detail = completed.stderr.strip().splitlines()
        fatal = [line.removeprefix("fatal: ") for line in detail if line.startswith("fatal:")]
        reason = (
            fatal[0] if fatal else (detail[-1] if detail else f"exit code {completed.returncode}")
        )
        raise SourceError(
            f"cannot read git repository {redact_url(url)}: {reason.replace(url, redact_url(url))}",
            "check the URL and that this server may read it (credentials, network)",
        )
    return completed.stdout
