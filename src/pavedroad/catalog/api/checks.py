"""Catalog routes that check rather than store: ingestion errors, validation, analysis."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response

from pavedroad.catalog import discovery, service
from pavedroad.catalog.api.common import PREFIX, RuntimeDep, json_bytes
from pavedroad.catalog.api.locations import location_type
from pavedroad.catalog.schemas import AnalyzeLocationRequest, ValidateEntityRequest
from pavedroad.permissions.dependencies import Grant, require

router = APIRouter(prefix=PREFIX, tags=["catalog"])


@router.get("/errors", summary="Everything that failed to ingest, by location")
def list_errors(
    runtime: RuntimeDep,
    grant: Annotated[Grant, Depends(require("catalog.location.read"))],
    location: Annotated[str | None, Query(description="Only this location id")] = None,
    entity: Annotated[str | None, Query(description="Only errors about this entity ref")] = None,
) -> Response:
    with runtime.db.read_session() as session:
        errors = service.list_errors(session, location_id=location, entity_ref=entity)
        items = [
            {
                "locationId": e.location_id,
                "provider": e.provider,
                "file": e.file,
                "documentIndex": e.document_index,
                "line": e.line,
                "column": e.column,
                "entityRef": e.entity_ref,
                "field": e.field,
                "category": e.category,
                "stage": e.stage,
                "message": e.message,
                "hint": e.hint,
                "createdAt": e.created_at.isoformat(),
            }
            for e in errors
        ]
    return json_bytes({"items": items})


@router.post("/validate-entity", summary="Check one entity against every rule, without storing it")
async def validate_entity(
    runtime: RuntimeDep,
    body: ValidateEntityRequest,
    grant: Annotated[Grant, Depends(require("catalog.entity.read"))],
) -> Response:
    outcome = await run_in_threadpool(
        runtime.catalog.pipeline.process,
        orjson.loads(orjson.dumps(body.entity)),
        0,
        read_placeholder=None,
    )
    if not outcome.problems:
        return Response(status_code=200)
    errors = [
        {
            "name": "InputError",
            "message": p.message,
            "category": p.category,
            "field": p.field_path if p.path else None,
            "hint": p.hint,
        }
        for p in outcome.problems
    ]
    return json_bytes({"errors": errors}, status_code=400)


@router.post("/analyze-location", summary="What registering a location would find or propose")
def analyze_location(
    runtime: RuntimeDep,
    body: AnalyzeLocationRequest,
    grant: Annotated[Grant, Depends(require("catalog.location.create"))],
) -> Response:
    type_ = location_type(body.location.type)
    with runtime.db.read_session() as session:
        result = discovery.analyze_location(session, runtime.catalog, type_, body.location.target)
    return json_bytes(result)
