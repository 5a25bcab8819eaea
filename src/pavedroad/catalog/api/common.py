"""What the catalog routes share: the runtime, parameter types, rendering and the read cache."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any

import orjson
from fastapi import Depends, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from pavedroad.catalog import queries
from pavedroad.catalog.entity_json import entity_bytes, entity_dict, project
from pavedroad.catalog.queries.restriction import restriction_key
from pavedroad.catalog.read_cache import read_generation
from pavedroad.runtime import Runtime

PREFIX = "/api/catalog"
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


def render(rows: Sequence[queries.EntityRow], fields: list[str] | None) -> list[Any]:
    """Entities as JSON fragments (fast path) or, with ``fields``, projected dicts."""
    if fields is None:
        return [orjson.Fragment(entity_bytes(body, relations)) for _, _, body, relations in rows]
    return [project(entity_dict(body, relations), fields) for _, _, body, relations in rows]


def json_bytes(
    content: Any, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        orjson.dumps(content),
        status_code=status_code,
        media_type="application/json",
        headers=headers,
    )


def cached_read(
    runtime: Runtime,
    request: Request,
    produce: Callable[[Session], bytes],
    restriction: queries.Restriction | None = None,
) -> bytes:
    """The response body for this exact request, computed once per catalog generation.

    Identical list and facet requests (a portal's default views, dashboards polling) are then
    answered with one primary-key lookup; any change to the catalog is seen at once. Askers
    who may see different entities never share an answer.
    """
    params = tuple(sorted(request.query_params.multi_items()))
    key = ("response", request.url.path, params, restriction_key(restriction))
    generation = read_generation(runtime.db.read_engine)

    def compute() -> bytes:
        with runtime.db.read_session() as session:
            return produce(session)

    return runtime.catalog.cache.get_or_compute_at(generation, key, compute)
