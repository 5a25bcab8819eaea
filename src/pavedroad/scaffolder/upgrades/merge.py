"""The three-way merge of an upgrade, file by file: base = the old version rendered, ours = the
repository, theirs = the new version rendered. What the template did not change is left alone;
what only the template changed is applied; what both changed is merged by ``git merge-file``.
A conflict is written with conflict markers (or, for a file that cannot hold them, the
repository's version is kept) and always reported — nothing is overwritten silently.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from pavedroad.scaffolder.actions.base import ActionError
from pavedroad.scaffolder.actions.workspace import safe_child_path


@dataclass(frozen=True)
class Entry:
    """One file of a tree: its bytes and mode (``-`` plain, ``x`` executable, ``l`` a link,
    whose bytes are its target)."""

    data: bytes
    mode: str = "-"

    @property
    def is_text(self) -> bool:
        return self.mode != "l" and b"\0" not in self.data


Tree = dict[str, Entry]


@dataclass(frozen=True)
class Change:
    """What the upgrade did to one file: added, updated, merged, deleted or conflict."""

    path: str
    kind: str
    reason: str = ""


@dataclass(frozen=True)
class Labels:
    """How conflict markers name the three sides."""

    ours: str
    base: str
    theirs: str


def read_tree(root: Path, leave_out: Collection[str] = ()) -> Tree:
    """Every file under ``root`` by relative path, ``.git`` and ``leave_out`` left out."""
    tree: Tree = {}
    for folder, directories, names in os.walk(root):
        directories[:] = [d for d in directories if d != ".git"]
        base = Path(folder)
        paths = [base / n for n in names] + [
            base / d for d in directories if (base / d).is_symlink()
        ]
        for path in paths:
            relative = path.relative_to(root).as_posix()
            if relative not in leave_out:
                tree[relative] = _entry(path)
    return tree


def _entry(path: Path) -> Entry:
    if path.is_symlink():
        return Entry(str(path.readlink()).encode(), "l")
    return Entry(path.read_bytes(), "x" if os.access(path, os.X_OK) else "-")


def merge_into(
    root: Path,
    base: Mapping[str, Entry],
    theirs: Mapping[str, Entry],
    labels: Labels,
    leave_out: Collection[str] = (),
) -> list[Change]:
    """Apply the change from ``base`` to ``theirs`` onto the files under ``root``; what was
    done, by path."""
    ours = read_tree(root, leave_out)
    changes: list[Change] = []
    for path in sorted(set(base) | set(theirs) | set(ours)):
        old, mine, new = base.get(path), ours.get(path), theirs.get(path)
        if old == new or mine == new:
            continue  # the template left it alone, or the repository already has its version
        change = _merge_one(root, path, old, mine, new, labels)
        changes.append(change)
    return changes


def _merge_one(
    root: Path, path: str, old: Entry | None, mine: Entry | None, new: Entry | None, labels: Labels
) -> Change:
    if old is None:
        assert new is not None
        if mine is None:
            _write(root, path, new)
            return Change(path, "added")
        return _both_changed(
            root,
            path,
            Entry(b""),
            mine,
            new,
            labels,
            "added by the template where the repository already has a different file",
        )
    if new is None:
        if mine == old:
            _delete(root, path)
            return Change(path, "deleted")
        return Change(
            path,
            "conflict",
            "removed by the template but changed in the repository: kept; delete it if it is "
            "no longer needed",
        )
    if mine is None:
        return Change(
            path,
            "conflict",
            "changed by the template but deleted in the repository: not added back; take it "
            "from the template if it is needed",
        )
    if mine == old:
        _write(root, path, new)
        return Change(path, "updated")
    return _both_changed(root, path, old, mine, new, labels, "changed by both")


def _both_changed(
    root: Path, path: str, old: Entry, mine: Entry, new: Entry, labels: Labels, what: str
) -> Change:
    if not (old.is_text and mine.is_text and new.is_text):
        return Change(
            path,
            "conflict",
            f"{what}, and it cannot hold conflict markers: the repository's version is kept, "
            "the template's is not applied",
        )
    merged, conflicts = merge_text(mine.data, old.data, new.data, labels)
    mode = new.mode if mine.mode == old.mode else mine.mode
    _write(root, path, Entry(merged, mode))
    if conflicts:
        return Change(path, "conflict", f"{what}: {conflicts} conflict(s) marked in the file")
    return Change(path, "merged")


def merge_text(ours: bytes, base: bytes, theirs: bytes, labels: Labels) -> tuple[bytes, int]:
    """``git merge-file`` of the three texts: the result and how many conflicts it marks."""
    with tempfile.TemporaryDirectory(prefix="pavedroad-merge-") as scratch:
        files = []
        for name, data in (("ours", ours), ("base", base), ("theirs", theirs)):
            file = Path(scratch) / name
            file.write_bytes(data)
            files.append(str(file))
        completed = subprocess.run(
            [
                "git",
                "merge-file",
                "-p",
                "--diff3",  # the base shown too: what the template had before
                "-L",
                labels.ours,
                "-L",
                labels.base,
                "-L",
                labels.theirs,
                *files,
            ],
            capture_output=True,
            env={
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "GIT_CONFIG_NOSYSTEM": "1",
                "GIT_CONFIG_GLOBAL": os.devnull,
                "HOME": scratch,
                "LC_ALL": "C",
            },
            check=False,
            timeout=60,
        )
    # Its exit status is the number of conflicts (capped at 127); above that, an error.
    if not 0 <= completed.returncode <= 127:
        raise ActionError(f"git merge-file failed: {completed.stderr.decode(errors='replace')}")
    return completed.stdout, completed.returncode


def _write(root: Path, path: str, entry: Entry) -> None:
    relative = PurePosixPath(path)
    # The repository's own links must not lead a write outside the clone.
    folder = safe_child_path(root, str(relative.parent), what="the folder of " + path)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / relative.name
    if target.is_symlink() or target.is_file():
        target.unlink()
    elif target.is_dir():
        shutil.rmtree(target)
    if entry.mode == "l":
        target.symlink_to(entry.data.decode())
        return
    target.write_bytes(entry.data)
    target.chmod(0o755 if entry.mode == "x" else 0o644)


def _delete(root: Path, path: str) -> None:
    relative = PurePosixPath(path)
    folder = safe_child_path(root, str(relative.parent), what="the folder of " + path)
    (folder / relative.name).unlink()
    # Folders the template's file was the last one in go too, as git would show it.
    root = Path(os.path.realpath(root))
    while folder != root and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent
