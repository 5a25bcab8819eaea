"""The sandboxed Jinja2 environment configured to read Backstage's Nunjucks templates.

Templates are user input, so the environment is Jinja's immutable sandbox (no private or dunder
attributes, no mutation of values) and, further, calls nothing but macros and the few safe
globals (``range``, ``cycler``, ``joiner``, ``namespace``): the values templates get are data,
not objects with methods. Nunjucks-isms Jinja would reject are translated as the template is
read: ``===`` / ``!==``, ``elseif``, ``null``, ``x.length``, ``"a" + 1``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any

from jinja2 import nodes
from jinja2.exceptions import SecurityError
from jinja2.ext import Extension
from jinja2.lexer import Token, TokenStream
from jinja2.runtime import Context, LoopContext, Macro
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import Cycler, Joiner, Namespace, missing

from pavedroad.scaffolder.engine.filters import finalize, js_text, template_filters
from pavedroad.scaffolder.engine.scope import (
    Missing,
    Scope,
    ScopeList,
    UnknownName,
)

NUNJUCKS_START = "${{"
COMPAT_START = "{{"
# Names a template may read without defining them (a typo of any other name is an error).
ROOTS = frozenset(
    {"parameters", "steps", "user", "secrets", "each", "context", "values", "cookiecutter"}
)
_DICT_VIEWS = frozenset({"items", "keys", "values"})


class NunjucksSyntax(Extension):
    """Reads the bits of Nunjucks syntax that Jinja spells differently."""

    def filter_stream(self, stream: TokenStream) -> Iterator[Token]:
        previous: Token | None = None
        for token in stream:
            if token.type == "assign" and previous is not None and previous.type in ("eq", "ne"):
                continue  # "===" lexes as "==" "=", "!==" as "!=" "="
            if token.type == "name" and token.value == "elseif":
                token = Token(token.lineno, "name", "elif")
            previous = token
            yield token

    def parse(self, parser: Any) -> nodes.Node | list[nodes.Node]:  # pragma: no cover - no tags
        raise NotImplementedError


class TemplateContext(Context):
    """A context in which a name that no template can read is an error, not silence."""

    def resolve_or_missing(self, key: str) -> Any:
        value = super().resolve_or_missing(key)
        if value is missing and key not in ROOTS:
            close = difflib.get_close_matches(key, sorted(ROOTS), n=1)
            known = (
                f"did you mean {close[0]}?"
                if close
                else f"templates read {', '.join(sorted(ROOTS))}"
            )
            raise UnknownName(f"{key} is unknown; {known}", key)
        return value


class TemplateEnvironment(ImmutableSandboxedEnvironment):
    context_class = TemplateContext
    intercepted_binops = frozenset({"+"})

    def getattr(self, obj: Any, attribute: str) -> Any:
        # A key of the data wins over a method of the same name: ``values.items`` is the key.
        if isinstance(obj, Scope | ScopeList | Missing):
            if isinstance(obj, Scope) and attribute not in obj and attribute in _DICT_VIEWS:
                return super().getattr(obj, attribute)
            if isinstance(obj, ScopeList) and attribute == "length":
                return len(obj)
            return obj.lookup(attribute) if not isinstance(obj, Missing) else obj.child(attribute)
        if isinstance(obj, str | list | tuple) and attribute == "length":
            return len(obj)
        if isinstance(obj, Mapping):
            return obj[attribute] if attribute in obj else Missing(name=attribute)
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        if isinstance(obj, Scope | ScopeList):
            return obj.lookup(argument)
        if isinstance(obj, Missing):
            return obj.child(argument)
        return super().getitem(obj, argument)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "+" and (isinstance(left, str) or isinstance(right, str)):
            return js_text(left) + js_text(right)  # JavaScript's "a" + 1 == "a1"
        return super().call_binop(context, operator, left, right)

    def call(
        __self,  # noqa: N805 - Jinja's signature: positional names that cannot clash with kwargs
        __context: Context,
        __obj: Any,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        if not _may_call(__obj):
            name = getattr(__obj, "__name__", type(__obj).__name__)
            raise SecurityError(
                f"templates cannot call {name}(); use a filter instead (e.g. x | lower)"
            )
        return super().call(__context, __obj, *args, **kwargs)


def _may_call(obj: Any) -> bool:
    if isinstance(obj, Macro | Cycler | Joiner) or obj in (range, dict, Cycler, Joiner, Namespace):
        return True
    owner = getattr(obj, "__self__", None)
    if isinstance(owner, LoopContext | Cycler):
        return True
    return isinstance(owner, Scope) and getattr(obj, "__name__", "") in _DICT_VIEWS


@lru_cache(maxsize=64)
def template_environment(
    *,
    allowed_hosts: tuple[str, ...] = (),
    cookiecutter_compat: bool = False,
    trim_blocks: bool = False,
    lstrip_blocks: bool = False,
    newline: str = "\n",
) -> TemplateEnvironment:
    """The environment for one combination of options (built once, shared by every run)."""
    environment = TemplateEnvironment(
        variable_start_string=COMPAT_START if cookiecutter_compat else NUNJUCKS_START,
        variable_end_string="}}",
        autoescape=False,
        keep_trailing_newline=True,  # Nunjucks keeps a file's last newline
        newline_sequence=newline,
        trim_blocks=trim_blocks,
        lstrip_blocks=lstrip_blocks,
        undefined=Missing,
        finalize=finalize,
        extensions=[NunjucksSyntax],
    )
    environment.policies["truncate.leeway"] = 0  # Nunjucks truncates at exactly the length
    environment.globals = {
        "range": range,
        "dict": dict,
        "cycler": Cycler,
        "joiner": Joiner,
        "namespace": Namespace,
        "null": None,
    }
    environment.filters.update(template_filters(allowed_hosts))
    if cookiecutter_compat:
        environment.filters["jsonify"] = environment.filters["dump"]
    return environment
