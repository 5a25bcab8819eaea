"""Importing the whole PyPA advisory database (about 2,660 OSV records as YAML files).

    .venv/bin/python benchmarks/bench_advisories.py --database sqlite postgres

For each database: a fresh, migrated database; ``import_advisories`` of
``../shared/advisories/pypa`` in one transaction (first import: every record written), then
the same import again (every record unchanged: the incremental path). Target: under 10 s.
"""

from __future__ import annotations

import argparse
import time

from harness import ROOT, database_url, print_table
from pavedroad.core import migrations
from pavedroad.core.actors import Actor
from pavedroad.core.db import Database
from pavedroad.security.advisories import import_advisories

PYPA = ROOT.parent / "shared" / "advisories" / "pypa"


def measure(kind: str) -> dict[str, object]:
    url = database_url(kind, "pavedroad_bench_advisories")
    migrations.upgrade(url)
    database = Database(url)
    actor = Actor.system("bench")
    figures: dict[str, object] = {"database": kind}
    for label in ("first import", "again (unchanged)"):
        started = time.perf_counter()
        with database.session() as session:
            report = import_advisories(session, PYPA, actor=actor)
        figures[label] = f"{time.perf_counter() - started:.2f} s"
        figures["records"] = report.read
    database.dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", nargs="+", default=["sqlite"], choices=["sqlite", "postgres"])
    arguments = parser.parse_args()
    print_table("Advisory import (PyPA database)", [measure(kind) for kind in arguments.database])


if __name__ == "__main__":
    main()
