"""The audit API under ``/api/audit``: filtered pages of events, and exports of every match."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response, StreamingResponse

from pavedroad.audit.export import export_filename, export_format, export_text, record_export
from pavedroad.audit.filters import FilterInput, page_size, parse_filters
from pavedroad.audit.queries import Cursor, iter_events, search_events
from pavedroad.audit.schemas import event_json
from pavedroad.core.web import json_response
from pavedroad.permissions.dependencies import Grant, require
from pavedroad.runtime import Runtime

router = APIRouter(prefix="/api/audit", tags=["audit"])


async def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def filter_input(
    actor: Annotated[str | None, Query(description="Who acted, e.g. user:default/jane")] = None,
    action: Annotated[
        str | None, Query(description="An action, or every action under a prefix: deployment.*")
    ] = None,
    resource: Annotated[str | None, Query(description="The resource's ref")] = None,
    resource_type: Annotated[
        str | None, Query(alias="resourceType", description="e.g. catalog-entity")
    ] = None,
    result: Annotated[str | None, Query(description="success, denied or failed")] = None,
    since: Annotated[str | None, Query(description="7d, 24h, 30m or an ISO timestamp")] = None,
    until: Annotated[str | None, Query(description="7d, 24h, 30m or an ISO timestamp")] = None,
    where: Annotated[
        list[str] | None, Query(description="details.<key>=<value>; repeat: all must hold")
    ] = None,
    preset: Annotated[
        str | None,
        Query(description="recent-deployments, failed-sign-ins or production-deployments"),
    ] = None,
) -> FilterInput:
    return FilterInput(
        actor, action, resource, resource_type, result, since, until, tuple(where or ()), preset
    ).cleaned()


RuntimeDep = Annotated[Runtime, Depends(runtime_of)]
FilterDep = Annotated[FilterInput, Depends(filter_input)]


@router.get("/events", summary="Audit events matching the filters, newest first")
def list_audit_events(
    runtime: RuntimeDep,
    raw: FilterDep,
    grant: Annotated[Grant, Depends(require("audit.read"))],
    limit: Annotated[int | None, Query(description="Events per page: default 50, most 500")] = None,
    cursor: Annotated[str | None, Query(description="pageInfo.nextCursor or prevCursor")] = None,
) -> Response:
    query = parse_filters(raw)
    size = page_size(limit)
    start = Cursor.decode(cursor) if cursor else None
    with runtime.db.read_session() as session:
        page = search_events(session, query, limit=size, cursor=start)
        items = [event_json(event) for event in page.events]
    page_info = {
        "nextCursor": page.older.encode() if page.older else None,
        "prevCursor": page.newer.encode() if page.newer else None,
    }
    return json_response({"items": items, "pageInfo": page_info})


@router.get("/events/export", summary="Every matching event as JSON Lines or CSV, streamed")
def export_audit_events(
    runtime: RuntimeDep,
    raw: FilterDep,
    grant: Annotated[Grant, Depends(require("audit.export"))],
    format_name: Annotated[str, Query(alias="format", description="jsonl or csv")] = "jsonl",
) -> Response:
    fmt = export_format(format_name)
    query = parse_filters(raw)
    with runtime.db.session() as session:
        record_export(session, actor=grant.actor, fmt=fmt, raw=raw)

    def body() -> Iterator[str]:
        with runtime.db.read_session() as session:
            yield from export_text(iter_events(session, query), fmt)

    disposition = f'attachment; filename="{export_filename(fmt)}"'
    return StreamingResponse(
        body(), media_type=fmt.media_type, headers={"Content-Disposition": disposition}
    )
