"""Who does something: every mutating service takes an :class:`Actor` and records it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Actor:
    """A user, a service token or the platform itself, named by an entity ref or a system name."""

    ref: str
    kind: str = "user"

    @classmethod
    def system(cls, name: str) -> Actor:
        return cls(ref=f"system:{name}", kind="system")

    def __str__(self) -> str:
        return self.ref


SYSTEM = Actor.system("pavedroad")
