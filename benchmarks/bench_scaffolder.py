"""From submit to a pushed repository registered in the catalog: the Python service template.

    .venv/bin/python benchmarks/bench_scaffolder.py --runs 10 --database sqlite postgres

Starts a real server (``pavedroad serve``) on a database holding the demo organisation (which
registers the golden-path templates), then for each run: ``POST /api/scaffolder/v2/tasks`` and
poll the task until it is finished. The template renders its skeleton, commits and pushes it to
a new bare repository under the server's repositories root (``file://``), and registers the
pushed ``catalog-info.yaml``. Figures: seconds from the POST to the task's ``completed``, and
the entity being in the catalog.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from harness import WORK, database_url, print_table, request, start_server

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "src" / "pavedroad" / "demo" / "catalog-info.yaml"
GOLDEN = ROOT / "src" / "pavedroad" / "scaffolder" / "golden" / "catalog-info.yaml"
TEMPLATE = "template:default/python-service"


def one_run(server: object, number: int, repositories: Path) -> float:
    name = f"bench-service-{number}-{int(time.time() * 1000)}"
    values = {
        "name": name,
        "description": "A service made by the scaffolder benchmark",
        "owner": "group:default/team-checkout",
        "system": "system:default/orders",
        "repoUrl": f"file://{repositories / name}.git",
    }
    started = time.perf_counter()
    status, body = request(
        server, "POST", "/api/scaffolder/v2/tasks", {"templateRef": TEMPLATE, "values": values}
    )
    if status != 201:
        raise SystemExit(f"the task was refused: {status} {body}")
    task_id = body["id"]
    while True:
        status, task = request(server, "GET", f"/api/scaffolder/v2/tasks/{task_id}")
        if task["status"] in ("completed", "failed", "cancelled"):
            break
        time.sleep(0.02)
    elapsed = time.perf_counter() - started
    if task["status"] != "completed":
        raise SystemExit(f"run {number} ended {task['status']}: {task['error']}")
    found, _ = request(server, "GET", f"/api/catalog/entities/by-name/component/default/{name}")
    if found != 200:
        raise SystemExit(f"run {number}: the new component is not in the catalog")
    return elapsed


def measure(kind: str, runs: int) -> list[dict[str, object]]:
    url = database_url(kind, "pavedroad_bench_scaffolder")
    data = WORK / f"data-scaffolder-{kind}"
    repositories = data / "repositories"
    server = start_server(url, data)
    try:
        for descriptor in (DEMO, GOLDEN):
            location = {"type": "file", "target": str(descriptor)}
            status, body = request(server, "POST", "/api/catalog/locations", location)
            if status not in (201, 409):
                raise SystemExit(f"could not register {descriptor}: {status} {body}")
        one_run(server, 0, repositories)  # warm-up: imports, template read, first git run
        times = [one_run(server, number, repositories) for number in range(1, runs + 1)]
    finally:
        server.stop()
    ordered = sorted(times)
    return [
        {
            "database": kind,
            "runs": runs,
            "p50 (s)": round(statistics.median(ordered), 2),
            "p95 (s)": round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 2),
            "max (s)": round(ordered[-1], 2),
        }
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument(
        "--database", nargs="+", choices=["sqlite", "postgres"], default=["sqlite", "postgres"]
    )
    args = parser.parse_args()
    rows = [row for kind in args.database for row in measure(kind, args.runs)]
    print_table("Python service template: submit to registered (target: under 5 s)", rows)
    print(json.dumps({"benchmark": "scaffolder", "results": rows}))


if __name__ == "__main__":
    main()
