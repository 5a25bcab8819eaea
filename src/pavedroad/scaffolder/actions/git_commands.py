"""Running git for publishing actions: no user or system configuration, no prompts, a token
given as an ``http.extraheader`` in the environment of that one command (never on its command
line, where other users of the server could see it) and never in any message."""

from __future__ import annotations

import base64
import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pavedroad.scaffolder.actions.base import ActionError

GIT_TIMEOUT_SECONDS = 300


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
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(cwd or Path.cwd()),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_ALLOW_PROTOCOL": "file:https",
        "LC_ALL": "C",
    }
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
    command = ["git", "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", *args]
    try:
        completed = subprocess.run(
            command,
            cwd=cwd,
            env=environment,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ActionError(f"git {args[0]} gave no answer within {GIT_TIMEOUT_SECONDS} s") from None
    if completed.returncode != 0:
        raise ActionError(f"git {args[0]} failed: {_reason(completed.stderr, token)}")
    return completed.stdout


def basic_credentials(token: str) -> str:
    """The Basic credentials GitHub (and most hosts) take for a token over HTTPS."""
    return base64.b64encode(f"x-access-token:{token}".encode()).decode("ascii")


def _reason(stderr: str, token: str | None) -> str:
    lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    fatal = [
        line.removeprefix("fatal: ").removeprefix("error: ")
        for line in lines
        if line.startswith(("fatal:", "error:"))
    ]
    reason = "; ".join(fatal) if fatal else (lines[-1] if lines else "no reason given")
    if token:
        reason = reason.replace(token, "***").replace(basic_credentials(token), "***")
    return reason
