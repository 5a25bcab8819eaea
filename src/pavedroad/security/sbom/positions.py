"""Line numbers for what parsers hand back without them: where a key or a name is written, and
where a TOML, JSON or YAML parser says it stopped."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import yaml

from pavedroad.security.sbom.packages import LockfileError

_TOML_LINE = re.compile(r"line (\d+)")


class LineIndex:
    """Finds the line of a piece of text, searching forward from the last one found, so that
    repeated names (``name = "idna"`` in each ``[[package]]``) land on their own entry."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._offset = 0

    def line_of(self, needle: str, *, from_start: bool = False) -> int | None:
        start = 0 if from_start else self._offset
        found = self.text.find(needle, start)
        if found < 0 and not from_start:
            found = self.text.find(needle)
        if found < 0:
            return None
        self._offset = found + len(needle)
        return self.text.count("\n", 0, found) + 1


def load_toml(text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        match = _TOML_LINE.search(str(error))
        raise LockfileError(
            f"not valid TOML: {error}", int(match.group(1)) if match else None
        ) from None


def load_json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise LockfileError(f"not valid JSON: {error.msg}", error.lineno) from None


def load_yaml(text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        raise LockfileError(f"not valid YAML: {error.problem or error}", line) from None
    except yaml.YAMLError as error:
        raise LockfileError(f"not valid YAML: {error}") from None


def expect_mapping(value: Any, what: str, line: int | None = None) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise LockfileError(f"{what} should be a mapping, found {type(value).__name__}", line)
    return value


def read_source(path: Path, root: Path) -> tuple[str, str]:
    """A lockfile's name relative to the scanned root, and its text."""
    try:
        file = path.relative_to(root).as_posix()
    except ValueError:
        file = path.name
    try:
        return file, path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise LockfileError(f"cannot read the file: {error}") from None
