"""The deployments API under ``/api/deploy/v1``: a component's environments and deploy history,
deploys, rollbacks and promotions, and one deployment with its evidence and samples.

Deploying (and rolling back) needs ``deployment.trigger`` on ``{environment, component}``: the
default policy lets anyone deploy to dev, team leads to staging and application owners to
production. A component that may not be seen is "not found".
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from sqlalchemy import select
from starlette.responses import Response

from pavedroad.catalog.visibility import CATALOG_READ, readable_entities
from pavedroad.core.web import json_response
from pavedroad.deploy import service
from pavedroad.deploy.models import AnalysisSample
from pavedroad.deploy.permissions import READ, TRIGGER
from pavedroad.permissions.dependencies import Grant, require
from pavedroad.pipelines.access import component_entity
from pavedroad.runtime import Runtime

router = APIRouter(prefix="/api/deploy/v1", tags=["deployments"])
ReadGrant = Annotated[Grant, Depends(require(READ))]
TriggerGrant = Annotated[Grant, Depends(require(TRIGGER))]
COMPONENT = "/components/{kind}/{namespace}/{name}"
MAX_SAMPLES = 2000


class DeployCreate(BaseModel):
    environment: str = Field(description="dev, staging, production...")
    version: str = Field(description="a git tag, a branch or a commit of the repository")


class RollbackCreate(BaseModel):
    environment: str
    to: str | None = Field(None, description="a version or deployment id; default: last good")


class PromotionCreate(BaseModel):
    from_: str = Field(alias="from", description="the environment whose version is promoted")
    to: str = Field(description="the environment it goes to")


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _visible_ref(runtime: Runtime, grant: Grant, kind: str, namespace: str, name: str) -> str:
    """The component's ref; "not found" when it may not be seen (whatever the grant is for,
    seeing the component is the catalog's ``catalog.entity.read``)."""
    ref = f"{kind}:{namespace}/{name}".lower()
    decision = runtime.permissions.decide(grant.principal, CATALOG_READ)
    reader = Grant(grant.principal, CATALOG_READ, decision, runtime)
    with runtime.db.read_session() as session:
        component_entity(session, ref, readable_entities(reader))
    return ref


def check_trigger(grant: Grant, component_ref: str, environment: str) -> None:
    """Refuse (403, audited) unless the grant's holder may deploy the component there."""
    grant.check(
        {"environment": environment, "component": component_ref},
        ref=f"{component_ref}@{environment}",
    )


@router.get(COMPONENT + "/environments", summary="The component's environments and what runs")
async def list_environments(
    request: Request, kind: str, namespace: str, name: str, grant: ReadGrant
) -> Response:
    runtime = _runtime(request)

    def read() -> list[dict[str, Any]]:
        ref = _visible_ref(runtime, grant, kind, namespace, name)
        with runtime.db.read_session() as session:
            return service.environments_of(session, runtime.settings, ref)

    return json_response(await run_in_threadpool(read))


@router.get(COMPONENT + "/deployments", summary="The component's deployments, newest first")
async def list_deployments(
    request: Request,
    kind: str,
    namespace: str,
    name: str,
    grant: ReadGrant,
    environment: str | None = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    runtime = _runtime(request)

    def read() -> dict[str, Any]:
        ref = _visible_ref(runtime, grant, kind, namespace, name)
        with runtime.db.read_session() as session:
            rows = service.history(session, ref, environment, limit, offset)
        return {"items": [service.deployment_json(row) for row in rows]}

    return json_response(await run_in_threadpool(read))


@router.post(COMPONENT + "/deployments", status_code=201, summary="Deploy a version")
async def create_deployment(
    request: Request, kind: str, namespace: str, name: str, body: DeployCreate, grant: TriggerGrant
) -> Response:
    runtime = _runtime(request)

    def start() -> dict[str, Any]:
        ref = _visible_ref(runtime, grant, kind, namespace, name)
        check_trigger(grant, ref, body.environment)
        deployment = service.deploy(
            runtime,
            component_ref=ref,
            environment=body.environment,
            version=body.version,
            actor=grant.actor,
            trigger="manual",
        )
        return service.deployment_json(deployment)

    return json_response(await run_in_threadpool(start), 201)


@router.post(COMPONENT + "/rollback", status_code=201, summary="Roll back an environment")
async def create_rollback(
    request: Request,
    kind: str,
    namespace: str,
    name: str,
    body: RollbackCreate,
    grant: TriggerGrant,
) -> Response:
    runtime = _runtime(request)

    def start() -> dict[str, Any]:
        ref = _visible_ref(runtime, grant, kind, namespace, name)
        check_trigger(grant, ref, body.environment)
        deployment = service.rollback(
            runtime,
            component_ref=ref,
            environment=body.environment,
            actor=grant.actor,
            to=body.to or None,
        )
        return service.deployment_json(deployment)

    return json_response(await run_in_threadpool(start), 201)


@router.post(COMPONENT + "/promote", status_code=201, summary="Promote to the next environment")
async def create_promotion(
    request: Request,
    kind: str,
    namespace: str,
    name: str,
    body: PromotionCreate,
    grant: TriggerGrant,
) -> Response:
    runtime = _runtime(request)

    def start() -> dict[str, Any]:
        ref = _visible_ref(runtime, grant, kind, namespace, name)
        check_trigger(grant, ref, body.to)
        deployment = service.promote(
            runtime,
            component_ref=ref,
            from_environment=body.from_,
            to_environment=body.to,
            actor=grant.actor,
        )
        return service.deployment_json(deployment)

    return json_response(await run_in_threadpool(start), 201)


@router.get("/deployments/{deployment_id}", summary="One deployment with its evidence")
async def get_deployment(request: Request, deployment_id: str, grant: ReadGrant) -> Response:
    runtime = _runtime(request)

    def read() -> dict[str, Any]:
        with runtime.db.read_session() as session:
            deployment = service.get_deployment(session, deployment_id)
            kind, _, rest = deployment.component_ref.partition(":")
            namespace, _, name = rest.partition("/")
            _visible_ref(runtime, grant, kind, namespace, name)
            samples = session.scalars(
                select(AnalysisSample)
                .where(AnalysisSample.deployment_id == deployment_id)
                .order_by(AnalysisSample.at, AnalysisSample.id)
                .limit(MAX_SAMPLES)
            ).all()
        return {
            **service.deployment_json(deployment, full=True),
            "samples": [_sample_json(s) for s in samples],
        }

    return json_response(await run_in_threadpool(read))


def _sample_json(sample: AnalysisSample) -> dict[str, Any]:
    return {"at": sample.at.isoformat(), "verdict": sample.verdict, "checks": sample.checks}
