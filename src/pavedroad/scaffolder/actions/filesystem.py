"""``fs:rename``, ``fs:delete`` and ``fs:readdir``: files of the workspace, and only those."""

from __future__ import annotations

import glob
import os
import shutil
from pathlib import Path
from typing import Any

from pavedroad.scaffolder.actions.base import (
    NO_OUTPUT,
    ActionError,
    BuiltinAction,
    boolean,
    obj,
    string,
    strings,
)
from pavedroad.scaffolder.actions.workspace import relative_name, safe_child_path
from pavedroad.scaffolder.hooks import ActionContext

_GLOB = ("*", "?", "[")


class Rename(BuiltinAction):
    id = "fs:rename"
    description = "Renames (moves) files or folders of the workspace."
    input_schema = {
        **obj(
            ["files"],
            files={
                "type": "array",
                "description": "What to move where; `overwrite` replaces an existing target.",
                "items": {
                    **obj(
                        ["from", "to"],
                        **{"from": string("Path relative to the workspace.")},
                        to=string("New path relative to the workspace."),
                        overwrite=boolean("Replace what is at `to` already."),
                    ),
                    "additionalProperties": False,
                },
            },
        ),
        "additionalProperties": False,
    }
    output_schema = NO_OUTPUT

    def handler(self, context: ActionContext) -> None:
        for index, item in enumerate(context.input["files"]):
            source = safe_child_path(context.workspace, item["from"], what=f"files[{index}].from")
            target = safe_child_path(context.workspace, item["to"], what=f"files[{index}].to")
            if not source.exists() and not source.is_symlink():
                raise ActionError(f"files[{index}].from {item['from']!r} does not exist")
            if target.exists() and not item.get("overwrite"):
                raise ActionError(
                    f"files[{index}].to {item['to']!r} exists already",
                    "set overwrite: true to replace it",
                )
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            target.parent.mkdir(parents=True, exist_ok=True)
            source.replace(target)
            context.log(f"Renamed {item['from']} to {item['to']}")


class Delete(BuiltinAction):
    id = "fs:delete"
    description = (
        "Deletes files or folders of the workspace; each entry may be a glob pattern. Paths "
        "that do not exist are ignored."
    )
    input_schema = {
        **obj(["files"], files=strings("Paths or glob patterns relative to the workspace.")),
        "additionalProperties": False,
    }

    def handler(self, context: ActionContext) -> None:
        for index, pattern in enumerate(context.input["files"]):
            safe_child_path(context.workspace, pattern, what=f"files[{index}]")
            for path in _matches(context.workspace, pattern, index):
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path)
                else:
                    path.unlink(missing_ok=True)
                context.log(f"Deleted {relative_name(path, context.workspace)}")


def _matches(workspace: Path, pattern: str, index: int) -> list[Path]:
    if not any(char in pattern for char in _GLOB):
        path = safe_child_path(workspace, pattern, what=f"files[{index}]")
        return [path] if path.exists() or path.is_symlink() else []
    names = glob.glob(pattern, root_dir=workspace, recursive=True, include_hidden=True)
    return [safe_child_path(workspace, name, what=f"files[{index}]") for name in sorted(names)]


class ReadDir(BuiltinAction):
    id = "fs:readdir"
    description = "Lists the files and folders at paths of the workspace."
    _entry = obj(
        ["name", "path", "fullPath"],
        name=string("The file name."),
        path=string("Relative to the workspace."),
        fullPath=string("The absolute path on the server."),
    )
    input_schema = {
        **obj(
            ["paths"],
            paths=strings("Folders relative to the workspace."),
            recursive=boolean("Also list what is in sub-folders."),
        ),
        "additionalProperties": False,
    }
    output_schema = obj(
        ["files", "folders"],
        files={"type": "array", "items": _entry},
        folders={"type": "array", "items": _entry},
    )

    def handler(self, context: ActionContext) -> None:
        files: list[dict[str, Any]] = []
        folders: list[dict[str, Any]] = []
        root = Path(os.path.realpath(context.workspace))
        for index, folder in enumerate(context.input["paths"]):
            base = safe_child_path(context.workspace, folder, what=f"paths[{index}]")
            if not base.is_dir():
                raise ActionError(f"paths[{index}] {folder!r} is not a folder of the workspace")
            found = base.rglob("*") if context.input.get("recursive") else base.iterdir()
            for path in sorted(found):
                described = {
                    "name": path.name,
                    "path": path.relative_to(root).as_posix(),
                    "fullPath": str(path),
                }
                (folders if path.is_dir() and not path.is_symlink() else files).append(described)
        context.output("files", files)
        context.output("folders", folders)
