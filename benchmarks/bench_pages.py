"""Portal pages with 100,000 entities: server-side render time of catalog, entity and search.

    .venv/bin/python benchmarks/bench_pages.py --entities 100000 --database sqlite postgres

Entity pages are read on every tab that has its own queries (overview, YAML, relations, API).
Uses the database ``bench_ingest.py`` leaves (loads it first when missing) and ``wrk`` (as in
``bench_queries.py``). Each page kind is requested for ``--seconds`` at 1 connection (so the
latency is the server's render time plus a loopback round trip) and at 16 connections.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path
from urllib.parse import quote

from bench_queries import FULL_TEXT_TERMS, ensure_loaded, run_wrk
from harness import WORK, organisation, print_table, start_server


def page_paths(folder: Path) -> tuple[dict[str, list[str]], str]:
    """Paths per page kind, and a user of the organisation to act as."""
    refs: list[tuple[str, str]] = []
    owners: list[str] = []
    for path in sorted(folder.glob("*.yaml")):
        kind = None
        for line in path.read_text().splitlines():
            if line.startswith("kind: "):
                kind = line.split(": ", 1)[1]
            elif line.startswith("  name: ") and kind:
                refs.append((kind.lower(), line.split(": ", 1)[1]))
                kind = None
            elif line.startswith("  owner: "):
                owners.append(line.split(": ", 1)[1])
    random.Random(11).shuffle(refs)
    users = [name for kind, name in refs if kind == "user"]
    apis = [name for kind, name in refs if kind == "api"]
    owner_sample = random.Random(3).sample(sorted(set(owners)), 200)
    return (
        {
            "catalog (default view)": ["/catalog"],
            "catalog kind=component lifecycle=production": [
                "/catalog?kind=component&lifecycle=production"
            ],
            "catalog kind=component owner=<one of 200>": [
                f"/catalog?kind=component&owner=group%3Adefault%2F{quote(owner)}"
                for owner in owner_sample
            ],
            "entity page (overview)": [f"/catalog/default/{k}/{n}" for k, n in refs[:2000]],
            "entity page (yaml tab)": [f"/catalog/default/{k}/{n}?tab=yaml" for k, n in refs[:500]],
            "entity page (relations tab, depth 2)": [
                f"/catalog/default/{k}/{n}?tab=relations" for k, n in refs[:500]
            ],
            "relations graph.json (depth 2)": [
                f"/catalog/default/{k}/{n}/graph.json" for k, n in refs[:500]
            ],
            "API page (api tab)": [f"/catalog/default/api/{n}?tab=api" for n in apis[:500]],
            "search": [f"/search?q={quote(term)}" for term in FULL_TEXT_TERMS],
            "home": ["/"],
        },
        f"user:default/{users[0]}",
    )


def measure(kind: str, entities: int, seconds: int) -> list[dict[str, object]]:
    url = ensure_loaded(kind, entities)
    paths, user = page_paths(organisation(entities))
    server = start_server(
        url, WORK / f"data-{kind}", extra_env={"PAVEDROAD_AUTH__DEMO_USER_REF": user}
    )
    rows: list[dict[str, object]] = []
    try:
        for name, targets in paths.items():
            run_wrk(server, targets, 2, 3, token=False)  # every worker process computes its caches
            for connections in (1, 16):
                result = run_wrk(server, targets, connections, seconds, token=False)
                rows.append(
                    {
                        "database": kind,
                        "page": name,
                        "connections": connections,
                        "p50 (ms)": round(result["p50"], 1),
                        "p95 (ms)": round(result["p95"], 1),
                        "p99 (ms)": round(result["p99"], 1),
                        "req/s": round(result["requests"] / result["seconds"]),
                        "errors": int(result["errors"]),
                    }
                )
    finally:
        server.stop()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument(
        "--database", nargs="+", choices=["sqlite", "postgres"], default=["sqlite", "postgres"]
    )
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    rows = [row for kind in args.database for row in measure(kind, args.entities, args.seconds)]
    print_table(f"Portal pages with {args.entities:,} entities (wrk, {args.seconds} s)", rows)
    print(json.dumps({"benchmark": "pages", "results": rows}))


if __name__ == "__main__":
    main()
