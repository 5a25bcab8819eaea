"""The local executor: a step's command as a subprocess of the worker, in its own process
group in the run's workspace, with only the environment the engine gives it.

Isolation given: a clean environment (nothing of the worker's but what the engine puts in), a
fresh clone as the working directory, a HOME inside the workspace, a time limit that kills the
whole process group (children included), and no process left behind when the step ends.
Not given: the step runs as the worker's user, on the worker's network, and can read whatever
that user can read outside the workspace. docs/pipelines.md says so to operators.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from pavedroad.config import Settings
from pavedroad.core.plugins import hookimpl
from pavedroad.pipelines.hooks import Executor, StepContext, StepOutcome

KILL_GRACE_SECONDS = 3.0  # between SIGTERM and SIGKILL
POLL_SECONDS = 0.05
MAX_LINE_BYTES = 64 * 1024  # a longer line is passed on in pieces


def _read_lines(stream: IO[bytes], context: StepContext) -> None:
    for raw in iter(lambda: stream.readline(MAX_LINE_BYTES), b""):
        context.log(raw.decode("utf-8", errors="replace").rstrip("\r\n"))
    stream.close()


def _signal_group(process: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


@dataclass(frozen=True, slots=True)
class LocalExecutor:
    """Runs ``bash -e -o pipefail -c COMMAND`` (``sh -e -c`` where bash is missing)."""

    name: str = "local"
    kill_grace_seconds: float = KILL_GRACE_SECONDS

    def run(self, context: StepContext, command: str, *, timeout_seconds: int) -> StepOutcome:
        shell = ["bash", "-e", "-o", "pipefail", "-c", command]
        if not any(
            os.access(Path(folder) / "bash", os.X_OK)
            for folder in context.env.get("PATH", "").split(":")
            if folder
        ):
            shell = ["sh", "-e", "-c", command]
        try:
            process = subprocess.Popen(
                shell,
                cwd=context.workspace,
                env=context.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: killed as one
            )
        except OSError as error:
            context.log(f"could not start the step's shell: {error}")
            return StepOutcome(succeeded=False, summary=f"could not start: {error.strerror}")
        assert process.stdout is not None
        reader = threading.Thread(
            target=_read_lines, args=(process.stdout, context), daemon=True, name="step-output"
        )
        reader.start()
        deadline = time.monotonic() + timeout_seconds
        stopped: str | None = None
        while process.poll() is None:
            if time.monotonic() >= deadline:
                stopped = f"timed out after {timeout_seconds} s"
                context.log(
                    f"killed: the step ran longer than its timeout of {timeout_seconds} s; "
                    "its whole process group was stopped"
                )
            elif context.is_cancelled():
                stopped = "cancelled"
                context.log("killed: the run was cancelled")
            if stopped:
                self._stop(process)
                break
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(POLL_SECONDS)  # returns the moment the step ends
        # Whatever the step left running in its group (`cmd &`) ends with it; this also
        # closes the output pipe those processes held, so the reader reaches its end.
        _signal_group(process, signal.SIGKILL)
        reader.join(10)
        code = process.wait()
        if stopped:
            return StepOutcome(succeeded=False, exit_code=None, summary=stopped)
        summary = "" if code == 0 else f"exit code {code}"
        return StepOutcome(succeeded=code == 0, exit_code=code, summary=summary)

    def _stop(self, process: subprocess.Popen[bytes]) -> None:
        """SIGTERM to the group, a grace period for it to end, then SIGKILL."""
        _signal_group(process, signal.SIGTERM)
        until = time.monotonic() + self.kill_grace_seconds
        while time.monotonic() < until:
            process.poll()  # reap the shell, so only live members keep the group
            try:
                os.killpg(process.pid, 0)
            except (ProcessLookupError, PermissionError):
                return
            time.sleep(POLL_SECONDS)
        _signal_group(process, signal.SIGKILL)


class LocalExecutorPlugin:
    @hookimpl
    def pavedroad_pipeline_executors(self, settings: Settings) -> Sequence[Executor]:
        return [LocalExecutor()]
