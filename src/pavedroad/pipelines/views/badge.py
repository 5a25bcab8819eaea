"""A component's pipeline status as an SVG badge (``pipeline | passing``), for READMEs and
dashboards: the latest run of its default branch. It follows the pages' rules: signed in,
``pipeline.run.read``, and only for components the viewer may see."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import orjson
from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from pavedroad.catalog import queries as catalog_queries
from pavedroad.core.errors import NotFoundError
from pavedroad.core.web import run_read
from pavedroad.permissions.dependencies import Grant, require
from pavedroad.pipelines import queries
from pavedroad.pipelines.access import run_restriction
from pavedroad.pipelines.permissions import READ_RUNS
from pavedroad.pipelines.views.charts import status_badge

if TYPE_CHECKING:
    from pavedroad.runtime import Runtime

router = APIRouter(include_in_schema=False)


@router.get("/pipelines/badge/{kind}/{namespace}/{name}.svg")
async def badge(
    request: Request,
    kind: str,
    namespace: str,
    name: str,
    grant: Annotated[Grant, Depends(require(READ_RUNS))],
) -> Response:
    runtime: Runtime = request.app.state.runtime
    ref = f"{kind}:{namespace}/{name}".lower()
    restriction = run_restriction(grant)

    def read() -> str | None:
        with runtime.db.read_session() as session:
            row = catalog_queries.entity_row(session, ref, restriction=restriction)
            if row is None:
                raise NotFoundError(f"There is no {kind} called {namespace}/{name} in the catalog.")
            latest = queries.latest_per_branch(session, ref)
            run = queries.default_branch_run(orjson.loads(row[2]), latest)
            return run.status if run is not None else None

    status = await run_read(read)
    return Response(
        status_badge(status),
        media_type="image/svg+xml",
        headers={"cache-control": "private, max-age=30"},
    )
