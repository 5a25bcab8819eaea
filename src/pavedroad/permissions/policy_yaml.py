"""The YAML side of policy files: composing nodes that keep their line and column.

The policy is validated on the composed node tree rather than on loaded data, so that every
problem can name the line and column it is at.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml


@dataclass(frozen=True, slots=True)
class PolicyProblem:
    """One thing wrong with a policy file, where it is, and how to fix it."""

    file: str
    line: int | None
    column: int | None
    message: str
    hint: str = ""
    rule_index: int | None = None
    rule_name: str | None = None

    def describe(self) -> str:
        """``file:line:column: rule 2 'name': message — hint``."""
        where = ":".join(str(part) for part in (self.file, self.line, self.column) if part)
        rule = ""
        if self.rule_index is not None:
            rule = f"rule {self.rule_index}" + (f" '{self.rule_name}'" if self.rule_name else "")
            rule += ": "
        hint = f" — {self.hint}" if self.hint else ""
        return f"{where}: {rule}{self.message}{hint}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "rule": self.rule_index,
            "ruleName": self.rule_name,
            "message": self.message,
            "hint": self.hint,
        }


class PolicySyntaxError(Exception):
    """Text that is not YAML at all."""

    def __init__(self, message: str, line: int | None, column: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


def compose(text: str) -> yaml.Node | None:
    """The node tree of a one-document YAML text (None when empty)."""
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        detail = " ".join(part for part in (error.context, error.problem) if part)
        line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
        raise PolicySyntaxError(f"YAML syntax error: {detail}", line, column) from None
    except yaml.YAMLError as error:
        raise PolicySyntaxError(f"YAML syntax error: {error}", None, None) from None


def position(node: yaml.Node) -> tuple[int, int]:
    """Line and column (both from 1) where ``node`` starts."""
    return node.start_mark.line + 1, node.start_mark.column + 1


def value_of(node: yaml.Node) -> Any:
    """The plain Python value of a node (scalars, lists, mappings)."""
    return yaml.constructor.SafeConstructor().construct_document(node)


def is_mapping(node: yaml.Node | None) -> bool:
    return isinstance(node, yaml.MappingNode)


def is_sequence(node: yaml.Node | None) -> bool:
    return isinstance(node, yaml.SequenceNode)


def is_null(node: yaml.Node | None) -> bool:
    return node is None or (
        isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"
    )


def text_of(node: yaml.Node) -> str | None:
    """The string a scalar node holds, or None for anything else (numbers, lists, null)."""
    if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:str":
        return str(node.value)
    return None


def value_at(node: yaml.Node, key: str) -> str | None:
    """The string under ``key`` in a mapping node, if there is one."""
    for key_node, value_node in node.value:
        if text_of(key_node) == key:
            return text_of(value_node) or None
    return None


def shape(node: yaml.Node | None) -> str:
    """What a node is, in words, for messages: ``a list``, ``'permit'``, ``nothing``."""
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    if node is None or is_null(node):
        return "nothing"
    return f"{value_of(node)!r}"
