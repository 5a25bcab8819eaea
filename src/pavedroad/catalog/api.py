"""The catalog REST API under ``/api/catalog``, compatible with Backstage's catalog backend."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from pavedroad.catalog import discovery, queries, service
from pavedroad.catalog.entity_json import entity_bytes, entity_dict, parse_fields, project
from pavedroad.catalog.models import Entity, Location, LocationFile
from pavedroad.catalog.processing import ProcessedEntity
from pavedroad.catalog.reading import FileProblem
from pavedroad.catalog.refs import RefError, parse_ref
from pavedroad.catalog.schemas import (
    AnalyzeLocationRequest,
    EntitiesByRefsRequest,
    LocationSpec,
    RefreshRequest,
    ValidateEntityRequest,
)
from pavedroad.core.actors import Actor
from pavedroad.core.errors import InputError, NotFoundError
from pavedroad.core.web import require, run_read
from pavedroad.runtime import Runtime

router = APIRouter(prefix="/api/catalog", tags=["catalog"])

FilterParam = Annotated[
    list[str] | None, Query(alias="filter", description="key=value,... (repeat = OR)")
]
FieldsParam = Annotated[
    list[str] | None, Query(description="Dotted paths to keep, comma-separated")
]


async def runtime_of(request: Request) -> Runtime:
    # async on purpose: a plain def dependency would cost every request a thread hop.
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(runtime_of)]


def _render(rows: Sequence[queries.EntityRow], fields: list[str] | None) -> list[Any]:
    """Entities of a page, as JSON fragments (fast path) or projected dicts."""
    if fields is None:
        return [orjson.Fragment(entity_bytes(body, relations)) for _, _, body, relations in rows]
    return [project(entity_dict(body, relations), fields) for _, _, body, relations in rows]


def _bytes(content: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(content),
        status_code=status_code,
        media_type="application/json",
        headers=headers,
    )


# -- entities ------------------------------------------------------------------------------------


@router.get("/entities", summary="List entities (deprecated offset pagination, as Backstage)")
def list_entities(
    runtime: RuntimeDep,
    request: Request,
    filter_: FilterParam = None,
    fields: FieldsParam = None,
    order: Annotated[list[str] | None, Query()] = None,
    offset: Annotated[int | None, Query()] = None,
    limit: Annotated[int | None, Query()] = None,
    after: Annotated[str | None, Query()] = None,
) -> Response:
    if after is not None:
        offset, limit = _decode_after(after)
    if offset is not None and offset < 0:
        raise InputError("Invalid offset, must be zero or more")
    if limit is not None and limit <= 0:
        raise InputError("Invalid limit, must be more than zero")
    groups = queries.parse_filters(filter_ or [])
    ordering = queries.parse_legacy_order(order or [])
    with runtime.db.read_session() as session:
        rows = queries.list_entities_page(
            session, groups, ordering, offset=offset or 0, limit=limit + 1 if limit else None
        )
        more = limit is not None and len(rows) > limit
        rows = rows[:limit] if limit is not None else rows
        items = _render(rows, parse_fields(fields))
    headers = {}
    if more and limit is not None:
        cursor = queries.encode_cursor({"p": [], "limit": limit, "offset": (offset or 0) + limit})
        params = [
            (k, v) for k, v in request.query_params.multi_items() if k not in ("offset", "after")
        ]
        query = "&".join(f"{k}={v}" for k, v in [*params, ("after", cursor)])
        headers["link"] = f'<{request.url.path}?{query}>; rel="next"'
    return _bytes(items, headers=headers)


def _decode_after(after: str) -> tuple[int, int]:
    data = queries.decode_cursor(after)
    try:
        return int(data["offset"]), int(data["limit"])
    except (KeyError, TypeError, ValueError):
        raise InputError("Malformed after cursor; start again without it") from None


@router.get("/entities/by-query", summary="Query entities with filters, ordering and cursors")
async def query_entities(
    runtime: RuntimeDep,
    filter_: FilterParam = None,
    fields: FieldsParam = None,
    limit: Annotated[int | None, Query(ge=0, le=queries.MAX_LIMIT)] = None,
    offset: Annotated[int | None, Query(ge=0)] = None,
    order_field: Annotated[list[str] | None, Query(alias="orderField")] = None,
    cursor: Annotated[str | None, Query()] = None,
    full_text_filter_term: Annotated[str | None, Query(alias="fullTextFilterTerm")] = None,
    full_text_filter_fields: Annotated[
        list[str] | None, Query(alias="fullTextFilterFields")
    ] = None,
    skip_total_items: Annotated[bool, Query(alias="skipTotalItems")] = False,
) -> Response:
    size = queries.DEFAULT_LIMIT if limit is None else limit
    decoded = queries.decode_cursor(cursor) if cursor else None
    if decoded is not None:
        query = queries.EntityQuery.from_cursor(decoded)
    else:
        term_fields = parse_fields(full_text_filter_fields)
        query = queries.EntityQuery(
            queries.parse_filters(filter_ or []),
            queries.parse_order_field(order_field or []),
            full_text_filter_term,
            tuple(term_fields) if term_fields else None,
        )

    def read() -> tuple[queries.Page, list[Any]]:
        with runtime.db.read_session() as session:
            page = queries.query_entities(
                session,
                query,
                limit=size,
                offset=offset or 0,
                cursor=decoded,
                with_total=not skip_total_items,
                cache=runtime.catalog.cache,
            )
            return page, _render(page.rows, parse_fields(fields))

    page, items = await run_read(read)
    page_info: dict[str, str] = {}
    if page.next_cursor:
        page_info["nextCursor"] = page.next_cursor
    if page.prev_cursor:
        page_info["prevCursor"] = page.prev_cursor
    return _bytes({"items": items, "totalItems": page.total or 0, "pageInfo": page_info})


@router.get(
    "/entities/by-name/{kind}/{namespace}/{name}", summary="One entity by kind, namespace and name"
)
async def get_entity_by_name(runtime: RuntimeDep, kind: str, namespace: str, name: str) -> Response:
    ref = f"{kind}:{namespace}/{name}".lower()

    def read() -> bytes:
        with runtime.db.read_session() as session:
            row = queries.entity_row(session, ref)
        if row is None:
            raise NotFoundError(f"No entity named {ref}")
        return entity_bytes(row[2], row[3])

    return Response(await run_read(read), media_type="application/json")


@router.get("/entities/by-uid/{uid}", summary="One entity by its uid")
async def get_entity_by_uid(runtime: RuntimeDep, uid: str) -> Response:
    def read() -> bytes:
        with runtime.db.read_session() as session:
            row = queries.entity_row(session, uid=uid)
        if row is None:
            raise NotFoundError(f"No entity with uid {uid}")
        return entity_bytes(row[2], row[3])

    return Response(await run_read(read), media_type="application/json")


@router.delete(
    "/entities/by-uid/{uid}",
    status_code=204,
    summary="Delete an entity (its location may bring it back)",
)
def delete_entity_by_uid(
    runtime: RuntimeDep,
    uid: str,
    actor: Annotated[Actor, Depends(require("catalog.entity.delete"))],
) -> Response:
    with runtime.db.session() as session:
        service.delete_entity(session, uid, actor=actor)
    return Response(status_code=204)


@router.get(
    "/entities/by-name/{kind}/{namespace}/{name}/ancestry",
    summary="Which Location entities led to an entity",
)
def get_entity_ancestry(runtime: RuntimeDep, kind: str, namespace: str, name: str) -> Response:
    ref = f"{kind}:{namespace}/{name}".lower()
    with runtime.db.read_session() as session:
        items = _ancestry(session, ref)
    return _bytes({"rootEntityRef": ref, "items": items})


def _ancestry(session: Session, ref: str) -> list[dict[str, Any]]:
    row = session.scalar(select(Entity).where(Entity.ref == ref))
    if row is None:
        raise NotFoundError(f"No such entity {ref}")
    items: list[dict[str, Any]] = []
    seen: set[str] = set()
    current: Entity | None = row
    while current is not None and current.ref not in seen:
        seen.add(current.ref)
        parent = _emitting_location_entity(session, current)
        relations = queries.entity_row(session, current.ref)[3]  # type: ignore[index]
        items.append(
            {
                "entity": entity_dict(current.body, relations),
                "parentEntityRefs": [parent.ref] if parent else [],
            }
        )
        current = parent
    return items


def _emitting_location_entity(session: Session, entity: Entity) -> Entity | None:
    if entity.location_id is None or entity.source_path is None:
        return None
    parent_path = session.scalar(
        select(LocationFile.parent_path).where(
            LocationFile.location_id == entity.location_id, LocationFile.path == entity.source_path
        )
    )
    if parent_path is None:
        return None
    return session.scalar(
        select(Entity)
        .where(
            Entity.location_id == entity.location_id,
            Entity.source_path == parent_path,
            Entity.kind_key == "location",
        )
        .order_by(Entity.ref)
    )


@router.post(
    "/entities/by-refs", summary="Several entities by ref, in request order (null when missing)"
)
def get_entities_by_refs(
    runtime: RuntimeDep,
    body: EntitiesByRefsRequest,
    filter_: FilterParam = None,
    fields: FieldsParam = None,
) -> Response:
    groups = queries.parse_filters(filter_ or [])
    wanted = body.fields or parse_fields(fields)
    with runtime.db.read_session() as session:
        found = queries.entities_by_refs(session, body.entityRefs, groups)
    rows = list(found.values())
    rendered = dict(zip([row[1] for row in rows], _render(rows, wanted), strict=True))
    items = [rendered.get(ref.lower()) if isinstance(ref, str) else None for ref in body.entityRefs]
    return _bytes({"items": items})


@router.get("/entity-facets", summary="Counts of entities per value of a field")
async def get_entity_facets(
    runtime: RuntimeDep,
    facet: Annotated[list[str] | None, Query()] = None,
    filter_: FilterParam = None,
) -> Response:
    if not facet:
        raise InputError("Missing facet parameter, e.g. ?facet=spec.type")
    groups = queries.parse_filters(filter_ or [])
    names = list(facet)

    def read() -> dict[str, Any]:
        with runtime.db.read_session() as session:
            return queries.facets(session, names, groups, cache=runtime.catalog.cache)

    return _bytes({"facets": await run_read(read)})


# -- locations -----------------------------------------------------------------------------------


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
    actor: Annotated[Actor, Depends(require("catalog.location.create"))],
    dry_run: Annotated[bool, Query(alias="dryRun")] = False,
) -> Response:
    type_ = _location_type(body.type)
    if dry_run:
        with runtime.db.read_session() as session:
            result = service.dry_run_location(session, runtime.catalog, type_, body.target)
            exists = service.find_location(session, type_, body.target) is not None
        return _bytes(
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
            session, runtime.catalog, [(type_, body.target)], actor=actor
        )[0]
        location = _location_json(refreshed.location)
        refs = refreshed.report.entity_refs[:500]
        entities = _render(_rows_for_refs(session, refs), None)
        summary = service.summarize(refreshed.report)
        errors = [_problem_json(p) for p in refreshed.report.errors]
    return _bytes(
        {"location": location, "entities": entities, "ingestion": summary, "errors": errors}, 201
    )


def _rows_for_refs(session: Session, refs: list[str]) -> list[queries.EntityRow]:
    found = queries.entities_by_refs(session, refs, [])
    return [found[ref] for ref in refs if ref in found]


def _location_type(type_: str) -> str:
    if type_ == "url":
        raise InputError(
            'Location type "url" reads single files over HTTP, which this server does not do',
            hint='register the repository instead: {"type": "git", "target": "<clone URL>#<path>"}',
        )
    return type_


@router.get("/locations", summary="Every registered location")
def list_locations(runtime: RuntimeDep) -> Response:
    with runtime.db.read_session() as session:
        locations = service.list_locations(session)
        return _bytes([{"data": _location_detail(location)} for location in locations])


@router.get(
    "/locations/by-entity/{kind}/{namespace}/{name}", summary="The location an entity comes from"
)
def get_location_by_entity(runtime: RuntimeDep, kind: str, namespace: str, name: str) -> Response:
    with runtime.db.read_session() as session:
        location = service.location_of_entity(session, f"{kind}:{namespace}/{name}")
        return _bytes(_location_detail(location))


@router.get("/locations/{location_id}", summary="One location")
def get_location(runtime: RuntimeDep, location_id: str) -> Response:
    with runtime.db.read_session() as session:
        return _bytes(_location_detail(service.get_location(session, location_id)))


@router.delete(
    "/locations/{location_id}",
    status_code=204,
    summary="Unregister a location and delete its entities",
)
def delete_location(
    runtime: RuntimeDep,
    location_id: str,
    actor: Annotated[Actor, Depends(require("catalog.location.delete"))],
) -> Response:
    with runtime.db.session() as session:
        service.unregister_location(session, location_id, actor=actor)
    return Response(status_code=204)


@router.post("/locations/{location_id}/refresh", summary="Read one location again now")
def refresh_location(
    runtime: RuntimeDep,
    location_id: str,
    actor: Annotated[Actor, Depends(require("catalog.location.refresh"))],
) -> Response:
    with runtime.db.session() as session:
        refreshed = service.refresh_locations(session, runtime.catalog, [location_id], actor=actor)[
            0
        ]
        result = {
            "location": _location_detail(refreshed.location),
            "ingestion": service.summarize(refreshed.report),
            "errors": [_problem_json(p) for p in refreshed.report.errors],
        }
    return _bytes(result)


@router.post("/refresh", summary="Read the location an entity comes from again")
def refresh_entity(
    runtime: RuntimeDep,
    body: RefreshRequest,
    actor: Annotated[Actor, Depends(require("catalog.entity.refresh"))],
) -> Response:
    with runtime.db.session() as session:
        service.refresh_entity(session, runtime.catalog, body.entityRef, actor=actor)
    return Response(status_code=200)


# -- errors, validation, analysis ----------------------------------------------------------------


@router.get("/errors", summary="Everything that failed to ingest, by location")
def list_errors(
    runtime: RuntimeDep,
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
    return _bytes({"items": items})


@router.post("/validate-entity", summary="Check one entity against every rule, without storing it")
async def validate_entity(runtime: RuntimeDep, body: ValidateEntityRequest) -> Response:
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
    return _bytes({"errors": errors}, status_code=400)


@router.post("/analyze-location", summary="What registering a location would find or propose")
def analyze_location(runtime: RuntimeDep, body: AnalyzeLocationRequest) -> Response:
    type_ = _location_type(body.location.type)
    with runtime.db.read_session() as session:
        result = discovery.analyze_location(session, runtime.catalog, type_, body.location.target)
    return _bytes(result)


def parse_entity_ref_param(ref: str) -> str:
    try:
        return str(parse_ref(ref))
    except RefError as error:
        raise InputError(str(error)) from None
