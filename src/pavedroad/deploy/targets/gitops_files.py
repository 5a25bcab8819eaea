"""The one line a GitOps deploy changes: a kustomization's ``images[].newTag`` of an image, or
a key of a Helm values file (``image.tag``), edited in place so that people's comments, order
and quoting stay as they wrote them. Every edit is checked by parsing the file before and after:
only that value may differ. A file the line edit cannot handle (flow style, anchors) is
rewritten whole, and the caller is told its comments were not kept."""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from typing import Any

import yaml

from pavedroad.deploy.hooks import TargetError

_KEY_LINE = re.compile(
    r"^(?P<indent> *)(?P<key>[^\s#:\-][^:#]*?|\"[^\"]*\"|'[^']*'):"
    r"(?: +(?P<value>[^#\r\n]*?))?(?P<comment> +#[^\r\n]*)? *(?P<eol>\r?\n)?$"
)
_ITEM_LINE = re.compile(r"^(?P<indent> *)- +(?P<rest>.*?)(?P<eol>\r?\n)?$")


@dataclass(frozen=True, slots=True)
class Edited:
    text: str
    previous: str | None  # the value there before
    kept_comments: bool


def _scalar(version: str) -> str:
    return json.dumps(version)  # a YAML double-quoted string: 1.10 stays "1.10", not a float


def _load(text: str, where: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise TargetError(f"{where} is not valid YAML: {error}") from None


def _dig(document: Any, parts: list[str]) -> Any:
    node = document
    for part in parts:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _image_entry(document: Any, image: str, where: str) -> dict[str, Any]:
    images = document.get("images") if isinstance(document, dict) else None
    if not isinstance(images, list):
        raise TargetError(f"{where} has no `images:` list for {image} (kustomize's image tags)")
    for entry in images:
        if isinstance(entry, dict) and entry.get("name") == image:
            return entry
    named = ", ".join(str(e.get("name")) for e in images if isinstance(e, dict)) or "none"
    raise TargetError(f"{where} has no `images:` entry named {image} (it has: {named})")


def read_version(text: str, *, where: str, image: str | None, values_key: str | None) -> str | None:
    """The version the file holds now (None: the key is there but empty)."""
    document = _load(text, where)
    if values_key:
        value = _dig(document, values_key.split("."))
    else:
        value = _image_entry(document, str(image), where).get("newTag")
    return None if value is None else str(value)


def set_version(
    text: str, version: str, *, where: str, image: str | None, values_key: str | None
) -> Edited:
    before = _load(text, where)
    expected = copy.deepcopy(before)
    if values_key:
        parts = values_key.split(".")
        parent = _dig(expected, parts[:-1]) if len(parts) > 1 else expected
        if not isinstance(parent, dict) or parts[-1] not in parent:
            raise TargetError(f"{where} has no key `{values_key}` (the Helm values key to set)")
        if isinstance(parent[parts[-1]], dict | list):
            raise TargetError(f"`{values_key}` in {where} is not a single value")
        previous = parent[parts[-1]]
        parent[parts[-1]] = version
        edited = _edit_values_key(text, parts, version)
    else:
        if not image:
            raise TargetError("the gitops target needs `gitops.image` for a kustomization")
        entry = _image_entry(expected, image, where)
        previous = entry.get("newTag")
        entry["newTag"] = version
        edited = _edit_image_tag(text, image, version)
    previous_text = None if previous is None else str(previous)
    if edited is not None and _load(edited, where) == expected:
        return Edited(text=edited, previous=previous_text, kept_comments=True)
    rewritten = yaml.safe_dump(expected, sort_keys=False, default_flow_style=False)
    return Edited(text=rewritten, previous=previous_text, kept_comments=False)


def _newline(eol: str | None) -> str:
    return eol or ""


def _edit_values_key(text: str, parts: list[str], version: str) -> str | None:
    lines = text.splitlines(keepends=True)
    stack: list[tuple[int, str]] = []
    for index, line in enumerate(lines):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _KEY_LINE.match(line)
        indent = len(line) - len(line.lstrip(" "))
        while stack and stack[-1][0] >= indent:
            stack.pop()
        if match is None:
            continue
        stack.append((indent, match["key"].strip("\"'")))
        if [name for _, name in stack] == parts:
            value = match["value"] or ""
            if value.startswith(("|", ">", "{", "[", "&", "*", "!")):
                return None
            lines[index] = (
                f"{match['indent']}{match['key']}: {_scalar(version)}"
                f"{match['comment'] or ''}{_newline(match['eol'])}"
            )
            return "".join(lines)
    return None


@dataclass(slots=True)
class _Item:
    key_indent: int
    name: str | None = None
    name_line: int | None = None
    tag_line: int | None = None
    tag_match: re.Match[str] | None = None


def _edit_image_tag(text: str, image: str, version: str) -> str | None:
    """``newTag:`` of the ``images:`` item named ``image``, replaced or added after its name."""
    lines = text.splitlines(keepends=True)
    items: list[_Item] = []
    in_images = False
    item_indent: int | None = None  # the dash's column of the items
    for index, raw in enumerate(lines):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(raw) - len(raw.lstrip(" "))
        if indent == 0 and not raw.startswith("-"):
            in_images, item_indent = raw.startswith("images:"), None
            continue
        if not in_images:
            continue
        line = raw
        item = _ITEM_LINE.match(raw)
        if item is not None and (item_indent is None or indent <= item_indent):
            item_indent = indent
            rest = raw[indent:]
            key_indent = indent + len(rest) - len(rest.lstrip("- "))
            items.append(_Item(key_indent=key_indent))
            line, indent = " " * key_indent + item["rest"] + _newline(item["eol"]), key_indent
        if not items or indent != items[-1].key_indent:
            continue
        match = _KEY_LINE.match(line)
        if match is None:
            continue
        key = match["key"].strip("\"'")
        if key == "name":
            items[-1].name = (match["value"] or "").strip().strip("\"'")
            items[-1].name_line = index
        elif key == "newTag":
            items[-1].tag_line, items[-1].tag_match = index, match
    ours = [item for item in items if item.name == image]
    if len(ours) != 1 or ours[0].name_line is None:
        return None
    entry, name_line = ours[0], ours[0].name_line
    if entry.tag_line is not None and entry.tag_match is not None:
        raw = lines[entry.tag_line]
        lines[entry.tag_line] = (
            f"{raw[: raw.index('newTag')]}newTag: {_scalar(version)}"
            f"{entry.tag_match['comment'] or ''}{_newline(entry.tag_match['eol'])}"
        )
        return "".join(lines)
    eol = "\r\n" if lines[name_line].endswith("\r\n") else "\n"
    if not lines[name_line].endswith("\n"):
        lines[name_line] += eol
    lines.insert(name_line + 1, f"{' ' * entry.key_indent}newTag: {_scalar(version)}{eol}")
    return "".join(lines)
