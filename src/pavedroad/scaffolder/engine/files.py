"""What a run left in its workspace, listed as Backstage's dry run lists it."""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path
from typing import Any


def dry_run_files(workspace: Path) -> list[dict[str, Any]]:
    """Every file of the workspace: ``{path, executable, size, sha256, content}``, by path.

    Text is given as is; a file that is not UTF-8 as base64 (with ``"encoding": "base64"``); a
    symbolic link as its target. ``.git`` folders are left out.
    """
    root = Path(workspace)
    found: list[dict[str, Any]] = []
    for folder, directories, names in os.walk(root):
        directories[:] = sorted(d for d in directories if d != ".git")
        base = Path(folder)
        entries = [base / n for n in names] + [
            base / d for d in directories if (base / d).is_symlink()
        ]
        found.extend(_describe(root, path) for path in entries)
    return sorted(found, key=lambda item: str(item["path"]))


def _describe(root: Path, path: Path) -> dict[str, Any]:
    relative = path.relative_to(root).as_posix()
    if path.is_symlink():
        data = str(path.readlink()).encode()
        executable = False
    else:
        data = path.read_bytes()
        executable = os.access(path, os.X_OK)
    described: dict[str, Any] = {
        "path": relative,
        "executable": executable,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    try:
        described["content"] = data.decode("utf-8")
    except UnicodeDecodeError:
        described["content"] = base64.b64encode(data).decode("ascii")
        described["encoding"] = "base64"
    return described
