"""Read latency with 100,000 entities loaded: by-name, by-query, facets and full-text filter.

    .venv/bin/python benchmarks/bench_queries.py --entities 100000 --database sqlite postgres

Needs ``wrk`` (Debian: ``apt-get install wrk``) as the load generator: a C client, so the
figures are the server's and not a Python client's. Loads the organisation first when
``bench_ingest.py`` has not left it, starts a fresh ``pavedroad serve`` on the loaded database,
and runs each request mix for ``--seconds`` at 1 and at 16 connections after a warm-up.
Prints p50/p95/p99 latency, requests per second and the server's peak memory.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import quote

from harness import WORK, Server, organisation, print_table, request, start_server

LUA = """
local paths = {}
for line in io.lines("%(paths)s") do paths[#paths + 1] = line end
local index = 0
request = function()
  index = (index %% #paths) + 1
  return wrk.format("GET", paths[index])
end
done = function(summary, latency, requests)
  local e = summary.errors
  local errors = e.status + e.connect + e.read + e.write + e.timeout
  io.write(string.format(
    'RESULT {"requests": %%d, "errors": %%d, "seconds": %%f, '
    .. '"p50": %%f, "p95": %%f, "p99": %%f}\\n',
    summary.requests, errors, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000))
end
"""

FULL_TEXT_TERMS = [
    "checkout",
    "billing",
    "ledger",
    "payments",
    "search",
    "gateway",
    "alice",
    "worker",
    "kafka",
    "python",
]


def scenarios(folder: Path) -> dict[str, list[str]]:
    """Request paths per scenario; by-name walks 2,000 random real entities.

    Identical requests are answered from the generation-checked response cache after the first
    (that is what the repeated list, facet and full-text lines measure); the uncached line
    shows the query path itself.
    """
    refs: list[str] = []
    for path in sorted(folder.glob("*.yaml")):
        kind = name = None
        for line in path.read_text().splitlines():
            if line.startswith("kind: "):
                kind = line.split(": ", 1)[1]
            elif line.startswith("  name: ") and kind:
                name = line.split(": ", 1)[1]
                refs.append(f"{kind}/default/{name}")
                kind = None
    random.Random(7).shuffle(refs)
    groups = [ref.split("/")[-1] for ref in refs if ref.startswith("Group/")][:3000]
    return {
        "by-name": [f"/api/catalog/entities/by-name/{ref}" for ref in refs[:2000]],
        "by-query kind=component limit=50": [
            "/api/catalog/entities/by-query?filter=kind=component&limit=50"
        ],
        # 3,000 different owners: nearly every request misses the response cache, so this
        # line measures the query itself (search index, count, page, stitched relations).
        "by-query kind=component,spec.owner=<one of 3,000> limit=50 (uncached)": [
            f"/api/catalog/entities/by-query?filter=kind=component,spec.owner={quote(group)}&limit=50"
            for group in groups
        ],
        "entity-facets spec.type": ["/api/catalog/entity-facets?facet=spec.type"],
        "full-text filter limit=50": [
            f"/api/catalog/entities/by-query?fullTextFilterTerm={quote(term)}&limit=50"
            for term in FULL_TEXT_TERMS
        ],
    }


def run_wrk(
    server: Server, paths: list[str], connections: int, seconds: int, *, token: bool = True
) -> dict[str, float]:
    """wrk over ``paths`` in turn; requests carry the server's token unless ``token`` is off."""
    with tempfile.TemporaryDirectory() as scratch:
        path_file = Path(scratch) / "paths.txt"
        path_file.write_text("\n".join(paths) + "\n")
        script = Path(scratch) / "mix.lua"
        script.write_text(LUA % {"paths": path_file})
        threads = min(connections, 2)
        command = [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            *(f"-H{name}: {value}" for name, value in server.headers.items() if token),
            server.base,
        ]
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("RESULT "))
    result: dict[str, float] = json.loads(line.removeprefix("RESULT "))
    return result


def ensure_loaded(kind: str, entities: int) -> str:
    """The URL of a database holding the organisation (loaded now if it is not)."""
    name = f"pavedroad_bench_{entities}"
    url = (f"sqlite:///{WORK / name}.db" if kind == "sqlite" else None) or ""
    if kind == "sqlite" and Path(f"{WORK / name}.db").is_file():
        return url
    if kind == "postgres":
        import psycopg

        from harness import POSTGRES_ADMIN

        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as connection:
            if connection.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
            ).fetchone():
                return (
                    POSTGRES_ADMIN.replace("postgresql://", "postgresql+psycopg://").rsplit("/", 1)[
                        0
                    ]
                    + f"/{name}"
                )
    from bench_ingest import ingest

    ingest(kind, entities)
    return ensure_loaded(kind, entities)


def measure(kind: str, entities: int, seconds: int, workers: int) -> list[dict[str, object]]:
    url = ensure_loaded(kind, entities)
    if kind == "postgres":
        # What an operator runs after a bulk import: fresh planner statistics, and no
        # autovacuum of millions of new rows competing with the measurement.
        import psycopg

        with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as connection:
            connection.execute("VACUUM (ANALYZE)")
    server = start_server(url, WORK / f"data-{kind}", workers)
    rows: list[dict[str, object]] = []
    try:
        total = request(server, "GET", "/api/catalog/entities/by-query?limit=1")[1]["totalItems"]
        for name, paths in scenarios(organisation(entities)).items():
            run_wrk(server, paths, 4, 2)  # warm-up: caches, connection pool, code paths
            for connections in (1, 16):
                result = run_wrk(server, paths, connections, seconds)
                rows.append(
                    {
                        "database": kind,
                        "workers": workers or min(os.cpu_count() or 1, 4),
                        "entities": total,
                        "request": name,
                        "connections": connections,
                        "p50 (ms)": round(result["p50"], 1),
                        "p95 (ms)": round(result["p95"], 1),
                        "p99 (ms)": round(result["p99"], 1),
                        "req/s": round(result["requests"] / result["seconds"]),
                        "errors": int(result["errors"]),
                    }
                )
        rows.append(
            {
                "database": kind,
                "workers": workers or min(os.cpu_count() or 1, 4),
                "entities": total,
                "request": "server peak RSS (MiB)",
                "connections": "-",
                "p50 (ms)": "-",
                "p95 (ms)": "-",
                "p99 (ms)": "-",
                "req/s": round(server.peak_rss_mib()),
                "errors": "-",
            }
        )
    finally:
        server.stop()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument(
        "--database", nargs="+", choices=["sqlite", "postgres"], default=["sqlite", "postgres"]
    )
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument(
        "--workers", type=int, default=0, help="server processes; 0 = the default (one per core)"
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    rows = [
        row
        for kind in args.database
        for row in measure(kind, args.entities, args.seconds, args.workers)
    ]
    print_table(
        f"Read latency with {args.entities:,} entities (wrk, {args.seconds} s per line)", rows
    )
    print(json.dumps({"benchmark": "queries", "results": rows}))


if __name__ == "__main__":
    main()
