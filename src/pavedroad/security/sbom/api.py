"""``/api/security/v1``: a stored SBOM's CycloneDX JSON, by id or a component's latest; seen
by whoever may read SBOMs and see the component (a hidden component's SBOM is "not found")."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from pavedroad.catalog.models import Entity
from pavedroad.catalog.queries.restriction import Restriction
from pavedroad.catalog.visibility import readable_entities
from pavedroad.core.errors import NotFoundError
from pavedroad.core.web import json_response, run_read
from pavedroad.permissions.dependencies import Grant, require
from pavedroad.runtime import Runtime
from pavedroad.security.permissions import READ_SBOM
from pavedroad.security.sbom.models import Sbom
from pavedroad.security.sbom.service import get_sbom, latest_sbom

router = APIRouter(prefix="/api/security/v1", tags=["security"])
ReadGrant = Annotated[Grant, Depends(require(READ_SBOM))]
MEDIA_TYPE = "application/vnd.cyclonedx+json"


@router.get("/sboms/{sbom_id}", summary="A stored SBOM (CycloneDX 1.6 JSON)")
async def sbom_document(request: Request, sbom_id: str, grant: ReadGrant) -> Response:
    runtime: Runtime = request.app.state.runtime
    restriction = readable_entities(grant)

    def read() -> Response:
        with runtime.db.read_session() as session:
            sbom = get_sbom(session, sbom_id)
            _check_visible(session, sbom.component_ref, restriction, f"no SBOM {sbom_id}")
            return _download(sbom)

    return await run_read(read)


@router.get(
    "/components/{kind}/{namespace}/{name}/sbom",
    summary="The latest SBOM of a component (CycloneDX 1.6 JSON)",
)
async def component_sbom(
    request: Request, kind: str, namespace: str, name: str, grant: ReadGrant
) -> Response:
    runtime: Runtime = request.app.state.runtime
    restriction = readable_entities(grant)
    ref = f"{kind}:{namespace}/{name}".lower()

    def read() -> Response:
        with runtime.db.read_session() as session:
            _check_visible(session, ref, restriction, f"no catalog entity {ref}")
            sbom = latest_sbom(session, ref)
            if sbom is None:
                raise NotFoundError(
                    f"{ref} has no SBOM yet",
                    hint="a pipeline with `uses: sbom` stores one on its next run",
                )
            return _download(sbom)

    return await run_read(read)


def download_name(sbom: Sbom) -> str:
    name = sbom.component_ref.rpartition("/")[2] or "sbom"
    suffix = (sbom.commit or sbom.version or sbom.id)[:12]
    return f"{name}-{suffix}.cdx.json"


def _download(sbom: Sbom) -> Response:
    response = json_response(
        sbom.document,
        headers={"content-disposition": f'attachment; filename="{download_name(sbom)}"'},
    )
    response.headers["content-type"] = MEDIA_TYPE
    return response


def _check_visible(
    session: Session, ref: str, restriction: Restriction | None, message: str
) -> None:
    if restriction is None:
        return
    visible = session.scalar(select(Entity.ref).where(Entity.ref == ref, restriction.condition))
    if visible is None:
        raise NotFoundError(message)
