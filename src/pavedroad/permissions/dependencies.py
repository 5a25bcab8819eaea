"""(Being built: the interim form answers as the configured demo user.)"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request

from pavedroad.core.actors import Actor
from pavedroad.core.web import allow_default_actor


@dataclass(frozen=True, slots=True)
class Grant:
    actor: Actor
    permission: str

    def check(self, resource: dict[str, Any]) -> None:
        return None


def require(permission: str) -> Callable[[Request], Awaitable[Grant]]:
    async def dependency(request: Request) -> Grant:
        return Grant(await allow_default_actor(request, permission), permission)

    dependency.__name__ = f"require_{permission.replace('.', '_')}"
    return dependency
