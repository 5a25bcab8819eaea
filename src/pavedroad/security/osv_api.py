"""An OSV-compatible query API over the imported advisories: ``/api/security/osv/v1/query`` and
``/querybatch`` answer as api.osv.dev does, so tools that speak OSV (``pip-audit --osv-url``,
osv-scanner) work offline against the organisation's own advisory data.

The routes are public: tools that speak OSV send no credentials, and advisories are public
data; they read and never write.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select
from starlette.responses import Response

from pavedroad.core.db import chunks
from pavedroad.core.errors import InputError
from pavedroad.core.web import json_response
from pavedroad.runtime import Runtime
from pavedroad.security.advisories.matching import PackageVersion, vulnerabilities_of
from pavedroad.security.advisories.models import Advisory
from pavedroad.security.advisories.purls import ecosystem_of_purl

router = APIRouter(prefix="/api/security/osv/v1", tags=["security"])
QUERY_ROUTE = "/api/security/osv/v1/query"
BATCH_ROUTE = "/api/security/osv/v1/querybatch"
MAX_BATCH = 1000
MAX_BODY_BYTES = 1024 * 1024


@router.post("/query", summary="OSV /v1/query: the advisories affecting one package version")
async def osv_query(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    package = _package_of(await _json_body(request), "")
    records = await run_in_threadpool(_records_for, runtime, [package])
    return json_response({"vulns": records[0]} if records[0] else {})


@router.post("/querybatch", summary="OSV /v1/querybatch: ids of the advisories per query")
async def osv_query_batch(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    body = await _json_body(request)
    queries = body.get("queries") if isinstance(body, dict) else None
    if not isinstance(queries, list) or len(queries) > MAX_BATCH:
        raise InputError(f"queries must be a list of at most {MAX_BATCH} queries")
    packages = [_package_of(query, f"queries[{n}].") for n, query in enumerate(queries)]
    records = await run_in_threadpool(_records_for, runtime, packages)
    results = [
        {"vulns": [{"id": r["id"], "modified": r["modified"]} for r in found]} if found else {}
        for found in records
    ]
    return json_response({"results": results})


async def _json_body(request: Request) -> Any:
    """The JSON body, whatever its content type says: OSV clients (pip-audit among them) post
    JSON without declaring it."""
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise InputError(f"the query is larger than {MAX_BODY_BYTES} bytes")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise InputError(f"the body is not JSON: {error}") from None


def _package_of(query: Any, where: str) -> PackageVersion:
    """The package version an OSV query asks about: ``package.name`` + ``ecosystem`` with
    ``version``, or a ``package.purl`` with the version in it."""
    if not isinstance(query, dict) or not isinstance(query.get("package"), dict):
        raise InputError(f"{where}package is required (commit queries are not supported)")
    package = query["package"]
    version = query.get("version")
    if package.get("purl"):
        ecosystem, name, purl_version = ecosystem_of_purl(str(package["purl"]))
        version = version or purl_version
    else:
        ecosystem, name = package.get("ecosystem"), package.get("name")
    if not ecosystem or not name or not isinstance(version, str) or not version:
        raise InputError(
            f"{where}package needs name and ecosystem (or a purl), and version is required"
        )
    return PackageVersion(str(ecosystem), str(name), version)


def _records_for(runtime: Runtime, packages: list[PackageVersion]) -> list[list[dict[str, Any]]]:
    with runtime.db.read_session() as session:
        found = vulnerabilities_of(session, packages)
        ids = sorted({v.advisory_id for vs in found.values() for v in vs})
        records: dict[str, dict[str, Any]] = {}
        for batch in chunks(ids, 500):
            query = select(Advisory.id, Advisory.record).where(Advisory.id.in_(batch))
            records.update({row.id: row.record for row in session.execute(query)})
    return [[records[v.advisory_id] for v in found[package]] for package in packages]
