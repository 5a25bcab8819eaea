"""What may be asked: the permissions and resource types each domain declares.

Domains fill this registry when their permission module is imported (``declare(...)`` at module
level); the policy file is checked against it, so a misspelt name is caught at load time.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from sqlalchemy.orm import Session

from pavedroad.core.errors import ConflictError, NotFoundError

# How the CLI finds one resource of a type from what a person typed (an id, a ref).
ResourceLookup = Callable[[Session, str], Mapping[str, Any] | None]


@dataclass(frozen=True, slots=True)
class Permission:
    """Something a principal may be allowed to do, optionally on one resource of a type."""

    name: str
    description: str
    resource_type: str | None = None


@dataclass(frozen=True, slots=True)
class ResourceType:
    """A kind of thing permissions are about (``catalog-entity``, ``deployment``).

    ``lookup(session, text)`` finds one resource as the dict the rules read, for
    ``pavedroad permissions check``; types without one are written as ``key=value,...``.
    """

    name: str
    description: str
    lookup: ResourceLookup | None = field(default=None, compare=False)


class UnknownPermissionError(NotFoundError):
    """A permission name nobody declared."""


_PERMISSIONS: dict[str, Permission] = {}
_RESOURCE_TYPES: dict[str, ResourceType] = {}


def declare(*items: Permission | ResourceType) -> None:
    """Add permissions and resource types; declaring the same thing twice is harmless."""
    for item in items:
        registry: dict[str, Any] = _PERMISSIONS if isinstance(item, Permission) else _RESOURCE_TYPES
        existing = registry.get(item.name)
        if existing is not None and existing != item:
            raise ConflictError(
                f"{type(item).__name__} {item.name} is declared twice, differently",
                hint="give one of them another name",
            )
        registry[item.name] = item


def get_permission(name: str) -> Permission:
    """The declared permission ``name``; unknown names are refused with the closest matches."""
    permission = _PERMISSIONS.get(name)
    if permission is None:
        raise UnknownPermissionError(
            f"unknown permission {name!r}{did_you_mean(name, _PERMISSIONS)}",
            hint="pavedroad permissions list shows every declared permission",
        )
    return permission


def all_permissions() -> list[Permission]:
    """Every declared permission, sorted by name."""
    return sorted(_PERMISSIONS.values(), key=lambda permission: permission.name)


def matching_permissions(pattern: str) -> list[Permission]:
    """The declared permissions an fnmatch pattern (``catalog.*``, ``*``) names."""
    return [p for p in all_permissions() if fnmatchcase(p.name, pattern)]


def get_resource_type(name: str) -> ResourceType:
    resource_type = _RESOURCE_TYPES.get(name)
    if resource_type is None:
        raise NotFoundError(f"unknown resource type {name!r}{did_you_mean(name, _RESOURCE_TYPES)}")
    return resource_type


def all_resource_types() -> list[ResourceType]:
    return sorted(_RESOURCE_TYPES.values(), key=lambda resource_type: resource_type.name)


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """``"; did you mean 'a'?"`` for the known name closest to ``name``, or ``""``."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""
