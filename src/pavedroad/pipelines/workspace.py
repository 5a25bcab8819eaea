"""Repositories as the engine sees them: a bare mirror per repository under
``data_dir/pipelines/mirrors`` (fetched before each run is resolved), the branch and commit a run
builds, a file at that commit, and a fresh clone at exactly that commit for each run.

Local paths, ``file://`` URLs and git URLs (https, ssh) work alike. git runs with no user or
system configuration, no prompts, and no hooks (clones are made with an empty template).
"""

from __future__ import annotations

import fcntl
import hashlib
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pavedroad.config import Settings
from pavedroad.core.errors import InputError, NotFoundError
from pavedroad.core.git import failure_reason, git

PROTOCOLS = "file:https:ssh:git"
_COMMIT = re.compile(r"[0-9a-fA-F]{4,64}")


class RepositoryUnavailable(InputError):  # noqa: N818 - reads as what it is
    """The repository cannot be fetched (missing, unreachable, not a git repository)."""


def _url(repository: str) -> str:
    return (
        repository
        if "://" in repository or repository.startswith("git@")
        else str(Path(repository).resolve())
    )


def mirror_path(settings: Settings, repository: str) -> Path:
    digest = hashlib.sha256(_url(repository).encode()).hexdigest()[:24]
    name = re.sub(r"[^A-Za-z0-9_.-]", "-", _url(repository).rstrip("/").rsplit("/", 1)[-1])
    return settings.data_dir / "pipelines" / "mirrors" / f"{name.removesuffix('.git')}-{digest}.git"


def _git(args: list[str], cwd: Path, what: str) -> str:
    completed = git(args, cwd=cwd, protocols=PROTOCOLS)
    if completed.returncode != 0:
        raise RepositoryUnavailable(f"{what}: {failure_reason(completed.stderr)}")
    return completed.stdout


@contextmanager
def _locked(mirror: Path) -> Iterator[None]:
    """One fetch of a mirror at a time, across threads and worker processes."""
    mirror.parent.mkdir(parents=True, exist_ok=True)
    with open(mirror.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def fetch(settings: Settings, repository: str) -> Path:
    """The repository's mirror, brought up to date (made on first use); its path."""
    mirror = mirror_path(settings, repository)
    url = _url(repository)
    with _locked(mirror):
        if not (mirror / "HEAD").is_file():
            shutil.rmtree(mirror, ignore_errors=True)
            _git(
                ["clone", "--quiet", "--mirror", "--template=", url, str(mirror)],
                mirror.parent,
                f"cannot fetch {repository}",
            )
        else:
            _git(["fetch", "--quiet", "--prune", "origin"], mirror, f"cannot fetch {repository}")
            head = git(["ls-remote", "--symref", "origin", "HEAD"], cwd=mirror, protocols=PROTOCOLS)
            match = re.match(r"ref:\s+(refs/heads/\S+)\s+HEAD", head.stdout)
            if match:  # the remote's default branch may have changed since the mirror was made
                git(["symbolic-ref", "HEAD", match.group(1)], cwd=mirror)
    return mirror


def default_branch(settings: Settings, repository: str) -> str:
    """The default branch of the repository, as its mirror last saw it."""
    return _default_branch(mirror_path(settings, repository))


def _default_branch(mirror: Path) -> str:
    head = git(["symbolic-ref", "--quiet", "HEAD"], cwd=mirror).stdout.strip()
    return head.removeprefix("refs/heads/") or "main"


def _branches(mirror: Path) -> list[str]:
    listed = git(["for-each-ref", "--format=%(refname:short)", "refs/heads"], cwd=mirror).stdout
    return [line for line in listed.splitlines() if line]


def resolve(
    settings: Settings, repository: str, branch: str | None, commit: str | None
) -> tuple[str, str, str]:
    """``(branch, commit, default_branch)`` of a run: the branch's head when no commit is
    given, the default branch when neither is; a commit without a branch is put on a branch
    that contains it (the default one first)."""
    mirror = fetch(settings, repository)
    default = _default_branch(mirror)
    branches = _branches(mirror)
    if commit is None:
        wanted = branch or default
        if wanted not in branches:
            known = ", ".join(branches[:20]) or "none: the repository is empty"
            raise NotFoundError(
                f"{repository} has no branch {wanted!r} (branches: {known})",
                hint="give an existing branch with --branch, or push the branch first",
            )
        resolved = git(["rev-parse", f"refs/heads/{wanted}^{{commit}}"], cwd=mirror)
        return wanted, resolved.stdout.strip(), default
    if not _COMMIT.fullmatch(commit):
        raise InputError(f"{commit!r} is not a commit id", hint="give a hexadecimal commit id")
    found = git(["rev-parse", "--verify", "--quiet", f"{commit}^{{commit}}"], cwd=mirror)
    if found.returncode != 0:
        raise NotFoundError(
            f"{repository} has no commit {commit}",
            hint="push it first, or give a commit that is on one of its branches",
        )
    full = found.stdout.strip()
    if branch is None:
        containing = git(
            ["for-each-ref", "--format=%(refname:short)", "--contains", full, "refs/heads"],
            cwd=mirror,
        ).stdout.split()
        branch = default if default in containing or not containing else containing[0]
    return branch, full, default


def read_file_at(settings: Settings, repository: str, commit: str, path: str) -> str | None:
    """The text of ``path`` at ``commit`` in the repository's mirror, or None when absent."""
    mirror = mirror_path(settings, repository)
    shown = git(["cat-file", "-p", f"{commit}:{path}"], cwd=mirror)
    if shown.returncode != 0:
        return None
    return shown.stdout


def checkout(settings: Settings, repository: str, commit: str, dest: Path) -> None:
    """A fresh clone of the repository in ``dest``, detached at exactly ``commit``.

    Cloned from the local mirror (fast, no network), with an empty template directory so that
    no hook is installed, and the origin set back to the repository itself.
    """
    mirror = mirror_path(settings, repository)
    if not (mirror / "HEAD").is_file():
        fetch(settings, repository)
    shutil.rmtree(dest, ignore_errors=True)
    dest.parent.mkdir(parents=True, exist_ok=True)
    what = f"cannot check out {commit[:12]} of {repository}"
    _git(
        ["clone", "--quiet", "--no-checkout", "--template=", str(mirror), str(dest)],
        dest.parent,
        what,
    )
    _git(["-c", "core.hooksPath=/dev/null", "checkout", "--quiet", "--detach", commit], dest, what)
    _git(["remote", "set-url", "origin", _url(repository)], dest, what)
