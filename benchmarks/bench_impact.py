"""The organisation-wide impact query over 10,000 components and 1,000,000 dependency rows.

    .venv/bin/python benchmarks/bench_impact.py --database sqlite postgres

Builds (once per database) a catalog of 10,000 components, each with a latest SBOM of 100
packages drawn from 5,000 Maven packages (so 1,000,000 ``sbom_packages`` rows; every component
also has an older, superseded SBOM of 10 rows), with log4j-core in one component in ten at
versions on both sides of 2.17.1, and imports the Log4Shell advisory. Then asks, 50 times each,
"which components ship log4j-core < 2.17.1?" and "which are affected by CVE-2021-44228?" through
the same service the API and the page call, and prints p50/p95 (target: p95 < 100 ms).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import yaml
from sqlalchemy import insert

from harness import WORK, database_url, print_table
from pavedroad.catalog import service
from pavedroad.config import Settings
from pavedroad.core import migrations
from pavedroad.core.actors import Actor
from pavedroad.core.db import chunks
from pavedroad.runtime import build_runtime
from pavedroad.security.advisories import import_advisories
from pavedroad.security.impact import answer_question
from pavedroad.security.sbom.models import Sbom, SbomPackage

COMPONENTS = 10_000
PACKAGES_PER_SBOM = 100
POOL = 5_000
LOG4J = "org.apache.logging.log4j:log4j-core"
LOG4J_VERSIONS = ["2.11.1", "2.12.1", "2.14.1", "2.15.0", "2.16.0", "2.17.1", "2.20.0"]
ASKS = 50
ACTOR = Actor.system("bench")
ADVISORY = {
    "id": "GHSA-jfh8-c2jp-5v3q",
    "modified": "2024-01-01T00:00:00Z",
    "aliases": ["CVE-2021-44228"],
    "affected": [
        {
            "package": {"ecosystem": "Maven", "name": LOG4J},
            "ranges": [
                {
                    "type": "ECOSYSTEM",
                    "events": [
                        {"introduced": "2.0-beta9"},
                        {"fixed": "2.3.1"},
                        {"introduced": "2.4"},
                        {"fixed": "2.12.2"},
                        {"introduced": "2.13.0"},
                        {"fixed": "2.15.0"},
                    ],
                }
            ],
        }
    ],
}


def catalog_file(folder: Path) -> Path:
    teams = [f"team-{n}" for n in range(100)]
    documents = [
        {
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Component",
            "metadata": {"name": f"service-{n}"},
            "spec": {
                "type": "service",
                "lifecycle": "production",
                "owner": teams[n % 100],
                "system": f"system-{n % 300}",
            },
        }
        for n in range(COMPONENTS)
    ]
    path = folder / "catalog.yaml"
    path.write_text(yaml.safe_dump_all(documents, sort_keys=False))
    return path


def fill(runtime: object, folder: Path) -> None:
    rng = random.Random(7)
    now = datetime.now(UTC)
    sboms, packages = [], []
    pool = [f"com.example.lib{n}:artifact{n}" for n in range(POOL)]
    for n in range(COMPONENTS):
        ref = f"component:default/service-{n}"
        for latest, count in ((False, 10), (True, PACKAGES_PER_SBOM)):
            sbom_id = str(uuid.uuid4())
            sboms.append(
                {
                    "id": sbom_id,
                    "component_ref": ref,
                    "commit": "c" * 40,
                    "version": "1.0",
                    "created_at": now,
                    "run_id": None,
                    "created_by": "system:bench",
                    "latest": latest,
                    "package_count": count,
                    "document": {},
                }
            )
            names = rng.sample(pool, count)
            if latest and n % 10 == 0:
                names[0] = LOG4J
            for name in names:
                version = (
                    rng.choice(LOG4J_VERSIONS) if name == LOG4J else f"1.{rng.randrange(30)}.0"
                )
                packages.append(
                    {
                        "sbom_id": sbom_id,
                        "ecosystem": "Maven",
                        "name": name,
                        "version": version,
                        "purl": f"pkg:maven/{name}@{version}",
                        "direct": True,
                    }
                )
    db = runtime.db  # type: ignore[attr-defined]
    with db.session() as session:
        service.register_locations(
            session,
            runtime.catalog,  # type: ignore[attr-defined]
            [("file", str(catalog_file(folder)))],
            actor=ACTOR,
        )
    with db.session() as session:
        for batch in chunks(sboms, 5000):
            session.execute(insert(Sbom), batch)
        for batch in chunks(packages, 20000):
            session.execute(insert(SbomPackage), batch)
        advisories = folder / "osv"
        advisories.mkdir(exist_ok=True)
        (advisories / "log4shell.json").write_text(json.dumps(ADVISORY))
        import_advisories(session, advisories, actor=ACTOR)


def timed(runtime: object, **question: str) -> tuple[list[float], int]:
    seconds, count = [], 0
    db = runtime.db  # type: ignore[attr-defined]
    for _ in range(ASKS):
        started = time.perf_counter()
        with db.read_session() as session:
            count = len(answer_question(session, **question).components)
        seconds.append(time.perf_counter() - started)
    return seconds, count


def measure(kind: str) -> list[dict[str, object]]:
    folder = WORK / f"impact-{kind}"
    folder.mkdir(parents=True, exist_ok=True)
    url = database_url(kind, "pavedroad_bench_impact")
    migrations.upgrade(url)
    runtime = build_runtime(Settings(data_dir=folder / "data", database_url=url))
    started = time.perf_counter()
    fill(runtime, folder)
    print(f"{kind}: built the organisation in {time.perf_counter() - started:.0f} s", flush=True)
    rows = []
    for label, question in (
        (
            "log4j-core <2.17.1",
            {"package": "pkg:maven/org.apache.logging.log4j/log4j-core", "versions": "<2.17.1"},
        ),
        ("CVE-2021-44228", {"advisory": "CVE-2021-44228"}),
    ):
        timed(runtime, **question)  # warm the caches, as a serving process is
        seconds, count = timed(runtime, **question)
        ordered = sorted(seconds)
        rows.append(
            {
                "database": kind,
                "question": label,
                "components": count,
                "p50": f"{statistics.median(ordered) * 1000:.0f} ms",
                "p95": f"{ordered[int(len(ordered) * 0.95) - 1] * 1000:.0f} ms",
            }
        )
    runtime.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", nargs="+", default=["sqlite"], choices=["sqlite", "postgres"])
    arguments = parser.parse_args()
    rows = [row for kind in arguments.database for row in measure(kind)]
    print_table("Impact query: 10,000 components, 1,000,000 dependency rows", rows)


if __name__ == "__main__":
    main()
