"""``fetch:plain`` and ``fetch:plain:file``: files of the template's folder copied as they are."""

from __future__ import annotations

from pavedroad.scaffolder.actions.base import ActionError, BuiltinAction, obj, string
from pavedroad.scaffolder.actions.skeletons import copy_link, entries, shown, write_file
from pavedroad.scaffolder.actions.workspace import safe_child_path, template_path
from pavedroad.scaffolder.hooks import ActionContext

_TOKEN = string("Accepted for Backstage templates; not used (files are local).")


class FetchPlain(BuiltinAction):
    id = "fetch:plain"
    description = (
        "Copies a folder of the template's folder into the workspace (or `targetPath` in it) "
        "without rendering anything; modes are kept, files already there are replaced."
    )
    input_schema = {
        **obj(
            ["url"],
            url=string("The folder, relative to the template's folder (./files)."),
            targetPath=string("Where in the workspace to copy it; default the workspace itself."),
            token=_TOKEN,
        ),
        "additionalProperties": False,
    }

    def handler(self, context: ActionContext) -> None:
        source = template_path(context, context.input["url"])
        if not source.is_dir():
            raise ActionError(
                f"url {context.input['url']!r} is a file; use fetch:plain:file for one file"
            )
        output = safe_child_path(
            context.workspace, context.input.get("targetPath", "./"), what="targetPath"
        )
        for entry in entries(source):
            target = safe_child_path(output, entry.name, what=f"the file {entry.name}")
            if entry.is_dir:
                target.mkdir(parents=True, exist_ok=True)
            elif entry.path.is_symlink():
                copy_link(entry.path, source, target, context.workspace)
            else:
                write_file(entry.path, target, None)
        context.log(f"Copied {context.input['url']} to {shown(output, context)}")


class FetchPlainFile(BuiltinAction):
    id = "fetch:plain:file"
    description = "Copies one file of the template's folder to `targetPath` in the workspace."
    input_schema = {
        **obj(
            ["url", "targetPath"],
            url=string("The file, relative to the template's folder."),
            targetPath=string("The file to write, relative to the workspace."),
            token=_TOKEN,
        ),
        "additionalProperties": False,
    }

    def handler(self, context: ActionContext) -> None:
        source = template_path(context, context.input["url"])
        if not source.is_file():
            raise ActionError(f"url {context.input['url']!r} is a folder; use fetch:plain")
        target = safe_child_path(context.workspace, context.input["targetPath"], what="targetPath")
        write_file(source, target, None)
        context.log(f"Copied {context.input['url']} to {shown(target, context)}")
