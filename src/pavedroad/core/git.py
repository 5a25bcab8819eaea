"""Running git on the platform's behalf: no user or system configuration, no prompts, no
hooks of ours to run, and a short reason when it fails. Domains add what they need (a token,
an author) through ``extra_env``."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from pavedroad.core.errors import PavedroadError

GIT_TIMEOUT_SECONDS = 300


class GitError(PavedroadError):
    """git could not do what was asked; the message carries git's own reason."""

    status_code = 400
    name = "GitError"


def git_environment(home: Path, protocols: str = "file:https") -> dict[str, str]:
    """The whole environment of a git command: nothing of the server's own but PATH."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_ALLOW_PROTOCOL": protocols,
        "LC_ALL": "C",
    }


def git(
    args: Sequence[str],
    *,
    cwd: Path | None = None,
    extra_env: Mapping[str, str] | None = None,
    protocols: str = "file:https",
    timeout: float = GIT_TIMEOUT_SECONDS,
) -> subprocess.CompletedProcess[str]:
    """``git <args>`` run to its end (whatever its exit code); raises :class:`GitError` only
    when git gives no answer within ``timeout``."""
    environment = {**git_environment(cwd or Path.cwd(), protocols), **(extra_env or {})}
    command = ["git", "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", *args]
    try:
        return subprocess.run(
            command,
            cwd=cwd,
            env=environment,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise GitError(f"git {args[0]} gave no answer within {timeout:g} s") from None


def failure_reason(stderr: str, *, hide: Sequence[str] = ()) -> str:
    """git's ``fatal:``/``error:`` lines (or its last line), with ``hide`` values masked."""
    lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    fatal = [
        line.removeprefix("fatal: ").removeprefix("error: ")
        for line in lines
        if line.startswith(("fatal:", "error:"))
    ]
    reason = "; ".join(fatal) if fatal else (lines[-1] if lines else "no reason given")
    for value in hide:
        if value:
            reason = reason.replace(value, "***")
    return reason
