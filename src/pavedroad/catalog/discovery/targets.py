"""Turning a target (a directory, a local repository or a git URL) into files to read.

A working tree is read as it is, uncommitted files included: that is what its owner is looking
at. A git URL, or a local bare repository, is cloned into the catalog's git cache with
:func:`~pavedroad.catalog.sources.checkout_git`; discovery never writes into that cache.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from pavedroad.catalog.sources import SourceError, checkout_git, infer_type, redact_url
from pavedroad.config import Settings

_SCP_LIKE = re.compile(r"^(?P<user>[^@/]+@)?(?P<host>[^:/]+):(?P<path>.+)$")
_ORIGIN_URL = re.compile(r"^\s*url\s*=\s*(\S+)\s*$")


@dataclass(frozen=True, slots=True)
class Checkout:
    """A target ready to read, and how to name it in a descriptor."""

    target: str
    root: Path
    remote: bool
    key: str
    """The target normalised (absolute path, or URL without credentials): what the clash
    rule hashes, so that one repository gets one name whatever the working directory."""
    repository: str
    qualifier: str
    source_location: str
    project_slug: str | None = None
    revision: str | None = None


def open_target(target: str, settings: Settings) -> Checkout:
    """Where ``target``'s files are; raises :class:`SourceError` saying what and how to fix."""
    path = Path(os.path.expanduser(target))
    if path.is_dir() and not _is_bare(path):
        return _working_tree(target, path)
    if infer_type(target) != "git":
        raise SourceError(
            f"{target} is neither a directory nor a git URL",
            "give the path of a repository's working tree, or a URL that git clone accepts",
        )
    url = os.path.abspath(path) if path.is_dir() else target
    if "#" in url:
        raise SourceError(
            f"{redact_url(url)} names a path inside the repository; discovery reads whole "
            "repositories",
            "remove the '#...' part",
        )
    root, revision = checkout_git(url, settings.catalog, settings.data_dir)
    public = Path(url).as_uri() if path.is_dir() else public_url(url)
    repository, qualifier = _url_names(public)
    return Checkout(
        target=target,
        root=root,
        remote=True,
        key=public,
        repository=repository,
        qualifier=qualifier,
        source_location=f"url:{public}",
        project_slug=github_slug(public),
        revision=revision,
    )


def _is_bare(path: Path) -> bool:
    return (
        not (path / ".git").exists() and (path / "HEAD").is_file() and (path / "objects").is_dir()
    )


def _working_tree(target: str, path: Path) -> Checkout:
    absolute = Path(os.path.abspath(path))
    origin = origin_url(absolute)
    public = public_url(origin) if origin else None
    return Checkout(
        target=target,
        root=Path(os.path.realpath(absolute)),
        remote=False,
        key=str(absolute),
        repository=absolute.name,
        qualifier=absolute.parent.name,
        source_location=f"url:{public}" if public else f"url:{absolute.as_uri()}",
        project_slug=github_slug(public) if public else None,
    )


def origin_url(root: Path) -> str | None:
    """The ``origin`` remote of a working tree: its identity wherever it is cloned."""
    try:
        config = (root / ".git" / "config").read_text(errors="replace")
    except OSError:
        return None
    section = ""
    for line in config.splitlines():
        stripped = line.strip()
        if stripped.startswith("["):
            section = stripped.replace(" ", "").lower()
        elif section == '[remote"origin"]' and (match := _ORIGIN_URL.match(stripped)):
            return match.group(1)
    return None


def public_url(url: str) -> str:
    """A URL fit for a descriptor: no user or token, no trailing ``.git`` on web addresses."""
    if _SCP_LIKE.match(url) and "://" not in url:
        return url
    parts = urlsplit(url)
    if parts.scheme in ("http", "https"):
        host = parts.hostname or ""
        netloc = host + (f":{parts.port}" if parts.port else "")
        path = parts.path.rstrip("/").removesuffix(".git")
        return urlunsplit((parts.scheme, netloc, path, "", ""))
    return redact_url(url)


def _url_names(url: str) -> tuple[str, str]:
    """The repository's name and the segment before it (usually its owner)."""
    scp = _SCP_LIKE.match(url) if "://" not in url else None
    path = scp.group("path") if scp else urlsplit(url).path
    segments = [s for s in path.split("/") if s]
    if not segments:
        return "", ""
    repository = segments[-1].removesuffix(".git")
    return repository, segments[-2] if len(segments) > 1 else ""


def github_slug(url: str) -> str | None:
    """``owner/repo`` for a github.com address, for the ``github.com/project-slug`` annotation."""
    scp = _SCP_LIKE.match(url) if "://" not in url else None
    host = scp.group("host") if scp else urlsplit(url).hostname
    if (host or "").lower() != "github.com":
        return None
    path = scp.group("path") if scp else urlsplit(url).path
    segments = [s for s in path.split("/") if s]
    if len(segments) < 2:
        return None
    return f"{segments[0]}/{segments[1].removesuffix('.git')}"
