"""``GET /api/security/v1/affected``: which components a package or an advisory affects, as
JSON or CSV, restricted to the components the asker may see."""

from __future__ import annotations

import csv
import io
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response

from pavedroad.catalog.visibility import readable_entities
from pavedroad.core.web import json_response
from pavedroad.permissions.dependencies import Grant, require
from pavedroad.runtime import Runtime
from pavedroad.security.impact import ImpactAnswer, answer_question, csv_rows
from pavedroad.security.permissions import READ_IMPACT

router = APIRouter(prefix="/api/security/v1", tags=["security"])


@router.get("/affected", summary="Components affected by an advisory or shipping a package")
async def affected(
    request: Request,
    grant: Annotated[Grant, Depends(require(READ_IMPACT))],
    advisory: Annotated[
        str | None, Query(description="CVE-2021-44228, GHSA-..., PYSEC-...")
    ] = None,
    package: Annotated[
        str | None, Query(description="pkg:maven/org.apache.logging.log4j/log4j-core")
    ] = None,
    versions: Annotated[str | None, Query(description="<2.17.1, or >=2.0,<2.17.1")] = None,
    ecosystem: Annotated[
        str | None, Query(description="With a bare package name: PyPI, npm, ...")
    ] = None,
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
) -> Response:
    runtime: Runtime = request.app.state.runtime
    restriction = readable_entities(grant)

    def read() -> ImpactAnswer:
        with runtime.db.read_session() as session:
            return answer_question(
                session,
                advisory=advisory,
                package=package,
                versions=versions,
                ecosystem=ecosystem,
                restriction=restriction,
            )

    answer = await run_in_threadpool(read)
    if format == "csv":
        return Response(
            to_csv(answer),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": 'attachment; filename="affected.csv"'},
        )
    return json_response(answer.to_json())


def to_csv(answer: ImpactAnswer) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(csv_rows(answer))
    return buffer.getvalue()
