"""What a version names in a component's repository: a git tag (``1.4.0``, ``v1.4.0``), a branch
(its head now), or a commit id; anything else is refused with the versions that do exist."""

from __future__ import annotations

import re
from pathlib import Path

from pavedroad.config import Settings
from pavedroad.core.errors import NotFoundError
from pavedroad.core.git import git
from pavedroad.pipelines import workspace

_COMMIT = re.compile(r"[0-9a-fA-F]{7,64}")
LISTED = 15


class VersionUnknown(NotFoundError):  # noqa: N818 - reads as what it is
    """The repository has no tag, branch or commit of that name."""


def resolve_version(settings: Settings, repository: str, version: str) -> str:
    """The full commit id ``version`` names (the mirror is fetched first)."""
    mirror = workspace.fetch(settings, repository)
    wanted = version.strip()
    for ref in (f"refs/tags/{wanted}", f"refs/heads/{wanted}"):
        found = git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], cwd=mirror)
        if found.returncode == 0:
            return found.stdout.strip()
    if _COMMIT.fullmatch(wanted):
        found = git(["rev-parse", "--verify", "--quiet", f"{wanted}^{{commit}}"], cwd=mirror)
        if found.returncode == 0:
            return found.stdout.strip()
    tags = _refs(mirror, "refs/tags", "-creatordate")
    branches = _refs(mirror, "refs/heads", "refname")
    listed = ", ".join([*tags[:LISTED], *branches[:LISTED]]) or "none: the repository is empty"
    raise VersionUnknown(
        f"{repository} has no version {wanted!r} (tags and branches: {listed})",
        hint="give a git tag, a branch or a commit id of the component's repository",
        versions={"tags": tags[:LISTED], "branches": branches[:LISTED]},
    )


def _refs(mirror: Path, prefix: str, sort: str) -> list[str]:
    listed = git(
        ["for-each-ref", f"--sort={sort}", "--format=%(refname:short)", prefix],
        cwd=mirror,
    ).stdout
    return [line for line in listed.splitlines() if line]
