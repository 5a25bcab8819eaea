"""What an exported step runs: its ``run`` command, or its step type's command."""

from __future__ import annotations

from collections.abc import Mapping

from pavedroad.pipelines.hooks import StepType
from pavedroad.pipelines.schemas import Step


def step_command(step: Step, step_types: Mapping[str, StepType] | None, warnings: list[str]) -> str:
    """The shell command of ``step`` in another CI system.

    A step type without a command of its own (one that runs inside pavedroad, such as the
    placeholders of capabilities not yet installed) becomes a command that says so.
    """
    if step.run is not None:
        return step.run
    step_type = (step_types or {}).get(step.uses or "")
    command = step_type.command(step) if step_type is not None else None
    if command:
        return command
    warnings.append(
        f"{step.id}: step type {step.uses!r} runs only inside pavedroad; the export prints a "
        "note instead"
    )
    return f"echo 'pavedroad step type {step.uses} runs only inside pavedroad: skipped here'"


def with_retries(command: str, retries: int) -> str:
    """``command`` tried up to ``retries`` more times, for systems without retries of steps."""
    if retries <= 0:
        return command
    attempts = retries + 1
    return (
        f"for attempt in $(seq 1 {attempts}); do\n"
        f"(\n{command}\n) && exit 0\n"
        f'echo "attempt $attempt of {attempts} failed"\n'
        "done\nexit 1\n"
    )
