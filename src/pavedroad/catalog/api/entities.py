"""Entity routes of the catalog API: listing, queries, lookups, facets, ancestry."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from pavedroad.catalog import queries, service
from pavedroad.catalog.api.common import (
    PREFIX,
    FieldsParam,
    FilterParam,
    RuntimeDep,
    cached_read,
    json_bytes,
    render,
)
from pavedroad.catalog.entity_json import entity_bytes, entity_dict, parse_fields
from pavedroad.catalog.models import Entity, LocationFile
from pavedroad.catalog.schemas import EntitiesByRefsRequest
from pavedroad.catalog.visibility import visible_entities
from pavedroad.core.errors import InputError, NotFoundError
from pavedroad.core.web import run_read
from pavedroad.permissions.dependencies import Grant, require

ReadGrant = Annotated[Grant, Depends(require("catalog.entity.read"))]

router = APIRouter(prefix=PREFIX, tags=["catalog"])


@router.get("/entities", summary="List entities (deprecated offset pagination, as Backstage)")
def list_entities(
    runtime: RuntimeDep,
    request: Request,
    grant: ReadGrant,
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
            session,
            groups,
            ordering,
            offset=offset or 0,
            limit=limit + 1 if limit else None,
            restriction=visible_entities(grant),
        )
        more = limit is not None and len(rows) > limit
        rows = rows[:limit] if limit is not None else rows
        items = render(rows, parse_fields(fields))
    headers = {}
    if more and limit is not None:
        cursor = queries.encode_cursor({"p": [], "limit": limit, "offset": (offset or 0) + limit})
        params = [
            (k, v) for k, v in request.query_params.multi_items() if k not in ("offset", "after")
        ]
        query = "&".join(f"{k}={v}" for k, v in [*params, ("after", cursor)])
        headers["link"] = f'<{request.url.path}?{query}>; rel="next"'
    return json_bytes(items, headers=headers)


def _decode_after(after: str) -> tuple[int, int]:
    data = queries.decode_cursor(after)
    try:
        return int(data["offset"]), int(data["limit"])
    except (KeyError, TypeError, ValueError):
        raise InputError("Malformed after cursor; start again without it") from None


@router.get("/entities/by-query", summary="Query entities with filters, ordering and cursors")
async def query_entities(
    runtime: RuntimeDep,
    request: Request,
    grant: ReadGrant,
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
    restriction = visible_entities(grant)
    if decoded is not None:
        query = queries.EntityQuery.from_cursor(decoded, restriction)
    else:
        term_fields = parse_fields(full_text_filter_fields)
        query = queries.EntityQuery(
            queries.parse_filters(filter_ or []),
            queries.parse_order_field(order_field or []),
            full_text_filter_term,
            tuple(term_fields) if term_fields else None,
            restriction,
        )

    def produce(session: Session) -> bytes:
        page = queries.query_entities(
            session,
            query,
            limit=size,
            offset=offset or 0,
            cursor=decoded,
            with_total=not skip_total_items,
            cache=runtime.catalog.cache,
        )
        page_info: dict[str, str] = {}
        if page.next_cursor:
            page_info["nextCursor"] = page.next_cursor
        if page.prev_cursor:
            page_info["prevCursor"] = page.prev_cursor
        items = render(page.rows, parse_fields(fields))
        return orjson.dumps({"items": items, "totalItems": page.total or 0, "pageInfo": page_info})

    body = await run_read(lambda: cached_read(runtime, request, produce, restriction))
    return Response(body, media_type="application/json")


@router.get(
    "/entities/by-name/{kind}/{namespace}/{name}", summary="One entity by kind, namespace and name"
)
async def get_entity_by_name(
    runtime: RuntimeDep, grant: ReadGrant, kind: str, namespace: str, name: str
) -> Response:
    ref = f"{kind}:{namespace}/{name}".lower()

    def read() -> bytes:
        with runtime.db.read_session() as session:
            row = queries.entity_row(session, ref, restriction=visible_entities(grant))
        if row is None:
            raise NotFoundError(f"No entity named {ref}")
        return entity_bytes(row[2], row[3])

    return Response(await run_read(read), media_type="application/json")


@router.get("/entities/by-uid/{uid}", summary="One entity by its uid")
async def get_entity_by_uid(runtime: RuntimeDep, grant: ReadGrant, uid: str) -> Response:
    def read() -> bytes:
        with runtime.db.read_session() as session:
            row = queries.entity_row(session, uid=uid, restriction=visible_entities(grant))
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
    grant: Annotated[Grant, Depends(require("catalog.entity.delete"))],
) -> Response:
    with runtime.db.session() as session:
        row = queries.entity_row(session, uid=uid)
        if row is not None:
            grant.check(entity_dict(row[2], row[3]), ref=row[1])
        service.delete_entity(session, uid, actor=grant.actor)
    return Response(status_code=204)


@router.get(
    "/entities/by-name/{kind}/{namespace}/{name}/ancestry",
    summary="Which Location entities led to an entity",
)
def get_entity_ancestry(
    runtime: RuntimeDep, grant: ReadGrant, kind: str, namespace: str, name: str
) -> Response:
    ref = f"{kind}:{namespace}/{name}".lower()
    with runtime.db.read_session() as session:
        if queries.entity_row(session, ref, restriction=visible_entities(grant)) is None:
            raise NotFoundError(f"No such entity {ref}")
        items = _ancestry(session, ref)
    return json_bytes({"rootEntityRef": ref, "items": items})


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
    grant: ReadGrant,
    body: EntitiesByRefsRequest,
    filter_: FilterParam = None,
    fields: FieldsParam = None,
) -> Response:
    groups = queries.parse_filters(filter_ or [])
    wanted = body.fields or parse_fields(fields)
    with runtime.db.read_session() as session:
        found = queries.entities_by_refs(session, body.entityRefs, groups, visible_entities(grant))
    rows = list(found.values())
    rendered = dict(zip([row[1] for row in rows], render(rows, wanted), strict=True))
    items = [rendered.get(ref.lower()) if isinstance(ref, str) else None for ref in body.entityRefs]
    return json_bytes({"items": items})


@router.get("/entity-facets", summary="Counts of entities per value of a field")
async def get_entity_facets(
    runtime: RuntimeDep,
    request: Request,
    grant: ReadGrant,
    facet: Annotated[list[str] | None, Query()] = None,
    filter_: FilterParam = None,
) -> Response:
    if not facet:
        raise InputError("Missing facet parameter, e.g. ?facet=spec.type")
    groups = queries.parse_filters(filter_ or [])
    names = list(facet)

    restriction = visible_entities(grant)

    def produce(session: Session) -> bytes:
        counted = queries.facets(session, names, groups, restriction=restriction)
        return orjson.dumps({"facets": counted})

    body = await run_read(lambda: cached_read(runtime, request, produce, restriction))
    return Response(body, media_type="application/json")
