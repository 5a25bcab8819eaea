"""Rendering template values as Backstage does.

A string that is exactly one ``${{ expr }}`` keeps the JSON type of what it evaluates to (a
number stays a number, an object an object); any other string renders to text. A value that
renders to nothing is left out (its key dropped), as Backstage's JSON reviver does. Errors name
the expression and what went wrong ("${{ parameters.repoUrl | parseRepoUrl }}:
parameters.repoUrl is not set").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from jinja2 import TemplateSyntaxError, Undefined
from jinja2.exceptions import SecurityError

from pavedroad.scaffolder.engine.environment import TemplateEnvironment
from pavedroad.scaffolder.engine.filters import js_number
from pavedroad.scaffolder.engine.scope import MissingValue, UnknownName

LEFT_OUT = object()
"""What a value that rendered to nothing becomes: its key is dropped."""

_FRAGMENT = re.compile(r"\$\{\{.*?\}\}|\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)


class ExpressionError(Exception):
    """An expression that cannot be rendered; ``str()`` names the expression and the reason."""

    def __init__(self, expression: str, reason: str, line: int | None = None) -> None:
        self.expression = expression
        self.reason = reason
        self.line = line
        super().__init__(f"{expression}: {reason}" if expression else reason)


def single_expression(environment: TemplateEnvironment, source: str) -> str | None:
    """The expression inside ``source`` if it is exactly one ``${{ … }}``, else None."""
    if "{" not in source:
        return None
    try:
        tokens = [t for t in environment.lex(source) if t[1] != "whitespace"]
    except TemplateSyntaxError:
        return None
    if len(tokens) < 2 or tokens[0][1] != "variable_begin" or tokens[-1][1] != "variable_end":
        return None
    if any(t[1] in ("variable_begin", "variable_end", "data") for t in tokens[1:-1]):
        return None
    return source[len(tokens[0][2]) : len(source) - len(tokens[-1][2])]


def render_text(environment: TemplateEnvironment, source: str, context: Mapping[str, Any]) -> str:
    """``source`` rendered to text (file contents, file names, mixed strings)."""
    try:
        return environment.from_string(source).render(context)
    except Exception as error:  # every failure becomes a message naming the expression
        raise _explained(error, source) from None


def evaluate(environment: TemplateEnvironment, expression: str, context: Mapping[str, Any]) -> Any:
    """The value of one expression (``parameters.name | lower``), type kept."""
    try:
        compiled = environment.compile_expression(expression, undefined_to_none=False)
        return compiled(**context)
    except Exception as error:
        raise _explained(error, "${{ " + expression.strip() + " }}") from None


def render_value(environment: TemplateEnvironment, value: Any, context: Mapping[str, Any]) -> Any:
    """``value`` (a step's input, ``if``, ``each``, the output) with every string rendered;
    :data:`LEFT_OUT` when it rendered to nothing."""
    if isinstance(value, str):
        expression = single_expression(environment, value)
        if expression is not None:
            return plain(evaluate(environment, expression, context))
        text = render_text(environment, value, context)
        return LEFT_OUT if text == "" else text
    if isinstance(value, Mapping):
        items = ((key, render_value(environment, item, context)) for key, item in value.items())
        return {key: item for key, item in items if item is not LEFT_OUT}
    if isinstance(value, list):
        rendered = (render_value(environment, item, context) for item in value)
        return [item for item in rendered if item is not LEFT_OUT]
    return value


def plain(value: Any) -> Any:
    """An expression's result as JSON data (what Backstage's ``| dump`` round trip gives)."""
    if isinstance(value, Undefined):
        return LEFT_OUT
    if isinstance(value, Mapping):
        items = ((str(key), plain(item)) for key, item in value.items())
        return {key: item for key, item in items if item is not LEFT_OUT}
    if isinstance(value, list | tuple | range):
        return [None if (item := plain(v)) is LEFT_OUT else item for v in value]
    if isinstance(value, float):
        return js_number(value)
    if value is None or isinstance(value, bool | int):
        return value
    return str(value)


def _explained(error: Exception, source: str) -> ExpressionError:
    path = getattr(error, "path", None)
    if isinstance(error, TemplateSyntaxError):
        fragment = _fragment(source, None, error.lineno)
        return ExpressionError(fragment, f"syntax error: {error.message}", error.lineno)
    if isinstance(error, MissingValue | UnknownName | SecurityError):
        reason = str(error)
    else:
        reason = f"{type(error).__name__}: {error}" if not _ours(error) else str(error)
    fragment = _fragment(source, path, None)
    return ExpressionError(fragment, reason, _line_of(source, fragment))


def _ours(error: Exception) -> bool:
    return type(error).__module__.startswith(("pavedroad", "jinja2"))


def _fragment(source: str, path: str | None, line: int | None) -> str:
    """The ``${{ … }}`` of ``source`` the error is about, for the message."""
    fragments = _FRAGMENT.findall(source)
    if not fragments:
        return _shortened(source)
    if path:
        last = re.split(r"[.\[\]']+", path.strip("]'"))[-1]
        for fragment in fragments:
            if last and last in fragment:
                return _shortened(fragment)
    if line is not None:
        for fragment in fragments:
            if _line_of(source, fragment) == line:
                return _shortened(fragment)
    return _shortened(fragments[0]) if len(fragments) == 1 else _shortened(source)


def _shortened(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= 120 else flat[:117] + "..."


def _line_of(source: str, fragment: str) -> int | None:
    flat = " ".join(fragment.split())
    for number, line in enumerate(source.splitlines(), start=1):
        if flat and " ".join(line.split()).find(flat.rstrip(".")) != -1:
            return number
    return None
