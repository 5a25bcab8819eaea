"""``debug:log`` and ``debug:wait``: writing to the step's log, and pausing a run."""

from __future__ import annotations

import time

from pavedroad.scaffolder.actions.base import ActionError, BuiltinAction, obj, string
from pavedroad.scaffolder.actions.skeletons import walk_files
from pavedroad.scaffolder.hooks import ActionContext

MAX_WAIT_SECONDS = 600  # a template that waits longer is holding a runner thread hostage


class Log(BuiltinAction):
    id = "debug:log"
    description = (
        "Writes `message` to the step's log; `listWorkspace` also lists the workspace's files "
        "(`true` or `with-filenames`: names, `with-contents`: names and contents)."
    )
    input_schema = {
        **obj(
            [],
            message=string("What to write to the log."),
            listWorkspace={
                "description": "List the workspace: true, with-filenames or with-contents.",
                "oneOf": [{"type": "boolean"}, {"enum": ["with-filenames", "with-contents"]}],
            },
        ),
        "additionalProperties": False,
    }

    def handler(self, context: ActionContext) -> None:
        if "message" in context.input:
            context.log(str(context.input["message"]))
        listing = context.input.get("listWorkspace")
        if not listing:
            return
        lines = []
        for path in walk_files(context.workspace):
            name = path.relative_to(context.workspace).as_posix()
            if listing == "with-contents" and not path.is_symlink():
                lines.append(f"{name}:\n{path.read_text(encoding='utf-8', errors='replace')}")
            else:
                lines.append(name)
        context.log("Workspace:\n" + "\n".join(lines))


class Wait(BuiltinAction):
    id = "debug:wait"
    description = f"Waits for the given time (at most {MAX_WAIT_SECONDS // 60} minutes)."
    _number = {"type": "number", "minimum": 0}
    input_schema = {
        **obj([], minutes=_number, seconds=_number, milliseconds=_number),
        "additionalProperties": False,
    }

    def handler(self, context: ActionContext) -> None:
        given = context.input
        seconds = (
            given.get("minutes", 0) * 60
            + given.get("seconds", 0)
            + given.get("milliseconds", 0) / 1000
        )
        if seconds > MAX_WAIT_SECONDS:
            raise ActionError(
                f"debug:wait may wait at most {MAX_WAIT_SECONDS} s, asked {seconds:g} s"
            )
        context.log(f"Waiting {seconds:g} s")
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if context.is_cancelled():
                return
            time.sleep(min(left, 0.2))
