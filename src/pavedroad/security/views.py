"""The "who is affected?" page: ask by advisory (CVE-2021-44228) or by package and versions
(log4j-core <2.17.1); the answer lists each component with its owner, system and lifecycle,
the URL can be shared, and the same answer downloads as CSV."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Depends, Request
from sqlalchemy import and_, select
from starlette.responses import HTMLResponse

from pavedroad.catalog.models import Entity
from pavedroad.catalog.visibility import readable_entities
from pavedroad.core.errors import InputError, NotFoundError
from pavedroad.core.web import run_read
from pavedroad.permissions.dependencies import Grant, require
from pavedroad.security.charts import findings_trend
from pavedroad.security.dashboard import organisation_security
from pavedroad.security.gate import describe_blocker
from pavedroad.security.impact import answer_question, by_owner
from pavedroad.security.permissions import READ_GATE, READ_IMPACT
from pavedroad.web import navigation
from pavedroad.web.templating import render
from pavedroad.web.viewer import Viewer, attach_viewer

if TYPE_CHECKING:
    from pavedroad.runtime import Runtime

router = APIRouter(include_in_schema=False)
navigation.register(navigation.NavItem("Security", "/security", "⚠", 45))
QUESTION_FIELDS = ("advisory", "package", "versions", "ecosystem")
EXAMPLES = (
    ("Log4Shell", {"advisory": "CVE-2021-44228"}),
    (
        "log4j-core < 2.17.1",
        {"package": "pkg:maven/org.apache.logging.log4j/log4j-core", "versions": "<2.17.1"},
    ),
    ("Django < 2.2.28", {"package": "pkg:pypi/django", "versions": "<2.2.28"}),
)


@router.get("/security/affected", response_class=HTMLResponse)
async def affected_page(
    request: Request,
    grant: Annotated[Grant, Depends(require(READ_IMPACT))],
    viewer: Annotated[Viewer, Depends(attach_viewer)],
) -> HTMLResponse:
    runtime: Runtime = request.app.state.runtime
    asked = {k: request.query_params.get(k, "").strip() for k in QUESTION_FIELDS}
    asked = {k: v for k, v in asked.items() if v}
    context: dict[str, Any] = {
        "asked": asked,
        "examples": [(title, "/security/affected?" + urlencode(q)) for title, q in EXAMPLES],
        "answer": None,
        "groups": [],
        "error": None,
        "csv_url": "/api/security/v1/affected?" + urlencode({**asked, "format": "csv"}),
        "breadcrumbs": [("Security", None), ("Who is affected?", None)],
    }
    status = 200
    if asked:
        restriction = readable_entities(grant)

        def read() -> Any:
            with runtime.db.read_session() as session:
                return answer_question(session, restriction=restriction, **asked)

        try:
            answer = await run_read(read)
        except (InputError, NotFoundError) as error:
            context["error"] = error
            status = error.status_code
        else:
            context["answer"] = answer
            context["groups"] = list(by_owner(answer).items())
    return render(request, "security/affected.html", context, status_code=status)


@router.get("/security", response_class=HTMLResponse)
async def dashboard_page(
    request: Request,
    grant: Annotated[Grant, Depends(require(READ_GATE))],
    viewer: Annotated[Viewer, Depends(attach_viewer)],
) -> HTMLResponse:
    """The organisation's security: open findings by severity, team and age, the trend, the
    components whose next deploy is blocked, and scans that did not run."""
    runtime: Runtime = request.app.state.runtime
    restriction = readable_entities(grant)

    def read() -> Any:
        with runtime.db.read_session() as session:
            query = select(Entity.ref, Entity.body).where(Entity.kind_key == "component")
            if restriction is not None:
                query = query.where(and_(restriction.condition))
            owners = {
                row.ref: (orjson.loads(row.body).get("spec") or {}).get("owner")
                for row in session.execute(query)
            }
            return organisation_security(session, owners)

    summary = await run_read(read)
    context = {
        "summary": summary,
        "trend": findings_trend(summary.trend, label="Open findings per day"),
        "describe": describe_blocker,
        "breadcrumbs": [("Security", None)],
    }
    return render(request, "security/dashboard.html", context)
