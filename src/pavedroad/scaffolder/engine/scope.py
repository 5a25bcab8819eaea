"""What expressions see: the run's values, each knowing its own name, and the missing value.

Nunjucks prints a missing value as nothing and lets ``a.b.c`` run through it; Backstage then
drops an input whose whole value rendered to nothing. We keep that (an optional parameter left
empty is not an error), but a missing value fails as soon as something needs it — a filter like
``parseRepoUrl``, arithmetic, ``+`` with a string — and the error names it
("parameters.repoUrl is not set"). A name that can never exist (a parameter the template does
not declare, a step id it does not have) fails at once, with the names that do exist.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any, NoReturn

from jinja2 import Undefined
from jinja2.exceptions import TemplateRuntimeError


class MissingValue(TemplateRuntimeError):  # noqa: N818 - reads as what happened
    """Something needed a value that is not there."""

    def __init__(self, path: str | None, hint: str | None = None) -> None:
        message = f"{path} is not set" if path else (hint or "a value is not set")
        super().__init__(message)
        self.path = path


class UnknownName(TemplateRuntimeError):  # noqa: N818 - reads as what happened
    """A name no run of this template can have (a typo, most likely)."""

    def __init__(self, message: str, path: str) -> None:
        super().__init__(message)
        self.path = path


def child_path(path: str | None, key: Any) -> str:
    """``steps.fetch`` for identifiers, ``steps['fetch-base']`` and ``items[0]`` otherwise."""
    if isinstance(key, str) and key.isidentifier():
        return f"{path}.{key}" if path else key
    return f"{path or ''}[{key!r}]"


class Missing(Undefined):
    """A value that is not there: prints as nothing, is false, has no items, chains."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return self.child(name)

    def __getitem__(self, key: Any) -> Missing:  # type: ignore[override]
        return self.child(key)

    def child(self, key: Any) -> Missing:
        if self._undefined_name is None:
            return Missing(hint=self._undefined_hint)
        return Missing(name=child_path(self._undefined_name, key))

    @property
    def path(self) -> str | None:
        return self._undefined_name

    def _fail_with_undefined_error(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise MissingValue(self._undefined_name, self._undefined_hint)

    # Jinja binds these to its own failure at class creation; rebind them to ours.
    __add__ = __radd__ = __sub__ = __rsub__ = _fail_with_undefined_error
    __mul__ = __rmul__ = __truediv__ = __rtruediv__ = _fail_with_undefined_error
    __floordiv__ = __rfloordiv__ = __mod__ = __rmod__ = _fail_with_undefined_error
    __pos__ = __neg__ = __lt__ = __le__ = __gt__ = __ge__ = _fail_with_undefined_error
    __call__ = __int__ = __float__ = __complex__ = __pow__ = _fail_with_undefined_error


class Scope(dict[str, Any]):
    """A mapping of the context that knows where it sits (``parameters``, ``values.destination``).

    ``known``, when given, lists every key that may ever be here; looking up any other key is
    an :class:`UnknownName` error. ``notes`` explain keys that live elsewhere (a secret field is
    read as ``secrets.x``, not ``parameters.x``).
    """

    __slots__ = ("known", "notes", "path")

    def __init__(
        self,
        items: Mapping[str, Any],
        path: str,
        known: Iterable[str] | None = None,
        notes: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(items)
        self.path = path
        self.known = frozenset(known) if known is not None else None
        self.notes = dict(notes or {})

    def lookup(self, key: Any) -> Any:
        """The value at ``key``, or a :class:`Missing` named after it."""
        if key in self:
            return self[key]
        path = child_path(self.path, key)
        if isinstance(key, str) and key in self.notes:
            raise UnknownName(f"{path}: {self.notes[key]}", path)
        if self.known is not None and key not in self.known:
            raise UnknownName(unknown_message(path, str(key), sorted(self.known)), path)
        return Missing(name=path)


class ScopeList(list[Any]):
    """A list of the context that knows where it sits."""

    __slots__ = ("path",)

    def __init__(self, items: Iterable[Any], path: str) -> None:
        super().__init__(items)
        self.path = path

    def lookup(self, index: Any) -> Any:
        if isinstance(index, int) and -len(self) <= index < len(self):
            return self[index]
        return Missing(name=child_path(self.path, index))


def scoped(value: Any, path: str) -> Any:
    """``value`` with every mapping and list in it turned into a :class:`Scope` / ``ScopeList``."""
    if isinstance(value, Mapping) and not isinstance(value, Undefined):
        return Scope({k: scoped(v, child_path(path, k)) for k, v in value.items()}, path)
    if isinstance(value, list | tuple):
        return ScopeList((scoped(v, child_path(path, i)) for i, v in enumerate(value)), path)
    return value


def unknown_message(path: str, key: str, known: list[str]) -> str:
    parent = path[: -len(key) - 1] if path.endswith(f".{key}") else path
    close = difflib.get_close_matches(key, known, n=3, cutoff=0.6)
    if close:
        return f"{path} does not exist; did you mean {', '.join(close)}?"
    listed = ", ".join(known) if known else "none"
    return f"{path} does not exist ({parent} has: {listed})"
