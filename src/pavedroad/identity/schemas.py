"""What the rest of the platform knows of a signed-in person or automation."""

from __future__ import annotations

from dataclasses import dataclass

from pavedroad.core.actors import Actor


@dataclass(frozen=True, slots=True)
class Identity:
    """A person as the catalog knows them.

    ``ownership_refs`` are the refs whose ownership counts as theirs: the user and every group
    they belong to, directly or through parent groups.
    """

    user_ref: str
    display_name: str
    email: str | None
    groups: tuple[str, ...]
    ownership_refs: tuple[str, ...]
    in_catalog: bool


@dataclass(frozen=True, slots=True)
class Principal:
    """Who makes a request, and how they proved it.

    ``method``: ``session`` (a signed-in browser), ``token`` (an API token), ``demo`` (automatic
    demo sign-in), ``cli`` (the operator at the command line) or ``system``. ``scopes`` limit a
    token to those permissions (patterns like ``catalog.*``); None means no limit beyond the
    policy. A service token has no identity: it acts as ``service:<name>`` within its scopes.
    """

    ref: str
    method: str
    identity: Identity | None
    scopes: tuple[str, ...] | None = None
    session_id: str | None = None
    token_id: str | None = None
    csrf_token: str | None = None

    @property
    def ownership_refs(self) -> tuple[str, ...]:
        return self.identity.ownership_refs if self.identity is not None else (self.ref,)

    @property
    def actor(self) -> Actor:
        kind = "service" if self.ref.startswith("service:") else "user"
        if self.method in ("cli", "system") and self.identity is None:
            kind = "system"
        return Actor(ref=self.ref, kind=kind)
