"""Running an outside scanner (bandit, semgrep) so that its silence is never taken for "clean":
a scanner that is missing, exits with an error, writes something that is not its report, or
runs past its time limit raises, and the step reports that instead of "no findings"."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sysconfig
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pavedroad.core.errors import PavedroadError

# Where `pip install` put this interpreter's scripts (.venv/bin): bandit, and the semgrep the
# Makefile links there. A worker started as `.venv/bin/pavedroad` need not have it on PATH.
SCRIPTS_DIR = Path(sysconfig.get_path("scripts"))
OUTPUT_SHOWN = 600  # characters of a crashed scanner's stderr shown on the run


class ScannerNotInstalledError(PavedroadError):
    """The scanner is not installed where the step looks for it."""

    def __init__(self, tool: str, install: str) -> None:
        super().__init__(f"{tool} is not installed: {install}", hint=install)
        self.tool = tool


class ScannerCrashedError(PavedroadError):
    """The scanner ran but did not finish its scan: it crashed, errored or timed out."""

    def __init__(self, tool: str, reason: str) -> None:
        super().__init__(f"{tool} crashed: {reason}")
        self.tool = tool
        self.reason = reason


class ScannersFailedError(PavedroadError):
    """More than one scanner of a scan is missing or failed: each is named."""

    def __init__(self, errors: Sequence[PavedroadError]) -> None:
        super().__init__("; ".join(error.message for error in errors))
        self.errors = list(errors)


@dataclass(frozen=True, slots=True)
class ToolRun:
    exit_code: int
    stdout: str
    stderr: str


def search_path(path: str | None, *, extra: Sequence[Path] = (SCRIPTS_DIR,)) -> str:
    """The folders a scanner is looked up in: the step's PATH, then ``extra``."""
    folders = [folder for folder in (path or "").split(os.pathsep) if folder]
    folders += [str(folder) for folder in extra if str(folder) not in folders]
    return os.pathsep.join(folders)


def locate(tool: str, *, path: str, install: str) -> str:
    """The scanner's executable on ``path``; else ScannerNotInstalledError, saying how to
    install it."""
    found = shutil.which(tool, path=path)
    if found is None:
        raise ScannerNotInstalledError(tool, install)
    return found


def run_tool(
    tool: str,
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout_seconds: float,
) -> ToolRun:
    """Runs ``argv`` in its own process group, killed as a whole at the time limit."""
    try:
        process = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            start_new_session=True,
        )
    except OSError as error:
        raise ScannerCrashedError(tool, f"could not start {argv[0]}: {error.strerror}") from error
    try:
        stdout, stderr = process.communicate(timeout=timeout_seconds)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise ScannerCrashedError(
            tool, f"timed out after {timeout_seconds:g} s and was stopped (raise `timeout`)"
        ) from None
    return ToolRun(process.returncode, stdout, stderr)


def tail(text: str) -> str:
    """The end of a scanner's error output, on one line, for a failure message."""
    text = " ".join(text.split())
    return text if len(text) <= OUTPUT_SHOWN else "…" + text[-OUTPUT_SHOWN:]
