"""A read-only view of one repository for discovery: small files at known places, inside the tree.

Repositories being discovered are not trusted yet: a symbolic link to ``/etc`` or a 2 GB
``package.json`` must not leak or stall anything. Every read goes through a
:class:`~pavedroad.catalog.sources.SourceTree`, which refuses paths that leave the tree.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterator
from pathlib import Path

from pavedroad.catalog.sources import SourceError, SourceTree

MAX_MANIFEST_BYTES = 1_048_576
MAX_LISTED = 10_000
SKIPPED_DIRECTORIES = frozenset(
    {
        "node_modules",
        "vendor",
        "dist",
        "build",
        "target",
        "venv",
        "env",
        "__pycache__",
        "bin",
        "obj",
    }
)


class RepoFiles:
    """The files of one checkout that discovery may read: nothing outside it, nothing large."""

    def __init__(self, root: Path) -> None:
        self.root = Path(os.path.realpath(root))
        self._tree = SourceTree(self.root, f"file:{self.root}/", MAX_MANIFEST_BYTES)

    def text(self, path: str) -> str | None:
        """The text of ``path``; None when it is missing, a directory, too large or outside."""
        try:
            content = self._tree.read(self._tree.resolve(None, path))
        except SourceError:
            return None
        return content.decode("utf-8", errors="replace")

    def exists(self, path: str) -> bool:
        return self._inside(path) is not None and (self.root / path).is_file()

    def is_dir(self, path: str) -> bool:
        return self._inside(path) is not None and (self.root / path).is_dir()

    def names(
        self, directory: str = "", pattern: str = "*", *, ignore_case: bool = False
    ) -> list[str]:
        """Tree-relative paths of the entries of ``directory`` whose name matches ``pattern``."""
        if directory and not self.is_dir(directory):
            return []
        try:
            with os.scandir(self.root / directory) as entries:
                names = sorted(entry.name for entry in entries)[:MAX_LISTED]
        except OSError:
            return []
        if ignore_case:
            pattern = pattern.lower()
        found = [
            name
            for name in names
            if fnmatch.fnmatchcase(name.lower() if ignore_case else name, pattern)
        ]
        return [f"{directory}/{name}" if directory else name for name in found]

    def glob(self, pattern: str) -> list[str]:
        """Files matching ``pattern`` anywhere in the tree, found as a location would find them."""
        return self._tree.glob(pattern)

    def walk(self, limit: int) -> Iterator[str]:
        """Up to ``limit`` file paths, skipping hidden and vendored directories and links."""
        count = 0
        for directory, subdirectories, files in os.walk(self.root):
            subdirectories[:] = sorted(
                d for d in subdirectories if not d.startswith(".") and d not in SKIPPED_DIRECTORIES
            )
            relative = Path(directory).relative_to(self.root)
            for name in sorted(files):
                if count >= limit:
                    return
                count += 1
                yield (relative / name).as_posix()

    def _inside(self, path: str) -> str | None:
        try:
            return self._tree.resolve(None, path)
        except SourceError:
            return None
