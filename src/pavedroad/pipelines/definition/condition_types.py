"""The vocabulary of ``if:`` conditions: the facts a condition is checked against, its errors,
and how an export writes one in another CI system (:class:`Dialect`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

IDENTIFIERS = ("branch", "default", "default_branch", "event", "tag")
FUNCTIONS = ("changed", "success", "failure", "always", "result")
STATUS_FUNCTIONS = frozenset({"success", "failure", "always", "result"})
PASSED = frozenset({"succeeded", "skipped"})


class ConditionError(ValueError):
    """A condition that cannot be parsed; ``column`` is 1-based within the expression."""

    def __init__(self, message: str, *, column: int | None = None, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.column = column
        self.hint = hint or "conditions look like: branch == default and changed('src/**')"


@dataclass(frozen=True, slots=True)
class ConditionFacts:
    """What a condition is checked against when its step is due."""

    branch: str
    default_branch: str
    event: str = "push"
    tag: str | None = None
    changed_paths: list[str] | None = None  # None: not known, so changed() is true
    results: Mapping[str, str] = field(default_factory=dict)  # step id -> status, finished ones
    needs: tuple[str, ...] = ()


Value = str | bool | None


class Untranslatable(Exception):  # noqa: N818 - reads as what it is
    """A condition another CI system cannot express (``result()``, say)."""


class Dialect(Protocol):
    """How an export writes conditions in its CI system's own expression language."""

    def identifier(self, name: str) -> str: ...
    def text(self, value: str) -> str: ...
    def compare(self, left: str, operator: str, right: str) -> str: ...
    def matches(self, left: str, pattern: str) -> str: ...
    def present(self, value: str) -> str: ...
    def both(self, left: str, right: str) -> str: ...
    def either(self, left: str, right: str) -> str: ...
    def negate(self, operand: str) -> str: ...
    def call(self, name: str, arguments: list[str]) -> str: ...


def needs_passed(facts: ConditionFacts) -> bool:
    """``success()``: every need succeeded or was skipped, and nothing earlier failed."""
    if any(status in ("failed", "cancelled") for status in facts.results.values()):
        return False
    return all(facts.results.get(need) in PASSED for need in facts.needs)
