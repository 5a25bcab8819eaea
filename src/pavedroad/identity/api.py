"""The identity API: who am I, my API tokens, signing out everywhere."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from starlette.responses import Response

from pavedroad.core.errors import NotAllowedError
from pavedroad.core.web import json_response
from pavedroad.identity import sessions, tokens
from pavedroad.identity.authentication import forget_credentials
from pavedroad.identity.models import ApiToken
from pavedroad.identity.schemas import Principal
from pavedroad.permissions.dependencies import Grant, require

if TYPE_CHECKING:
    from pavedroad.runtime import Runtime

router = APIRouter(prefix="/api/identity", tags=["identity"])


class TokenCreate(BaseModel):
    name: str = Field(description="What the token is for, e.g. ci-deploys.")
    scopes: list[str] = Field(
        default_factory=lambda: ["*"], description="Permissions or patterns, e.g. catalog.*"
    )
    expiresInDays: int | None = Field(90, description="1 to 366; null for no expiry.")  # noqa: N815
    service: str | None = Field(
        None, description="Make a service token acting as service:<name> (administrators)."
    )


def token_json(row: ApiToken) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "kind": row.kind,
        "owner": row.owner_ref,
        "prefix": row.prefix,
        "scopes": row.scopes,
        "createdAt": row.created_at.isoformat(),
        "createdBy": row.created_by,
        "expiresAt": row.expires_at.isoformat() if row.expires_at else None,
        "revokedAt": row.revoked_at.isoformat() if row.revoked_at else None,
        "lastUsedAt": row.last_used_at.isoformat() if row.last_used_at else None,
    }


def principal_json(principal: Principal) -> dict[str, Any]:
    identity = principal.identity
    return {
        "ref": principal.ref,
        "method": principal.method,
        "displayName": identity.display_name if identity else principal.ref,
        "email": identity.email if identity else None,
        "inCatalog": identity.in_catalog if identity else False,
        "ownershipEntityRefs": list(principal.ownership_refs),
        "scopes": list(principal.scopes) if principal.scopes is not None else None,
        "tokenId": principal.token_id,
    }


@router.get("/me", summary="Who the request acts as, and what counts as theirs")
async def me(grant: Annotated[Grant, Depends(require("identity.self.read"))]) -> Response:
    return json_response(principal_json(grant.principal))


@router.get("/tokens", summary="Your API tokens (never their secrets)")
async def list_tokens(
    request: Request, grant: Annotated[Grant, Depends(require("identity.self.read"))]
) -> Response:
    runtime: Runtime = request.app.state.runtime

    def read() -> list[dict[str, Any]]:
        with runtime.db.read_session() as session:
            rows = tokens.list_tokens(session, owner_ref=grant.principal.ref)
            return [token_json(row) for row in rows]

    return json_response({"items": await run_in_threadpool(read)})


@router.post("/tokens", status_code=201, summary="Create a token; its secret is shown only now")
async def create_token(
    request: Request,
    body: TokenCreate,
    grant: Annotated[Grant, Depends(require("identity.token.create"))],
) -> Response:
    runtime: Runtime = request.app.state.runtime
    if body.service is not None:
        service_grant = runtime.permissions.decide(grant.principal, "identity.service-token.create")
        if service_grant.result.name != "ALLOW":
            raise NotAllowedError(service_grant.explanation)

    def create() -> dict[str, Any]:
        with runtime.db.session() as session:
            secret, row = tokens.create_token(
                session,
                name=body.name,
                owner_ref=body.service or grant.principal.ref,
                kind="service" if body.service else "personal",
                scopes=body.scopes,
                expires_in_days=body.expiresInDays,
                actor=grant.actor,
            )
            return {**token_json(row), "secret": secret}

    return json_response(await run_in_threadpool(create), 201)


@router.delete("/tokens/{token_id}", status_code=204, summary="Revoke a token")
async def revoke_token(
    request: Request,
    token_id: str,
    grant: Annotated[Grant, Depends(require("identity.token.revoke"))],
) -> Response:
    await revoke_for(request, grant, token_id)
    return Response(status_code=204)


async def revoke_for(request: Request, grant: Grant, token_id: str) -> None:
    """Revoke a token for the asker: one of their own, or anyone's if they manage accounts."""
    runtime: Runtime = request.app.state.runtime
    manage = runtime.permissions.decide(grant.principal, "identity.account.manage")

    def revoke() -> None:
        with runtime.db.session() as session:
            row = tokens.get_token(session, token_id)
            if row.owner_ref != grant.principal.ref and manage.result.name != "ALLOW":
                raise NotAllowedError(
                    "This token belongs to someone else; only its owner or an administrator "
                    f"may revoke it. {manage.explanation}"
                )
            tokens.revoke_token(session, token_id, actor=grant.actor)

    await run_in_threadpool(revoke)
    forget_credentials(request, lambda principal: principal.token_id == token_id)


@router.post("/sessions/revoke-all", summary="Sign out every browser of the signed-in user")
async def revoke_sessions(
    request: Request, grant: Annotated[Grant, Depends(require("identity.session.revoke"))]
) -> Response:
    runtime: Runtime = request.app.state.runtime

    def end() -> int:
        with runtime.db.session() as session:
            return sessions.end_all_sessions(session, grant.principal.ref, actor=grant.actor)

    ended = await run_in_threadpool(end)
    user_ref = grant.principal.ref
    forget_credentials(request, lambda p: p.method == "session" and p.ref == user_ref)
    return json_response({"ended": ended})
