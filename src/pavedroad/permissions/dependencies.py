"""``require(permission)``: the FastAPI dependency every route declares.

It takes the principal that authentication resolved, checks CSRF on state-changing requests
made with a session cookie, and asks the policy. DENY answers 403 with the policy's
explanation (and is audited); ALLOW and CONDITIONAL give the route a :class:`Grant`, which
checks single resources (``grant.check(resource)``) and filters lists in SQL
(``grant.sql("catalog-entity")``).
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import ColumnElement

from pavedroad.audit import service as audit
from pavedroad.core.actors import Actor
from pavedroad.core.errors import AuthenticationError, NotAllowedError
from pavedroad.identity.schemas import Principal

if TYPE_CHECKING:
    from pavedroad.permissions.engine import Decision
    from pavedroad.runtime import Runtime

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"


@dataclass(frozen=True, slots=True)
class Grant:
    """What the policy allowed one request: who acts, and on which resources."""

    principal: Principal
    permission: str
    decision: Decision
    runtime: Runtime

    @property
    def actor(self) -> Actor:
        return self.principal.actor

    @property
    def unconditional(self) -> bool:
        return self.decision.result.name == "ALLOW"

    def allows(self, resource: Mapping[str, Any]) -> bool:
        return self.decision.allows(resource)

    def check(self, resource: Mapping[str, Any], *, ref: str | None = None) -> None:
        """Refuse (403, audited) unless the policy allows this permission on ``resource``."""
        if self.unconditional:
            return
        decided = self.runtime.permissions.decide(self.principal, self.permission, resource)
        if decided.result.name != "ALLOW":
            deny(self.runtime, self.principal, self.permission, decided, ref or _ref(resource))

    def sql(self, resource_type: str) -> ColumnElement[bool] | None:
        """A WHERE condition limiting a list to what may be seen; None when everything may."""
        if self.unconditional:
            return None
        return self.decision.to_sql(resource_type)


def deny(
    runtime: Runtime, principal: Principal, permission: str, decision: Decision, target: str
) -> None:
    """Record the refusal in its own transaction and answer 403 with the explanation."""
    with runtime.db.session() as session:
        audit.record(
            session,
            actor=principal.actor,
            event=permission,
            target=target,
            result="denied",
            details={"rule": decision.rule, "explanation": decision.explanation},
        )
    raise NotAllowedError(decision.explanation, permission=permission, rule=decision.rule)


def require(permission: str) -> Callable[[Request], Awaitable[Grant]]:
    """A dependency that authorises ``permission`` for the request's principal."""

    async def dependency(request: Request) -> Grant:
        principal: Principal | None = getattr(request.state, "principal", None)
        if principal is None:
            raise AuthenticationError("Sign in first: this needs a signed-in user or an API token.")
        if request.method not in SAFE_METHODS and principal.method in ("session", "demo"):
            check_same_origin(request)
            if principal.method == "session":
                await check_csrf(request, principal)
        runtime: Runtime = request.app.state.runtime
        decision = runtime.permissions.decide(principal, permission)
        if decision.result.name == "DENY":
            await run_in_threadpool(
                deny, runtime, principal, permission, decision, request.url.path
            )
        return Grant(principal, permission, decision, runtime)

    dependency.__name__ = f"require_{permission.replace('.', '_').replace('-', '_')}"
    dependency.permission = permission  # type: ignore[attr-defined]  # read by the route audit
    return dependency


async def check_csrf(request: Request, principal: Principal) -> None:
    """A state change with a session cookie must carry the session's CSRF token (a form
    field or the ``X-CSRF-Token`` header): another site can make the browser send the cookie,
    but cannot read the token."""
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and _is_form(request):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    expected = principal.csrf_token or ""
    if not sent or not expected or not hmac.compare_digest(sent, expected):
        raise NotAllowedError(
            "This request did not carry the page's security token (CSRF). Reload the page and "
            "try again; scripts send the X-CSRF-Token header or use an API token instead."
        )


def check_same_origin(request: Request) -> None:
    """A browser's state change must come from this site's own pages. Demo sign-in has no
    cookie to steal, but another site could still make a visitor's browser post to the demo."""
    fetch_site = request.headers.get("sec-fetch-site")
    origin = request.headers.get("origin")
    foreign_origin = origin is not None and urlsplit(origin).netloc != request.headers.get("host")
    if fetch_site == "cross-site" or foreign_origin:
        raise NotAllowedError(
            "This request came from another site; changes are only made from this portal's "
            "own pages (scripts use an API token)."
        )


def _is_form(request: Request) -> bool:
    content_type = request.headers.get("content-type", "")
    return content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data"))


def _ref(resource: Mapping[str, Any]) -> str:
    metadata = resource.get("metadata")
    if isinstance(metadata, Mapping) and "kind" in resource:
        namespace = metadata.get("namespace", "default")
        return f"{str(resource['kind']).lower()}:{namespace}/{metadata.get('name')}"
    return str(resource.get("ref") or resource.get("id") or "resource")
