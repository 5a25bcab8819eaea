"""Who is looking at the portal. Until sign-in exists, the configured default user.

The sign-in capability replaces :func:`resolve_viewer`; every page already gets its viewer
through the :func:`attach_viewer` dependency (also kept on ``request.state.viewer``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from pavedroad.catalog import ownership

if TYPE_CHECKING:
    from pavedroad.runtime import Runtime


@dataclass(frozen=True, slots=True)
class Viewer:
    ref: str
    display_name: str
    email: str | None = None
    ownership_refs: list[str] = field(default_factory=list)
    in_catalog: bool = False

    @property
    def initials(self) -> str:
        parts = [part for part in self.display_name.replace(".", " ").split() if part]
        return "".join(part[0].upper() for part in parts[:2]) or "?"


def resolve_viewer(runtime: Runtime) -> Viewer:
    ref = runtime.settings.auth.demo_user_ref.lower() or "user:default/guest"
    with runtime.db.read_session() as session:
        person = ownership.person(session, ref)
    if person is None:
        return Viewer(ref=ref, display_name=ref.split("/")[-1], ownership_refs=[ref])
    return Viewer(
        ref=ref,
        display_name=person.display_name,
        email=person.email,
        ownership_refs=person.ownership_refs,
        in_catalog=True,
    )


async def attach_viewer(request: Request) -> Viewer:
    """A dependency for pages: resolves the viewer once per request."""
    viewer: Viewer = await run_in_threadpool(resolve_viewer, request.app.state.runtime)
    request.state.viewer = viewer
    return viewer
