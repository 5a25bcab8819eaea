"""``fetch:template`` and ``fetch:template:file``: a skeleton from the template's folder,
rendered with ``values`` into the workspace."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pavedroad.scaffolder.actions.base import (
    ActionError,
    BuiltinAction,
    boolean,
    obj,
    string,
    strings,
)
from pavedroad.scaffolder.actions.globs import matches_any
from pavedroad.scaffolder.actions.skeletons import (
    Entry,
    Renderer,
    copy_link,
    entries,
    is_skipped,
    shown,
    write_file,
)
from pavedroad.scaffolder.actions.workspace import safe_child_path, template_path
from pavedroad.scaffolder.hooks import ActionContext

_OPTIONS = {
    "values": {"type": "object", "description": "Values the skeleton reads as ${{ values.x }}."},
    "cookiecutterCompat": boolean(
        "Cookiecutter templates: {{ cookiecutter.x }} instead of ${{ values.x }}, plus jsonify."
    ),
    "replace": boolean("Replace files that already exist in the workspace (default: keep them)."),
    "trimBlocks": boolean("Remove the first newline after a block tag ({% ... %})."),
    "lstripBlocks": boolean("Strip spaces and tabs before a block tag on its line."),
    "token": string("Accepted for Backstage templates; not used (skeletons are local files)."),
}


class FetchTemplate(BuiltinAction):
    id = "fetch:template"
    description = (
        "Renders a skeleton folder of the template into the workspace (or `targetPath` in it): "
        "file and folder names and file contents are templates reading `${{ values.x }}`. "
        "Binary files are copied as they are, file modes (an executable script) are kept, an "
        "entry whose rendered path has an empty segment is left out, existing files are kept "
        "unless `replace` is set."
    )
    input_schema = {
        **obj(
            ["url"],
            url=string("The skeleton folder, relative to the template's folder (./skeleton)."),
            targetPath=string("Where in the workspace to write it; default the workspace itself."),
            copyWithoutTemplating=strings(
                "Glob patterns of files copied without rendering their contents (names are "
                "still rendered)."
            ),
            copyWithoutRender=strings(
                "Deprecated: glob patterns of files copied with neither name nor contents rendered."
            ),
            templateFileExtension={
                "type": ["string", "boolean"],
                "description": "Render only files with this extension (true: .njk) and strip it.",
            },
            **_OPTIONS,
        ),
        "additionalProperties": False,
    }

    def handler(self, context: ActionContext) -> None:
        given = context.input
        copy_only, render_names = _copy_lists(given)
        extension = _extension(given, copy_only)
        context.log(f"Fetching template content from {given['url']}")
        skeleton = template_path(context, given["url"])
        if not skeleton.is_dir():
            raise ActionError(
                f"url {given['url']!r} is a file; use fetch:template:file for one file"
            )
        output = safe_child_path(
            context.workspace, given.get("targetPath", "./"), what="targetPath"
        )
        renderer = _renderer(context, given)
        context.log("Listing files and directories in template")
        found = entries(skeleton)
        values = json.dumps(
            given.get("values") or {}, sort_keys=True, separators=(",", ":"), default=str
        )
        context.log(
            f"Processing {len(found)} template files/directories with input values {values}"
        )
        plan = _Plan(context, renderer, skeleton, output, copy_only, render_names, extension)
        for entry in found:
            plan.write(entry)
        context.log(f"Template result written to {shown(output, context)}")


def _copy_lists(given: dict[str, Any]) -> tuple[list[str] | None, bool]:
    if "copyWithoutRender" in given and "copyWithoutTemplating" in given:
        raise ActionError(
            "copyWithoutRender and copyWithoutTemplating cannot be used together",
            "use copyWithoutTemplating only (copyWithoutRender is deprecated)",
        )
    if "copyWithoutRender" in given:
        return list(given["copyWithoutRender"]), False
    if "copyWithoutTemplating" in given:
        return list(given["copyWithoutTemplating"]), True
    return None, True


def _extension(given: dict[str, Any], copy_only: list[str] | None) -> str | None:
    chosen = given.get("templateFileExtension")
    if not chosen:
        return None
    if copy_only is not None or given.get("cookiecutterCompat"):
        raise ActionError(
            "templateFileExtension cannot be combined with the copy lists or cookiecutterCompat"
        )
    text = ".njk" if chosen is True else str(chosen)
    return text if text.startswith(".") else f".{text}"


def _renderer(context: ActionContext, given: dict[str, Any]) -> Renderer:
    return Renderer(
        context,
        given.get("values") or {},
        cookiecutter_compat=bool(given.get("cookiecutterCompat")),
        trim_blocks=bool(given.get("trimBlocks")),
        lstrip_blocks=bool(given.get("lstripBlocks")),
    )


@dataclass
class _Plan:
    """How one fetch:template writes each entry of its skeleton."""

    context: ActionContext
    renderer: Renderer
    skeleton: Path
    output: Path
    copy_only: list[str] | None
    render_names: bool
    extension: str | None

    def output_name(self, entry: Entry) -> tuple[str, bool]:
        """Where ``entry`` goes (rendered) and whether its contents are rendered."""
        name = entry.name
        if self.extension is not None:
            render_contents = not entry.is_dir and name.endswith(self.extension)
            stripped = name[: -len(self.extension)] if render_contents else name
            return self.renderer.render(stripped, f"the name {name}"), render_contents
        render_contents = not (self.copy_only and matches_any(name, self.copy_only))
        if self.render_names or render_contents:
            name = self.renderer.render(name, f"the name {entry.name}")
        return name, render_contents

    def write(self, entry: Entry) -> None:
        context = self.context
        name, render_contents = self.output_name(entry)
        if is_skipped(name):
            return
        target = safe_child_path(self.output, name, what=f"the path {entry.name} renders to")
        if (target.exists() or target.is_symlink()) and not context.input.get("replace"):
            return
        if not render_contents and self.extension is None:
            context.log(f"Copying file/directory {entry.name} without processing.")
        if entry.is_dir:
            context.log(f"Writing directory {entry.name} to template output path.")
            target.mkdir(parents=True, exist_ok=True)
        elif entry.path.is_symlink():
            context.log(f"Copying symbolic link {entry.name} to template output path.")
            copy_link(entry.path, self.skeleton, target, context.workspace)
        else:
            mode = entry.path.stat().st_mode
            renderer = self.renderer
            content = (lambda text: renderer.render(text, entry.name)) if render_contents else None
            kind = write_file(entry.path, target, content)
            context.log(f"Writing {kind} {entry.name} to template output path with mode {mode}.")


class FetchTemplateFile(BuiltinAction):
    id = "fetch:template:file"
    description = (
        "Renders one file of the template's folder with `values` and writes it to `targetPath` "
        "in the workspace (kept if it exists, unless `replace`)."
    )
    input_schema = {
        **obj(
            ["url", "targetPath"],
            url=string("The file, relative to the template's folder."),
            targetPath=string("The file to write, relative to the workspace."),
            **_OPTIONS,
        ),
        "additionalProperties": False,
    }

    def handler(self, context: ActionContext) -> None:
        given = context.input
        source = template_path(context, given["url"])
        if not source.is_file():
            raise ActionError(f"url {given['url']!r} is a folder; use fetch:template for folders")
        target = safe_child_path(context.workspace, given["targetPath"], what="targetPath")
        if target.exists() and not given.get("replace"):
            context.log(f"File {given['targetPath']} already exists in workspace, not replacing.")
            return
        renderer = _renderer(context, given)
        write_file(source, target, lambda text: renderer.render(text, given["url"]))
        context.log(f"Wrote {shown(target, context)}")
