"""Ingest a synthetic organisation through a running server and time it until it is all served.

    .venv/bin/python benchmarks/bench_ingest.py --entities 100000 --database sqlite postgres

For each database: a fresh database, ``pavedroad serve``, ``POST /api/catalog/locations`` with a
glob of the generated files (validation, placeholders, relations, search rows: the full path),
then ``by-query`` until ``totalItems`` equals the count. Prints seconds, entities per second and
the server's peak memory; keeps the loaded database for ``bench_queries.py``.
"""

from __future__ import annotations

import argparse
import json
import time

from harness import WORK, database_url, organisation, print_table, request, start_server


def ingest(kind: str, entities: int) -> dict[str, object]:
    folder = organisation(entities)
    expected = json.loads((folder / "manifest.json").read_text())["n"]
    url = database_url(kind, f"pavedroad_bench_{entities}")
    server = start_server(url, WORK / f"data-{kind}")
    try:
        started = time.perf_counter()
        status, body = request(
            server, "POST", "/api/catalog/locations", {"type": "glob", "target": f"{folder}/*.yaml"}
        )
        registered = time.perf_counter() - started
        if status != 201:
            raise SystemExit(f"registration failed with {status}: {body}")
        total = 0
        while total < expected:
            total = request(server, "GET", "/api/catalog/entities/by-query?limit=1")[1][
                "totalItems"
            ]
            if time.perf_counter() - started > 3600:
                raise SystemExit(f"only {total} of {expected} entities visible after an hour")
        visible = time.perf_counter() - started
        return {
            "database": kind,
            "entities": total,
            "errors": body["ingestion"]["errors"],
            "registered (s)": round(registered, 1),
            "all visible (s)": round(visible, 1),
            "entities/s": round(total / visible),
            "server peak RSS (MiB)": round(server.peak_rss_mib()),
        }
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument(
        "--database", nargs="+", choices=["sqlite", "postgres"], default=["sqlite", "postgres"]
    )
    args = parser.parse_args()
    rows = [ingest(kind, args.entities) for kind in args.database]
    print_table(f"Ingest {args.entities:,} entities through POST /api/catalog/locations", rows)
    print(json.dumps({"benchmark": "ingest", "results": rows}))


if __name__ == "__main__":
    main()
