"""Keeping template content inside the run's workspace, and finding the template's own files.

Every path an action writes is resolved by :func:`safe_child_path`: absolute paths, ``..`` that
climbs out and symbolic links that lead out are refused, whatever the step or the skeleton says.
Templates read only their own folder: no remote URLs, no files elsewhere on this server.
"""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from pavedroad.scaffolder.actions.base import ActionError
from pavedroad.scaffolder.hooks import ActionContext

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def safe_child_path(base: Path, relative: str, *, what: str = "path") -> Path:
    """``base / relative``, refused unless it (symbolic links followed) stays inside ``base``."""
    if not isinstance(relative, str):
        raise ActionError(f"{what} must be a string, got {relative!r}")
    if (
        os.path.isabs(relative)
        or relative.startswith(("/", "\\"))
        or re.match(r"^[A-Za-z]:", relative)
    ):
        raise ActionError(
            f"{what} {relative!r} is an absolute path; only paths inside the workspace may be used",
            "write it relative to the workspace, e.g. ./service",
        )
    root = Path(os.path.realpath(base))
    resolved = Path(os.path.realpath(root / relative))
    if resolved != root and not resolved.is_relative_to(root):
        raise ActionError(
            f"{what} {relative!r} leads outside the workspace",
            "remove the '..' (or the symbolic link) that climbs out",
        )
    return resolved


def template_path(context: ActionContext, url: str) -> Path:
    """The local file or folder a fetch action's ``url`` names, inside the template's folder."""
    folder = Path(os.path.realpath(context.template_dir))
    if _SCHEME.match(url):
        parts = urlsplit(url)
        if parts.scheme != "file":
            raise ActionError(
                f"fetching from URLs is not supported here; put the files next to the template "
                f"(url: {url})",
                "copy them into the template's folder and write url: ./skeleton",
            )
        target = Path(os.path.realpath(unquote(parts.path)))
    else:
        target = Path(os.path.realpath(folder / url))
    if target != folder and not target.is_relative_to(folder):
        raise ActionError(
            f"url {url!r} is outside the template's folder ({folder.name}/); a template reads only "
            "its own files",
            "move the files next to template.yaml",
        )
    if not target.exists():
        raise ActionError(
            f"url {url!r}: {target.relative_to(folder).as_posix() or '.'} does not "
            "exist in the template's folder"
        )
    return target


def check_link(link: Path, root: Path) -> str:
    """The target of symbolic link ``link`` of a skeleton, refused unless it stays in ``root``."""
    target = str(link.readlink())
    resolved = Path(os.path.realpath(link.parent / target))
    real_root = Path(os.path.realpath(root))
    if os.path.isabs(target) or not (resolved == real_root or resolved.is_relative_to(real_root)):
        name = PurePosixPath(link.relative_to(root).as_posix())
        raise ActionError(
            f"the symbolic link {name} in the skeleton points outside it ({target})",
            "replace the link by the file itself, or point it at a file of the skeleton",
        )
    return target


def relative_name(path: Path, root: Path) -> str:
    """How a workspace path is shown in logs: relative to the workspace, never absolute."""
    try:
        return path.relative_to(Path(os.path.realpath(root))).as_posix() or "."
    except ValueError:
        return path.name
