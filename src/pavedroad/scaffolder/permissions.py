"""What templates and their runs ask of the permission policy (running a template is
``scaffolder.template.run``, declared with the platform's permissions)."""

from __future__ import annotations

from pavedroad.permissions import Permission, declare

READ_TASKS = "scaffolder.task.read"
CANCEL_TASK = "scaffolder.task.cancel"
MANAGE_TASKS = "scaffolder.task.manage"

declare(
    Permission(READ_TASKS, "See template runs: their parameters (secrets masked), logs, outputs."),
    Permission(CANCEL_TASK, "Cancel a template run you started."),
    Permission(MANAGE_TASKS, "Cancel anyone's template run."),
)
