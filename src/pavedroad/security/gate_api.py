"""The gate's API under ``/api/security/v1``: what blocks a commit, and the exceptions people
granted to the policy (granting and revoking need their own permissions and are audited)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from sqlalchemy import select
from starlette.responses import Response

from pavedroad.catalog.service.entities import get_entity_row
from pavedroad.core.errors import NotFoundError
from pavedroad.core.web import json_response
from pavedroad.permissions.dependencies import Grant, require
from pavedroad.runtime import Runtime
from pavedroad.security.gate import add_exception, gate_of_commit, revoke_exception
from pavedroad.security.models import GateDecision, SecurityException
from pavedroad.security.permissions import (
    GRANT_EXCEPTION,
    READ_EXCEPTIONS,
    READ_GATE,
    REVOKE_EXCEPTION,
)

router = APIRouter(prefix="/api/security/v1", tags=["security"])


class ExceptionCreate(BaseModel):
    component: str = Field(description="The component's ref, e.g. component:default/payments")
    rule: str = Field(description="The advisory or rule accepted, e.g. PYSEC-2019-13 or B105")
    fingerprint: str | None = Field(None, description="Only this finding of the rule")
    reason: str = Field(description="Why it is acceptable, and what will be done")
    expires_at: datetime = Field(description="When the exception ends (ISO 8601)")


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


@router.get(
    "/gate/{kind}/{namespace}/{name}/{commit}",
    summary="The gate's latest decision on a commit of a component",
)
async def get_gate_decision(
    request: Request,
    kind: str,
    namespace: str,
    name: str,
    commit: str,
    grant: Annotated[Grant, Depends(require(READ_GATE))],
) -> Response:
    runtime = _runtime(request)
    ref = f"{kind}:{namespace}/{name}".lower()

    def read() -> GateDecision | None:
        with runtime.db.read_session() as session:
            return gate_of_commit(session, ref, commit)

    decision = await run_in_threadpool(read)
    if decision is None:
        raise NotFoundError(f"no gate decision for {ref} at {commit}: no pipeline judged it")
    return json_response(decision_json(decision))


@router.get("/exceptions", summary="Exceptions to the security policy")
async def list_exceptions(
    request: Request,
    grant: Annotated[Grant, Depends(require(READ_EXCEPTIONS))],
    component: Annotated[str | None, Query(description="Only this component's")] = None,
) -> Response:
    runtime = _runtime(request)

    def read() -> list[dict[str, Any]]:
        query = select(SecurityException).order_by(SecurityException.created_at.desc())
        if component:
            query = query.where(SecurityException.component_ref == component.lower())
        with runtime.db.read_session() as session:
            return [exception_json(row) for row in session.scalars(query.limit(500))]

    return json_response({"items": await run_in_threadpool(read)})


@router.post("/exceptions", status_code=201, summary="Accept a finding until a date")
async def create_exception(
    request: Request,
    body: ExceptionCreate,
    grant: Annotated[Grant, Depends(require(GRANT_EXCEPTION))],
) -> Response:
    runtime = _runtime(request)
    ref = body.component.lower()

    def write() -> dict[str, Any]:
        with runtime.db.session() as session:
            row = get_entity_row(session, ref)  # the component must exist
            grant.check(orjson.loads(row.body), ref=ref)  # e.g. owners-only policies
            exception = add_exception(
                session,
                component_ref=ref,
                rule=body.rule,
                fingerprint=body.fingerprint,
                reason=body.reason,
                expires_at=body.expires_at,
                actor=grant.actor,
                policy=runtime.settings.security.gate,
            )
            return exception_json(exception)

    return json_response(await run_in_threadpool(write), status_code=201)


@router.post("/exceptions/{exception_id}/revoke", summary="Revoke an exception")
async def revoke(
    request: Request,
    exception_id: str,
    grant: Annotated[Grant, Depends(require(REVOKE_EXCEPTION))],
) -> Response:
    runtime = _runtime(request)

    def write() -> dict[str, Any]:
        with runtime.db.session() as session:
            return exception_json(revoke_exception(session, exception_id, actor=grant.actor))

    return json_response(await run_in_threadpool(write))


def decision_json(decision: GateDecision) -> dict[str, Any]:
    return {
        "component": decision.component_ref,
        "commit": decision.commit,
        "run": decision.run_id,
        "blocked": decision.blocked,
        "blockers": decision.reasons,
        "excepted": decision.excepted,
        "decidedAt": decision.decided_at.isoformat(),
    }


def exception_json(exception: SecurityException) -> dict[str, Any]:
    return {
        "id": exception.id,
        "component": exception.component_ref,
        "rule": exception.rule,
        "fingerprint": exception.fingerprint,
        "reason": exception.reason,
        "expiresAt": exception.expires_at.isoformat(),
        "grantedBy": exception.created_by,
        "grantedAt": exception.created_at.isoformat(),
        "revokedAt": exception.revoked_at.isoformat() if exception.revoked_at else None,
    }
