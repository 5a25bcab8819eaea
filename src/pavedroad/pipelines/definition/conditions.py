"""``if:`` conditions: a small expression language, parsed by hand and never ``eval``-ed.

``branch == default and changed('src/**')``, ``tag =~ ^v``, ``failure()``,
``result('test.unit') == failed``. Identifiers: ``branch``, ``default`` (or ``default_branch``),
``event``, ``tag``; other bare words and quoted strings are text. An expression that calls
none of ``success()``, ``failure()``, ``always()`` or ``result()`` is checked only when the
step's needs succeeded (an implicit ``success() and``), as GitHub Actions does.
"""

from __future__ import annotations

from pavedroad.pipelines.definition.condition_syntax import alone, parse_condition
from pavedroad.pipelines.definition.condition_types import (
    FUNCTIONS,
    IDENTIFIERS,
    ConditionError,
    ConditionFacts,
    Dialect,
    Untranslatable,
    needs_passed,
)

__all__ = [
    "FUNCTIONS",
    "IDENTIFIERS",
    "ConditionError",
    "ConditionFacts",
    "Dialect",
    "Untranslatable",
    "check_condition",
    "evaluate_condition",
    "functions_of",
    "translate_condition",
]


def check_condition(expression: str) -> None:
    """Raise :class:`ConditionError` if ``expression`` is not a valid condition."""
    parse_condition(expression)


def translate_condition(expression: str, dialect: Dialect) -> str:
    """The condition in another CI system's expressions; :class:`Untranslatable` if it has none."""
    node = parse_condition(expression)
    return alone(node, dialect)


def functions_of(expression: str) -> frozenset[str]:
    """The functions a condition calls (an export decides how a step depends on its needs)."""
    return parse_condition(expression).functions


def evaluate_condition(expression: str | None, facts: ConditionFacts) -> bool:
    """Whether a step with this ``if`` runs now. None (no ``if``) means ``success()``."""
    if expression is None or not expression.strip():
        return needs_passed(facts)
    node = parse_condition(expression)
    if not node.uses_status and not needs_passed(facts):
        return False
    return bool(node.evaluate(facts))
