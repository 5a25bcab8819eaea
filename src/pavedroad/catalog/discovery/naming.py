"""Component names for discovered repositories, and the rule that keeps them apart.

A name is the repository's name in lower-case kebab (``PaymentService`` → ``payment-service``).
When names clash, with each other or with a Component already in the catalog:

1. A repository the catalog already holds (same ``backstage.io/source-location``) keeps the
   name it has there, whatever else is discovered with it: renaming a catalogued Component
   would break every reference to it.
2. Every other clashing repository is qualified by its parent directory (local paths) or the
   URL segment before the repository (its owner): ``payments/backend`` → ``payments-backend``.
3. A qualified name that still clashes gets the first 6 hex digits of the SHA-256 of the
   normalised target appended: ``payments-backend-3f9a1c``.

The rule looks only at the targets and the catalog, never at their order, so the same
repositories get the same names on every run.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

MAX_NAME = 63
FALLBACK_NAME = "repository"
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def entity_name(raw: str) -> str:
    """``raw`` as a Backstage name in lower-case kebab; empty if nothing usable is left."""
    text = unicodedata.normalize("NFKD", raw).encode("ascii", "ignore").decode()
    text = _CAMEL.sub("-", text).lower()
    return _fit(re.sub(r"[^a-z0-9]+", "-", text).strip("-"))


def _fit(name: str, limit: int = MAX_NAME) -> str:
    return name[:limit].rstrip("-._")


@dataclass(frozen=True, slots=True)
class NameRequest:
    """One repository asking for a name: its identity, base name and qualifier."""

    key: str
    base: str
    qualifier: str
    source: str

    @property
    def qualified(self) -> str:
        prefix = entity_name(self.qualifier)
        if not prefix:
            return self.base
        room = MAX_NAME - len(self.base) - 1
        if room < 1:
            return _fit(f"{prefix}-{self.base}")
        return f"{_fit(prefix, room) or prefix[:room]}-{self.base}"

    @property
    def hashed(self) -> str:
        digest = hashlib.sha256(self.key.encode()).hexdigest()[:6]
        return f"{_fit(self.qualified, MAX_NAME - 7)}-{digest}"

    def candidates(self) -> list[str]:
        return [self.base, self.qualified, self.hashed]


@dataclass(frozen=True, slots=True)
class AssignedName:
    name: str
    reason: str | None = None


def assign_names(
    requests: Sequence[NameRequest], held: Mapping[str, str]
) -> dict[str, AssignedName]:
    """A distinct name per request key. ``held`` maps names already taken (in the catalog or
    by descriptors found alongside) to the source location of whatever holds them."""
    assigned: dict[str, AssignedName] = {}
    for request in requests:
        own = [name for name in request.candidates() if held.get(name) == request.source]
        if own:
            assigned[request.key] = AssignedName(
                own[0], "the catalog already has this repository under that name"
            )
    rest = [request for request in requests if request.key not in assigned]
    bases = Counter(request.base for request in rest)
    bases.update(name.name for name in assigned.values())
    renamed: list[NameRequest] = []
    for request in rest:
        if bases[request.base] == 1 and request.base not in held:
            assigned[request.key] = AssignedName(request.base)
        else:
            renamed.append(request)
    taken = Counter(name.name for name in assigned.values())
    taken.update(request.qualified for request in renamed)
    for request in renamed:
        why = _clash(request, bases[request.base], held.get(request.base))
        name = request.qualified
        if taken[name] > 1 or name in held:
            name = request.hashed
            why += f"; {request.qualified} was still taken, so a hash of the target was added"
        else:
            why += f"; qualified by {request.qualifier!r}"
        assigned[request.key] = AssignedName(name, f"clash rule: {why}")
    return assigned


def _clash(request: NameRequest, count: int, holder: str | None) -> str:
    if count > 1:
        return f"{count} repositories are called {request.base}"
    return f"{request.base} is already in the catalog from {holder or 'another location'}"
