"""Location routes of the catalog API: register (or dry-run), list, refresh, unregister."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session
from starlette.responses import Response

from pavedroad.catalog import queries, service
from pavedroad.catalog.api.common import PREFIX, RuntimeDep, json_bytes, render
from pavedroad.catalog.entity_json import entity_dict
from pavedroad.catalog.models import Location
from pavedroad.catalog.processing import ProcessedEntity
from pavedroad.catalog.reading import FileProblem
from pavedroad.catalog.schemas import LocationSpec, RefreshRequest
from pavedroad.catalog.visibility import location_resource
from pavedroad.core.errors import InputError, NotFoundError
from pavedroad.permissions.dependencies import Grant, require

LocationReadGrant = Annotated[Grant, Depends(require("catalog.location.read"))]

router = APIRouter(prefix=PREFIX, tags=["catalog"])


def _location_json(location: Location) -> dict[str, Any]:
    return {"id": location.id, "type": location.type, "target": location.target}


def _location_detail(location: Location) -> dict[str, Any]:
    return {
        **_location_json(location),
        "status": location.status,
        "entityCount": location.entity_count,
        "errorCount": location.error_count,
        "refreshedAt": location.refreshed_at.isoformat() if location.refreshed_at else None,
        "revision": location.revision,
    }


def _problem_json(problem: FileProblem) -> dict[str, Any]:
    return {
        "name": "InputError",
        "message": problem.describe(),
        "category": problem.category,
        "file": problem.file,
        "documentIndex": problem.document_index,
        "line": problem.line,
        "column": problem.column,
        "field": problem.field,
        "entityRef": problem.entity_ref,
        "hint": problem.hint,
    }


def _processed_json(processed: ProcessedEntity) -> dict[str, Any]:
    entity = dict(processed.entity)
    entity["relations"] = [
        {"type": r.type, "targetRef": r.target}
        for r in processed.relations
        if r.source == processed.ref
    ]
    return entity


@router.post("/locations", status_code=201, summary="Register a location and ingest it")
def create_location(
    runtime: RuntimeDep,
    body: LocationSpec,
    grant: Annotated[Grant, Depends(require("catalog.location.create"))],
    dry_run: Annotated[bool, Query(alias="dryRun")] = False,
) -> Response:
    type_ = location_type(body.type)
    if dry_run:
        with runtime.db.read_session() as session:
            result = service.dry_run_location(session, runtime.catalog, type_, body.target)
            exists = service.find_location(session, type_, body.target) is not None
        return json_bytes(
            {
                "exists": exists,
                "location": {"id": f"{type_}:{body.target}", "type": type_, "target": body.target},
                "entities": [_processed_json(e) for e in result.entities],
                "errors": [_problem_json(p) for p in result.problems],
            },
            status_code=201,
        )
    with runtime.db.session() as session:
        refreshed = service.register_locations(
            session, runtime.catalog, [(type_, body.target)], actor=grant.actor
        )[0]
        location = _location_json(refreshed.location)
        refs = refreshed.report.entity_refs[:500]
        entities = render(_rows_for_refs(session, refs), None)
        summary = service.summarize(refreshed.report)
        errors = [_problem_json(p) for p in refreshed.report.errors]
    return json_bytes(
        {"location": location, "entities": entities, "ingestion": summary, "errors": errors}, 201
    )


def _rows_for_refs(session: Session, refs: list[str]) -> list[queries.EntityRow]:
    found = queries.entities_by_refs(session, refs, [])
    return [found[ref] for ref in refs if ref in found]


def location_type(type_: str) -> str:
    if type_ == "url":
        raise InputError(
            'Location type "url" reads single files over HTTP, which this server does not do',
            hint='register the repository instead: {"type": "git", "target": "<clone URL>#<path>"}',
        )
    return type_


@router.get("/locations", summary="Every registered location")
def list_locations(runtime: RuntimeDep, grant: LocationReadGrant) -> Response:
    with runtime.db.read_session() as session:
        locations = [
            location
            for location in service.list_locations(session)
            if grant.unconditional or grant.allows(location_resource(location))
        ]
        return json_bytes([{"data": _location_detail(location)} for location in locations])


@router.get(
    "/locations/by-entity/{kind}/{namespace}/{name}", summary="The location an entity comes from"
)
def get_location_by_entity(
    runtime: RuntimeDep, grant: LocationReadGrant, kind: str, namespace: str, name: str
) -> Response:
    with runtime.db.read_session() as session:
        location = service.location_of_entity(session, f"{kind}:{namespace}/{name}")
        return json_bytes(_location_detail(_readable(grant, location)))


@router.get("/locations/{location_id}", summary="One location")
def get_location(runtime: RuntimeDep, grant: LocationReadGrant, location_id: str) -> Response:
    with runtime.db.read_session() as session:
        location = service.get_location(session, location_id)
        return json_bytes(_location_detail(_readable(grant, location)))


def _readable(grant: Grant, location: Location) -> Location:
    """The location, or 404 when it may not be seen (as if it did not exist)."""
    if not grant.unconditional and not grant.allows(location_resource(location)):
        raise NotFoundError(f"Found no location with ID {location.id}")
    return location


@router.delete(
    "/locations/{location_id}",
    status_code=204,
    summary="Unregister a location and delete its entities",
)
def delete_location(
    runtime: RuntimeDep,
    location_id: str,
    grant: Annotated[Grant, Depends(require("catalog.location.delete"))],
) -> Response:
    with runtime.db.session() as session:
        location = service.get_location(session, location_id)
        grant.check(location_resource(location))
        kind, target = location.type, location.target
        service.unregister_location(session, location_id, actor=grant.actor)
    service.forget_pasted_descriptor(runtime.catalog, kind, target)
    return Response(status_code=204)


@router.post("/locations/{location_id}/refresh", summary="Read one location again now")
def refresh_location(
    runtime: RuntimeDep,
    location_id: str,
    grant: Annotated[Grant, Depends(require("catalog.location.refresh"))],
) -> Response:
    with runtime.db.session() as session:
        grant.check(location_resource(service.get_location(session, location_id)))
        refreshed = service.refresh_locations(
            session, runtime.catalog, [location_id], actor=grant.actor
        )[0]
        result = {
            "location": _location_detail(refreshed.location),
            "ingestion": service.summarize(refreshed.report),
            "errors": [_problem_json(p) for p in refreshed.report.errors],
        }
    return json_bytes(result)


@router.post("/refresh", summary="Read the location an entity comes from again")
def refresh_entity(
    runtime: RuntimeDep,
    body: RefreshRequest,
    grant: Annotated[Grant, Depends(require("catalog.entity.refresh"))],
) -> Response:
    with runtime.db.session() as session:
        row = queries.entity_row(session, body.entityRef.lower())
        if row is not None:
            grant.check(entity_dict(row[2], row[3]), ref=row[1])
        service.refresh_entity(session, runtime.catalog, body.entityRef, actor=grant.actor)
    return Response(status_code=200)
