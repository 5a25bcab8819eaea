"""The page at ``/`` until the portal arrives: what is running and where to go from here."""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse

from pavedroad import __version__
from pavedroad.catalog import queries

router = APIRouter(include_in_schema=False)

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>pavedroad</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font: 16px/1.5 system-ui, sans-serif; max-width: 46rem; margin: 3rem auto; padding: 0 1rem;
       color: #1f2328; background: #fff; }}
@media (prefers-color-scheme: dark) {{ body {{ color: #e6edf3; background: #0d1117; }}
  a {{ color: #58a6ff; }} }}
table {{ border-collapse: collapse; }} td {{ padding: .15rem 1.5rem .15rem 0; }}
code {{ font-size: .9em; }}
</style></head>
<body>
<h1>pavedroad <small>{version}</small></h1>
<p>The catalog holds <strong>{total}</strong> entities{errors}.</p>
<table>{rows}</table>
<h2>Where to go</h2>
<ul>
<li><a href="/api/docs">API documentation</a>
    (try <code>GET /api/catalog/entities/by-query</code>)</li>
<li><a href="/api/catalog/entity-facets?facet=kind&amp;facet=spec.type">Facets</a>,
    <a href="/api/catalog/locations">locations</a>,
    <a href="/api/catalog/errors">ingestion errors</a></li>
<li><a href="/metrics">Prometheus metrics</a>, <a href="/readyz">readiness</a></li>
</ul>
<p>From a terminal: <code>.venv/bin/pavedroad catalog --help</code></p>
</body></html>
"""


@router.get("/")
async def landing(request: Request) -> HTMLResponse:
    runtime = request.app.state.runtime

    def read() -> tuple[dict[str, object], int]:
        with runtime.db.read_session() as session:
            kinds = queries.facets(session, ["kind"], [])["kind"]
            errors = sum(count for _, count in queries.error_summary(session))
        return {str(item["value"]): item["count"] for item in kinds}, errors

    kinds, errors = await run_in_threadpool(read)
    rows = "".join(
        f"<tr><td>{escape(kind)}</td><td>{count}</td></tr>" for kind, count in kinds.items()
    )
    total = sum(int(str(count)) for count in kinds.values())
    error_text = (
        f', and <a href="/api/catalog/errors">{errors} ingestion errors</a>' if errors else ""
    )
    html = PAGE.format(version=__version__, total=total, rows=rows, errors=error_text)
    return HTMLResponse(html)
