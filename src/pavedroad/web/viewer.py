"""Who is looking at the portal: the signed-in principal as pages show it.

Every page gets its viewer through the :func:`attach_viewer` dependency (also kept on
``request.state.viewer`` for the layout). The principal was resolved by authentication.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request

from pavedroad.core.errors import AuthenticationError
from pavedroad.identity.schemas import Principal


@dataclass(frozen=True, slots=True)
class Viewer:
    ref: str
    display_name: str
    email: str | None = None
    ownership_refs: list[str] = field(default_factory=list)
    in_catalog: bool = False
    method: str = "session"  # session, token, demo
    csrf_token: str | None = None

    @property
    def initials(self) -> str:
        parts = [part for part in self.display_name.replace(".", " ").split() if part]
        return "".join(part[0].upper() for part in parts[:2]) or "?"

    @property
    def can_sign_out(self) -> bool:
        return self.method == "session"


def viewer_of(principal: Principal) -> Viewer:
    identity = principal.identity
    if identity is None:
        name = principal.ref.split(":", 1)[-1]
        return Viewer(principal.ref, name, None, [principal.ref], False, principal.method)
    return Viewer(
        ref=identity.user_ref,
        display_name=identity.display_name,
        email=identity.email,
        ownership_refs=list(identity.ownership_refs),
        in_catalog=identity.in_catalog,
        method=principal.method,
        csrf_token=principal.csrf_token,
    )


async def attach_viewer(request: Request) -> Viewer:
    """A dependency for pages: the signed-in viewer (authentication has already run)."""
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is None:
        raise AuthenticationError("Sign in to see this page.")
    viewer = viewer_of(principal)
    request.state.viewer = viewer
    return viewer
