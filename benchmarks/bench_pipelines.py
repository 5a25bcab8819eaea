"""Pipeline engine: orchestration overhead, and draining a queue with worker processes.

    .venv/bin/python benchmarks/bench_pipelines.py --database sqlite postgres --runs 200 --workers 4

(a) Overhead: a pipeline of 10 trivial steps (``run: "true"``, one after the other) in a
real git repository, run by an in-process worker on a fresh database; the time from
``start_run`` returning to the run's end, minus what the ten shell processes themselves took
(each measured the same way, ``bash -e -o pipefail -c true``). Also shown: ``start_run`` itself
(fetch the mirror, resolve the commit, read and load the file, queue). Median of 10 runs after a
warm-up. Target: under 1 s.

(b) Throughput: ``--runs`` runs queued first, then ``--workers`` ``pavedroad worker`` processes
(2 slots each) started against one PostgreSQL database; each run's step appends its run id
to a ledger file. Checked: every run succeeded and every id is in the ledger exactly once.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from harness import PAVEDROAD, WORK, database_url, print_table
from pavedroad.config import Settings
from pavedroad.core import migrations
from pavedroad.core.actors import Actor
from pavedroad.core.clock import as_utc
from pavedroad.pipelines.models import PipelineRun
from pavedroad.pipelines.service import start_run
from pavedroad.pipelines.worker import PipelineWorker
from pavedroad.runtime import build_runtime

ACTOR = Actor.system("bench")
GIT = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com"]


def repository(folder: Path, pipeline: str) -> str:
    shutil.rmtree(folder, ignore_errors=True)
    (folder / ".pavedroad").mkdir(parents=True)
    (folder / ".pavedroad" / "pipeline.yaml").write_text(pipeline)
    for command in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "bench"]):
        subprocess.run([*GIT, *command], cwd=folder, check=True)
    return str(folder)


def ten_trivial_steps() -> str:
    steps = "".join(f"      - {{name: s{n}, run: 'true'}}\n" for n in range(10))
    return f"stages:\n  - name: build\n    steps:\n{steps}"


def shell_seconds(times: int = 50) -> float:
    """What one trivial step's own process takes (start, run, exit), the median of ``times``."""
    took = []
    for _ in range(times):
        started = time.perf_counter()
        subprocess.run(["bash", "-e", "-o", "pipefail", "-c", "true"], check=True)
        took.append(time.perf_counter() - started)
    return statistics.median(took)


def overhead(kind: str, rounds: int) -> dict[str, object]:
    url = database_url(kind, "pavedroad_bench_pipelines")
    migrations.upgrade(url)
    data = WORK / f"data-pipelines-{kind}"
    shutil.rmtree(data, ignore_errors=True)
    settings = Settings(data_dir=data, database_url=url, log_level="WARNING")
    runtime = build_runtime(settings)
    repo = repository(WORK / "pipeline-repo", ten_trivial_steps())
    worker = PipelineWorker(runtime, 1)
    worker.start()
    starts, walls = [], []
    try:
        for number in range(rounds + 1):
            began = time.perf_counter()
            run = start_run(runtime, repository=repo, trigger="manual", actor=ACTOR)
            queued = time.perf_counter()
            while True:
                with runtime.db.read_session() as session:
                    status = session.get(PipelineRun, run.id).status  # type: ignore[union-attr]
                if status not in ("queued", "running"):
                    break
                time.sleep(0.005)
            ended = time.perf_counter()
            if status != "succeeded":
                raise SystemExit(f"the run ended {status}")
            if number:  # the first is a warm-up (imports, first clone of the mirror)
                starts.append(queued - began)
                walls.append(ended - queued)
    finally:
        worker.stop()
        runtime.close()
    own = 10 * shell_seconds()
    wall = statistics.median(walls)
    return {
        "load (1 min)": round(os.getloadavg()[0], 1),
        "database": kind,
        "start_run (s)": round(statistics.median(starts), 3),
        "queued to finished (s)": round(wall, 3),
        "steps' own time (s)": round(own, 3),
        "overhead (s)": round(wall - own, 3),
    }


def throughput(runs: int, workers: int) -> dict[str, object]:
    url = database_url("postgres", "pavedroad_bench_pipeline_workers")
    migrations.upgrade(url)
    data = WORK / "data-pipeline-workers"
    shutil.rmtree(data, ignore_errors=True)
    ledger = WORK / "pipeline-ledger"
    ledger.unlink(missing_ok=True)
    pipeline = (
        "stages:\n  - name: build\n    steps:\n"
        f"      - {{name: record, run: 'echo $PAVEDROAD_RUN_ID >> {ledger}'}}\n"
    )
    repo = repository(WORK / "pipeline-repo-workers", pipeline)
    limits = {"max_concurrent_runs": 64, "max_runs_per_repository": 64}
    settings = Settings(data_dir=data, database_url=url, pipelines=limits)
    runtime = build_runtime(settings)
    ids = [start_run(runtime, repository=repo, trigger="api", actor=ACTOR).id for _ in range(runs)]
    environment = {
        **os.environ,
        "PAVEDROAD_DATABASE_URL": url,
        "PAVEDROAD_DATA_DIR": str(data),
        "PAVEDROAD_LOG_LEVEL": "WARNING",
        "PAVEDROAD_PIPELINES__MAX_CONCURRENT_RUNS": "64",
        "PAVEDROAD_PIPELINES__MAX_RUNS_PER_REPOSITORY": "64",
    }
    began = time.perf_counter()
    processes = [
        subprocess.Popen(
            [str(PAVEDROAD), "worker", "--slots", "2"],
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=(WORK / f"worker-{n}.log").open("wb"),
        )
        for n in range(workers)
    ]
    try:
        while True:
            with runtime.db.read_session() as session:
                left = (
                    session.query(PipelineRun)
                    .filter(PipelineRun.status.in_(("queued", "running")))
                    .count()
                )
            if left == 0:
                break
            time.sleep(0.05)
        elapsed = time.perf_counter() - began
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(30)
    with runtime.db.read_session() as session:
        rows = session.query(PipelineRun).filter(PipelineRun.id.in_(ids)).all()
        statuses = Counter(row.status for row in rows)
        claimed_by = Counter(row.claimed_by for row in rows)
        first = min(as_utc(row.started_at) for row in rows if row.started_at)
        last = max(as_utc(row.finished_at) for row in rows if row.finished_at)
    runtime.close()
    recorded = Counter(ledger.read_text().split())
    lost = [run_id for run_id in ids if recorded[run_id] == 0]
    twice = [run_id for run_id, count in recorded.items() if count > 1]
    if lost or twice or statuses.get("succeeded") != runs:
        raise SystemExit(f"lost {lost[:5]}, run twice {twice[:5]}, statuses {dict(statuses)}")
    return {
        "load (1 min)": round(os.getloadavg()[0], 1),
        "runs": runs,
        "workers (slots)": f"{workers} ({workers * 2})",
        "succeeded": statuses["succeeded"],
        "lost": len(lost),
        "run twice": len(twice),
        "runs per worker": " / ".join(str(count) for _, count in claimed_by.most_common()),
        "drained in (s)": round(elapsed, 2),
        "runs/s": round(runs / elapsed, 1),
        "first start to last end (s)": round((last - first).total_seconds(), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--database", nargs="+", choices=["sqlite", "postgres"], default=["sqlite", "postgres"]
    )
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    rows = [overhead(kind, args.rounds) for kind in args.database]
    print_table("10 trivial steps: orchestration overhead (target: under 1 s)", rows)
    drained = [throughput(args.runs, args.workers)]
    print_table(f"{args.runs} queued runs, {args.workers} worker processes, PostgreSQL", drained)
    print(json.dumps({"benchmark": "pipelines", "overhead": rows, "throughput": drained}))


if __name__ == "__main__":
    sys.exit(main())
