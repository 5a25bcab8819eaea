"""The generated repositories as git sees them: cloned into scratch folders, read at the
default branch, and given a new branch that is pushed — never their default branch.

Git runs as the publishing actions run it (:func:`run_git`: no user configuration, no prompts,
``file://`` and ``https://`` remotes only).
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

from pavedroad.core.errors import InputError
from pavedroad.scaffolder.actions.git_commands import Author, run_git

UPGRADE_AUTHOR = Author("pavedroad templates", "templates@pavedroad.invalid")


def remote_url(given: str) -> str:
    """The URL git is given for a repository named by URL or by local path."""
    scheme = urlsplit(given).scheme
    if scheme in ("file", "https"):
        return given
    if not scheme:
        path = Path(given).expanduser()
        if not path.exists():
            raise InputError(f"{given} is neither a repository URL nor an existing folder")
        # As a URL so that --depth works: git ignores it for plain local paths.
        return Path(os.path.realpath(path)).as_uri()
    raise InputError(
        f"cannot read {given!r}: only file:// and https:// repositories (or local paths) are "
        "supported",
        hint="give the clone URL the template published to, e.g. its remoteUrl",
    )


def clone(url: str, into: Path, *, shallow: bool) -> Path:
    """A clone of ``url``'s default branch in ``into``."""
    into.parent.mkdir(parents=True, exist_ok=True)
    depth = ["--depth", "1"] if shallow else []
    run_git(["clone", "--quiet", "--no-tags", *depth, url, str(into)], cwd=into.parent)
    return into


def has_commits(repository: Path) -> bool:
    return bool(run_git(["for-each-ref", "--count=1", "refs/heads"], cwd=repository).strip())


def read_at_head(repository: Path, path: str) -> str | None:
    """``path`` as the checked-out branch's last commit has it; None when it has none."""
    if not has_commits(repository):
        return None
    if not run_git(["ls-tree", "--name-only", "HEAD", "--", path], cwd=repository).strip():
        return None
    return run_git(["show", f"HEAD:{path}"], cwd=repository)


def current_branch(repository: Path) -> str:
    return run_git(["rev-parse", "--abbrev-ref", "HEAD"], cwd=repository).strip()


def remote_has_branch(repository: Path, branch: str) -> bool:
    refs = run_git(["ls-remote", "--heads", "origin", f"refs/heads/{branch}"], cwd=repository)
    return bool(refs.strip())


def start_branch(repository: Path, branch: str) -> None:
    run_git(["check-ref-format", "--branch", branch], cwd=repository)
    run_git(["switch", "--quiet", "-c", branch], cwd=repository)


def commit_all(repository: Path, message: str) -> str:
    """Commit every change of the working tree; the new commit's hash."""
    run_git(["add", "--all"], cwd=repository)
    run_git(["commit", "--quiet", "-m", message], cwd=repository, author=UPGRADE_AUTHOR)
    return run_git(["rev-parse", "HEAD"], cwd=repository).strip()


def push_branch(repository: Path, branch: str) -> None:
    # Only this branch, and no --force: the default branch and anyone's work stay untouched.
    run_git(["push", "--quiet", "origin", f"HEAD:refs/heads/{branch}"], cwd=repository)
