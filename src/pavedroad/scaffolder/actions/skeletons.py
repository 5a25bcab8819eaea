"""Writing a skeleton into the workspace: names and contents rendered, modes kept, binary files
and symbolic links copied as they are (a link may only point inside the skeleton)."""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pavedroad.scaffolder.actions.base import ActionError
from pavedroad.scaffolder.actions.workspace import check_link, relative_name
from pavedroad.scaffolder.engine.environment import TemplateEnvironment, template_environment
from pavedroad.scaffolder.engine.rendering import ExpressionError, render_text
from pavedroad.scaffolder.engine.scope import Scope, scoped
from pavedroad.scaffolder.hooks import ActionContext

_MARKERS = ("{{", "{%", "{#")


@dataclass(frozen=True)
class Entry:
    """A file or folder of a skeleton: its path in the skeleton (folders end with ``/``)."""

    name: str
    path: Path

    @property
    def is_dir(self) -> bool:
        return self.name.endswith("/")


def entries(root: Path) -> list[Entry]:
    """Every file and folder under ``root``, a level at a time, each level in name order
    (folders come before what is in them; ``.git`` is left out)."""
    found: list[Entry] = []
    level = [root]
    while level:
        items: list[Entry] = []
        for folder in level:
            for child in folder.iterdir():
                if child.name == ".git":
                    continue
                is_dir = child.is_dir() and not child.is_symlink()
                name = child.relative_to(root).as_posix() + ("/" if is_dir else "")
                items.append(Entry(name, child))
        items.sort(key=lambda entry: entry.name)
        found.extend(items)
        level = [entry.path for entry in items if entry.is_dir]
    return found


@dataclass
class Renderer:
    """Renders names and contents of one fetch with its options and values."""

    context: ActionContext
    values: Mapping[str, Any]
    cookiecutter_compat: bool = False
    trim_blocks: bool = False
    lstrip_blocks: bool = False

    def environment(self, newline: str = "\n") -> TemplateEnvironment:
        return template_environment(
            allowed_hosts=tuple(self.context.runtime.settings.scaffolder.allowed_hosts),
            cookiecutter_compat=self.cookiecutter_compat,
            trim_blocks=self.trim_blocks,
            lstrip_blocks=self.lstrip_blocks,
            newline=newline,
        )

    def scope(self) -> dict[str, Any]:
        name = "cookiecutter" if self.cookiecutter_compat else "values"
        return {name: Scope(scoped(dict(self.values), name), name)}

    def render(self, text: str, where: str) -> str:
        if not any(marker in text for marker in _MARKERS):
            return text  # nothing to render: keep the bytes exactly (line endings too)
        newline = "\r\n" if "\r\n" in text else "\n"
        try:
            return render_text(self.environment(newline), text, self.scope())
        except ExpressionError as error:
            line = f" line {error.line}:" if error.line else ""
            raise ActionError(f"{where}:{line} {error}") from None


def write_file(source: Path, target: Path, content: Callable[[str], str] | None) -> str:
    """Copy ``source`` to ``target`` with its mode, rendering text through ``content``;
    what was written, for the log ("file", "binary file")."""
    data = source.read_bytes()
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_symlink() or target.exists():
        target.unlink()  # replacing: the old file may be read-only
    text = _text(data)
    if text is None or content is None:
        shutil.copyfile(source, target)
        kind = "binary file" if text is None else "file"
    else:
        target.write_bytes(content(text).encode("utf-8"))
        kind = "file"
    target.chmod(stat.S_IMODE(source.stat().st_mode))
    return kind


def copy_link(source: Path, skeleton: Path, target: Path, workspace: Path) -> None:
    """Recreate the skeleton's symbolic link ``source`` at ``target`` (inside the workspace)."""
    link_target = check_link(source, skeleton)
    landing = Path(os.path.realpath(target.parent / link_target))
    if not landing.is_relative_to(Path(os.path.realpath(workspace))):
        raise ActionError(f"the symbolic link {source.name} would point outside the workspace")
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_symlink() or target.exists():
        target.unlink()
    target.symlink_to(link_target)


def _text(data: bytes) -> str | None:
    """The file as text, or None for a binary file (a NUL byte, or not UTF-8)."""
    if b"\0" in data[:8000]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def is_skipped(rendered: str) -> bool:
    """An entry whose rendered path has an empty segment is left out (Backstage's rule)."""
    return rendered in ("", "/") or rendered.startswith("/") or "//" in rendered


def walk_files(root: Path) -> Iterator[Path]:
    for entry in entries(root):
        if not entry.is_dir:
            yield entry.path


def shown(path: Path, context: ActionContext) -> str:
    return relative_name(path, context.workspace)
