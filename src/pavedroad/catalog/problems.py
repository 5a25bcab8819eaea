"""What is wrong with a descriptor: :class:`Problem`, and the messages Backstage's schema checks
give for a missing field, a value of the wrong type or a badly formatted one."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Path = tuple[str | int, ...]


@dataclass(slots=True)
class Problem:
    """One thing wrong with a document: what, where (field path), how to fix, and its category.

    ``fatal`` problems are those Backstage raises before validation; they make the whole file
    unreadable for Backstage too.
    """

    category: str
    message: str
    path: Path = ()
    hint: str = ""
    fatal: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def field_path(self) -> str:
        return dotted(self.path)


def dotted(path: Path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "<root>"


def pointer(path: Path) -> str:
    """The JSON pointer Backstage's schema messages use (``/spec``), or ``<root>``."""
    return "".join(f"/{part}" for part in path) or "<root>"


def missing(path: Path, name: str, hint: str = "") -> Problem:
    return Problem(
        f"schema:{pointer(path)} must have required property '{name}'",
        f"{dotted((*path, name))} is required",
        (*path, name),
        hint,
    )


def wrong_type(path: Path, expected: str, value: Any, hint: str = "") -> Problem:
    return Problem(
        f"schema:{pointer(path)} must be {expected}",
        f"{dotted(path)} must be {_article(expected)}, found {describe(value)}",
        path,
        hint,
    )


def _article(expected: str) -> str:
    return f"an {expected}" if expected[0] in "aeio" else f"a {expected}"


def describe(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f'the string "{value}"' if len(value) < 80 else "a long string"
    if isinstance(value, list):
        return f"a list of {len(value)} item(s)"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def format_problem(field_name: str, value: Any, expected: str, *, hint: str = "") -> Problem:
    path = tuple(field_name.split("."))
    return Problem(
        f"field-format:{field_name}",
        f'{field_name} "{value}" is not valid: expected {expected}',
        path,
        hint,
    )
