"""Workers: in the server process and as `pavedroad worker` processes; a worker that is killed
mid-run; a worker that shuts down; several workers draining one queue."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pavedroad.config import Settings
from pavedroad.core.clock import as_utc
from pavedroad.pipelines import jobs
from pavedroad.pipelines.worker import PipelineWorker
from pavedroad.runtime import Runtime
from tests.pipelines.engine_support import (
    log_of,
    make_repository,
    pipeline_file,
    run_row,
    start,
    steps_of,
    wait_for,
)

PAVEDROAD = Path(sys.executable).with_name("pavedroad")


@pytest.fixture
def worker(runtime: Runtime) -> Iterator[PipelineWorker]:
    started = PipelineWorker(runtime, 2, name="in-process")
    started.start()
    yield started
    started.stop(grace_seconds=0)


class TestWorkerInProcess:
    def test_a_run_started_in_the_process_is_claimed_at_once(
        self, runtime: Runtime, worker: PipelineWorker, tmp_path: Path
    ) -> None:
        repository = make_repository(tmp_path, pipeline_file("      - {name: a, run: echo a}\n"))
        run_id = start(runtime, repository)
        created = run_row(runtime, run_id).created_at

        wait_for(lambda: run_row(runtime, run_id).status == "succeeded")

        # Woken, not found by polling: claimed well within the 2 s the issue allows from an
        # event to the first step (the speed itself is the pipelines benchmark's business).
        run = run_row(runtime, run_id)
        assert run.started_at is not None
        assert (as_utc(run.started_at) - as_utc(created)).total_seconds() < 2.0
        assert run.claimed_by == "in-process"
        assert steps_of(runtime, run_id)["build.a"].started_at is not None

    def test_a_stopping_worker_puts_its_unfinished_run_back_in_the_queue(
        self, runtime: Runtime, tmp_path: Path
    ) -> None:
        repository = make_repository(
            tmp_path,
            pipeline_file(
                "      - {name: quick, run: echo quick}\n"
                "      - {name: slow, run: 'echo slow; sleep 1000'}\n"
            ),
        )
        leaving = PipelineWorker(runtime, 1, name="leaving")
        leaving.start()
        run_id = start(runtime, repository)
        wait_for(lambda: "slow" in log_of(runtime, run_id, "build.slow"))

        leaving.stop(grace_seconds=0.2)

        run = run_row(runtime, run_id)
        assert (run.status, run.claimed_by) == ("queued", None)
        steps = steps_of(runtime, run_id)
        assert steps["build.quick"].status == "succeeded"
        assert steps["build.slow"].status == "pending"
        assert "worker leaving shut down" in log_of(runtime, run_id, "build.slow")


def _environment(settings: Settings, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "PAVEDROAD_DATABASE_URL": settings.resolved_database_url,
        "PAVEDROAD_DATA_DIR": str(settings.data_dir),
        "PAVEDROAD_PIPELINES__LEASE_SECONDS": "5",
        "PAVEDROAD_LOG_LEVEL": "WARNING",
        **extra,
    }


def _worker_process(settings: Settings, log: Path, *, slots: int = 1) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(PAVEDROAD), "worker", "--slots", str(slots), "--grace", "1"],
        env=_environment(settings),
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


def _postgres_only(database_kind: str) -> None:
    if database_kind != "postgres":
        pytest.skip("separate worker processes share a PostgreSQL database")


class TestWorkerProcesses:
    def test_a_killed_worker_s_run_is_retried_by_another_keeping_finished_steps(
        self, runtime: Runtime, tmp_path: Path, database_kind: str
    ) -> None:
        _postgres_only(database_kind)
        marks = tmp_path / "marks"
        repository = make_repository(
            tmp_path,
            pipeline_file(
                f"      - name: first\n        run: echo first; echo x >> {marks}-first\n"
                f"      - name: second\n        run: >-\n"
                f"          echo x >> {marks}-second; echo pid $$;\n"
                f"          test $(wc -l < {marks}-second) -ge 2 || sleep 30\n"
            ),
        )
        run_id = start(runtime, repository)
        doomed = _worker_process(runtime.settings, tmp_path / "doomed.log")
        try:
            wait_for(lambda: "pid" in log_of(runtime, run_id, "build.second"), timeout=30)
        finally:
            doomed.send_signal(signal.SIGKILL)
            doomed.wait(10)
        orphan = int(re.search(r"pid (\d+)", log_of(runtime, run_id, "build.second")).group(1))  # type: ignore[union-attr]
        os.killpg(orphan, signal.SIGKILL)  # what the service manager of a real worker does
        dead_worker = run_row(runtime, run_id).claimed_by

        wait_for(lambda: jobs.recover_expired_runs(runtime).requeued == [run_id], timeout=15)
        survivor = _worker_process(runtime.settings, tmp_path / "survivor.log")
        try:
            wait_for(lambda: run_row(runtime, run_id).status == "succeeded", timeout=30)
        finally:
            survivor.send_signal(signal.SIGTERM)
            survivor.wait(20)

        run = run_row(runtime, run_id)
        assert run.attempt == 2 and run.claimed_by != dead_worker
        assert (tmp_path / "marks-first").read_text() == "x\n"
        assert (tmp_path / "marks-second").read_text() == "x\nx\n"
        assert log_of(runtime, run_id, "build.first") == "first\n"
        assert f"worker {dead_worker} stopped answering at" in log_of(
            runtime, run_id, "build.second"
        )
        assert survivor.returncode == 0

    def test_two_worker_processes_never_run_a_run_twice(
        self, runtime: Runtime, tmp_path: Path, database_kind: str
    ) -> None:
        _postgres_only(database_kind)
        runtime.settings.pipelines.max_runs_per_repository = 8
        ledger = tmp_path / "ledger"
        repository = make_repository(
            tmp_path,
            # Each run takes a moment, so one worker's 3 slots fill up and the other must claim
            # too, however the machine's load orders them.
            pipeline_file(
                f"      - {{name: a, run: 'sleep 0.3; echo $PAVEDROAD_RUN_ID >> {ledger}'}}\n"
            ),
        )
        env = {"PAVEDROAD_PIPELINES__MAX_RUNS_PER_REPOSITORY": "8"}
        workers = [
            subprocess.Popen(
                [str(PAVEDROAD), "worker", "--slots", "3"],
                env=_environment(runtime.settings, **env),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        try:
            for process in workers:  # both claim from the start: each says when it is ready
                assert process.stderr is not None
                while "waiting for runs" not in process.stderr.readline():
                    assert process.poll() is None, "the worker exited"
            runs = [start(runtime, repository) for _ in range(16)]
            wait_for(
                lambda: all(run_row(runtime, r).status == "succeeded" for r in runs), timeout=90
            )
        finally:
            for process in workers:
                process.send_signal(signal.SIGTERM)
            for process in workers:
                process.communicate(timeout=30)

        assert sorted(ledger.read_text().split()) == sorted(runs)
        assert len({run_row(runtime, r).claimed_by for r in runs}) == 2
        assert all(process.returncode == 0 for process in workers)


def test_the_server_runs_a_worker_and_stops_it_on_shutdown(
    runtime: Runtime, tmp_path: Path
) -> None:
    from fastapi.testclient import TestClient

    from pavedroad.app import create_app

    repository = make_repository(tmp_path, pipeline_file("      - {name: a, run: echo a}\n"))
    app = create_app(runtime, run_jobs=True)
    with TestClient(app):
        worker = app.state.pipeline_worker
        assert isinstance(worker, PipelineWorker)
        assert worker.slots == runtime.settings.pipelines.workers_in_server
        run_id = start(runtime, repository)
        wait_for(lambda: run_row(runtime, run_id).status == "succeeded")
    assert worker.running == []


def test_no_worker_runs_in_a_server_configured_without_one(runtime: Runtime) -> None:
    from pavedroad.app import create_app

    runtime.settings.pipelines.workers_in_server = 0
    assert create_app(runtime, run_jobs=True).state.pipeline_worker is None
    runtime.settings.pipelines.workers_in_server = 2
    assert create_app(runtime, run_jobs=False).state.pipeline_worker is None
