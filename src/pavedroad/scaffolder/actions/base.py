"""What every built-in action shares: its declared shape and the error it raises."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pavedroad.core.errors import PavedroadError
from pavedroad.scaffolder.hooks import ActionContext

NO_OUTPUT: Mapping[str, Any] = {"type": "object", "properties": {}}


class ActionError(PavedroadError):
    """An action that cannot do what its step asked; says why and, in ``hint``, how to fix it."""

    status_code = 400
    name = "ActionError"

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message, **({"hint": hint} if hint else {}))


class BuiltinAction:
    """A built-in :class:`~pavedroad.scaffolder.hooks.ScaffolderAction`: subclasses set the
    class attributes and implement :meth:`handler`."""

    id: str
    description: str
    input_schema: Mapping[str, Any]
    output_schema: Mapping[str, Any] = NO_OUTPUT
    supports_dry_run: bool = True

    def handler(self, context: ActionContext) -> None:
        raise NotImplementedError


def string(description: str, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "description": description, **extra}


def boolean(description: str) -> dict[str, Any]:
    return {"type": "boolean", "description": description}


def strings(description: str) -> dict[str, Any]:
    return {"type": "array", "items": {"type": "string"}, "description": description}


def obj(required: list[str], **properties: dict[str, Any]) -> dict[str, Any]:
    """An object schema; property names are written as Python names, with ``_`` kept."""
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema
