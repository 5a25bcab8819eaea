"""The run queue: claims under the concurrency limits, never twice, leases that expire."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import update

from pavedroad.pipelines import jobs, queue
from pavedroad.pipelines.engine import RunControl, execute_run
from pavedroad.pipelines.models import PipelineRun
from pavedroad.runtime import Runtime
from tests.pipelines.engine_support import (
    claim,
    log_of,
    make_repository,
    pipeline_file,
    run_now,
    run_row,
    start,
    steps_of,
    wait_for,
)

ONE_STEP = pipeline_file("      - {name: a, run: 'true'}\n")


def claim_any(runtime: Runtime, worker: str = "w") -> str | None:
    with runtime.db.session() as session:
        return queue.claim_next(session, worker, runtime.settings)


def expire_lease(runtime: Runtime, run_id: str) -> None:
    with runtime.db.session() as session:
        session.execute(
            update(PipelineRun)
            .where(PipelineRun.id == run_id)
            .values(lease_expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )


class TestClaim:
    def test_runs_are_claimed_oldest_first(self, runtime: Runtime, tmp_path: Path) -> None:
        repository = make_repository(tmp_path, ONE_STEP)
        first, second = start(runtime, repository), start(runtime, repository)

        assert claim_any(runtime) == first
        assert claim_any(runtime) == second
        run = run_row(runtime, first)
        assert run.status == "running" and run.claimed_by == "w"
        assert run.lease_expires_at is not None and run.started_at is not None

    def test_runs_of_one_repository_are_limited(self, runtime: Runtime, tmp_path: Path) -> None:
        runtime.settings.pipelines.max_runs_per_repository = 1
        busy = make_repository(tmp_path, ONE_STEP, name="busy")
        other = make_repository(tmp_path, ONE_STEP, name="other")
        first, _waiting = start(runtime, busy), start(runtime, busy)
        third = start(runtime, other)

        assert claim_any(runtime) == first
        assert claim_any(runtime) == third  # the second of `busy` waits for the first
        assert claim_any(runtime) is None

    def test_runs_are_limited_globally(self, runtime: Runtime, tmp_path: Path) -> None:
        runtime.settings.pipelines.max_concurrent_runs = 2
        runs = [start(runtime, make_repository(tmp_path, ONE_STEP, name=f"r{n}")) for n in range(3)]

        assert [claim_any(runtime) for _ in range(3)] == [runs[0], runs[1], None]

    def test_concurrent_claims_never_take_a_run_twice(
        self, runtime: Runtime, tmp_path: Path
    ) -> None:
        runtime.settings.pipelines.max_concurrent_runs = 1000
        runtime.settings.pipelines.max_runs_per_repository = 1000
        repository = make_repository(tmp_path, ONE_STEP)
        runs = {start(runtime, repository) for _ in range(30)}
        claimed: list[str] = []
        barrier = threading.Barrier(6)

        def worker(name: str) -> None:
            barrier.wait()
            while (run_id := claim_any(runtime, name)) is not None:
                claimed.append(run_id)

        threads = [threading.Thread(target=worker, args=(f"w{n}",)) for n in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)

        assert sorted(claimed) == sorted(runs)


class TestLeases:
    def test_a_lease_is_renewed_only_for_the_worker_that_holds_it(
        self, runtime: Runtime, tmp_path: Path
    ) -> None:
        run_id = start(runtime, make_repository(tmp_path, ONE_STEP))
        claim(runtime, run_id, "mine")
        with runtime.db.session() as session:
            assert queue.renew_leases(session, "mine", [run_id], runtime.settings) == {run_id}
            assert queue.renew_leases(session, "theirs", [run_id], runtime.settings) == set()

    def test_a_run_whose_worker_died_is_requeued_once_keeping_its_finished_steps(
        self, runtime: Runtime, tmp_path: Path
    ) -> None:
        marks = tmp_path / "marks"
        repository = make_repository(
            tmp_path,
            pipeline_file(
                f"      - name: first\n        run: echo first; echo x >> {marks}-first\n"
                f"      - name: second\n        timeout: 60s\n        run: >-\n"
                f"          echo x >> {marks}-second;\n"
                f"          test $(wc -l < {marks}-second) -ge 2 || sleep 1000\n"
            ),
        )
        run_id = start(runtime, repository)
        claim(runtime, run_id, "worker-that-dies")
        control = RunControl()
        thread = threading.Thread(
            target=execute_run,
            args=(runtime, run_id),
            kwargs={"worker": "worker-that-dies", "control": control},
        )
        thread.start()
        wait_for((tmp_path / "marks-second").exists)  # the step is under way
        control.lost.set()  # the worker goes silent: it writes nothing more
        thread.join(20)
        expire_lease(runtime, run_id)

        recovered = jobs.recover_expired_runs(runtime)

        assert recovered.requeued == [run_id] and recovered.failed == []
        run = run_row(runtime, run_id)
        assert (run.status, run.attempt, run.claimed_by) == ("queued", 2, None)
        steps = steps_of(runtime, run_id)
        assert steps["build.first"].status == "succeeded"
        assert steps["build.second"].status == "pending"
        assert "worker worker-that-dies stopped answering at" in log_of(
            runtime, run_id, "build.second"
        )

        assert run_now(runtime, run_id) == "succeeded"

        assert (tmp_path / "marks-first").read_text() == "x\n"  # not run again
        assert (tmp_path / "marks-second").read_text() == "x\nx\n"
        assert log_of(runtime, run_id, "build.first") == "first\n"

    def test_a_run_whose_worker_dies_twice_is_failed_with_the_reason(
        self, runtime: Runtime, tmp_path: Path
    ) -> None:
        run_id = start(runtime, make_repository(tmp_path, ONE_STEP))
        for attempt in (1, 2):
            claim(runtime, run_id, f"gone-{attempt}")
            expire_lease(runtime, run_id)
            jobs.recover_expired_runs(runtime)

        run = run_row(runtime, run_id)
        assert run.status == "failed" and run.finished_at is not None
        assert run.error is not None
        assert run.error.startswith("worker gone-2 stopped answering at ")
        assert "on attempt 2 of 2" in run.error
        assert steps_of(runtime, run_id)["build.a"].status == "cancelled"

    def test_a_live_lease_is_left_alone(self, runtime: Runtime, tmp_path: Path) -> None:
        run_id = start(runtime, make_repository(tmp_path, ONE_STEP))
        claim(runtime, run_id)

        assert jobs.recover_expired_runs(runtime) == queue.Recovered([], [])
        assert run_row(runtime, run_id).status == "running"

    def test_a_released_run_goes_back_to_the_queue(self, runtime: Runtime, tmp_path: Path) -> None:
        run_id = start(runtime, make_repository(tmp_path, ONE_STEP))
        claim(runtime, run_id, "leaving")
        with runtime.db.session() as session:
            assert queue.release(session, run_id, "leaving")

        assert run_row(runtime, run_id).status == "queued"
        assert claim_any(runtime) == run_id
