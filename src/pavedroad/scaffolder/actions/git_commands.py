"""Running git for publishing actions: no user or system configuration, no prompts, a token
given as an ``http.extraheader`` in the environment of that one command (never on its command
line, where other users of the server could see it) and never in any message."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pavedroad.core.git import GIT_TIMEOUT_SECONDS, GitError, failure_reason, git
from pavedroad.scaffolder.actions.base import ActionError

__all__ = ["GIT_TIMEOUT_SECONDS", "Author", "basic_credentials", "run_git"]


@dataclass(frozen=True)
class Author:
    name: str
    email: str


def run_git(
    args: Sequence[str],
    *,
    cwd: Path | None = None,
    token: str | None = None,
    author: Author | None = None,
) -> str:
    """``git <args>``'s output; raises :class:`ActionError` with git's reason, token masked."""
    environment: dict[str, str] = {}
    if author is not None:
        for role in ("AUTHOR", "COMMITTER"):
            environment[f"GIT_{role}_NAME"] = author.name
            environment[f"GIT_{role}_EMAIL"] = author.email
    if token:
        environment.update(
            {
                "GIT_CONFIG_COUNT": "1",
                "GIT_CONFIG_KEY_0": "http.extraheader",
                "GIT_CONFIG_VALUE_0": f"Authorization: Basic {basic_credentials(token)}",
            }
        )
    try:
        completed = git(args, cwd=cwd, extra_env=environment, timeout=GIT_TIMEOUT_SECONDS)
    except GitError as error:
        raise ActionError(error.message) from None
    if completed.returncode != 0:
        raise ActionError(f"git {args[0]} failed: {_reason(completed.stderr, token)}")
    return completed.stdout


def basic_credentials(token: str) -> str:
    """The Basic credentials GitHub (and most hosts) take for a token over HTTPS."""
    return base64.b64encode(f"x-access-token:{token}".encode()).decode("ascii")


def _reason(stderr: str, token: str | None) -> str:
    hide = (token, basic_credentials(token)) if token else ()
    return failure_reason(stderr, hide=hide)
