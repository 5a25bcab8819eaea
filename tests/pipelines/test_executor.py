"""The local executor and what surrounds a step: output cap, timeouts that kill children,
secrets from the worker's environment masked in every line, cancellation."""

from __future__ import annotations

import os
import re
import threading
import time
from pathlib import Path

import pytest

from pavedroad.pipelines.executor import LocalExecutor
from pavedroad.pipelines.hooks import Executor
from pavedroad.pipelines.service import cancel_run
from pavedroad.runtime import Runtime
from tests.pipelines.engine_support import (
    ACTOR,
    log_of,
    make_repository,
    pipeline_file,
    run_now,
    run_row,
    start,
    steps_of,
    wait_for,
)


def test_the_local_executor_is_an_executor() -> None:
    assert isinstance(LocalExecutor(), Executor)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "State:\tZ" not in status.read_text()


class TestOutputCap:
    def test_the_cut_log_keeps_the_first_bytes_and_says_where_it_was_cut(
        self, runtime: Runtime, tmp_path: Path
    ) -> None:
        runtime.settings.pipelines.step_output_cap_bytes = 10_000
        repository = make_repository(
            tmp_path,
            pipeline_file(
                "      - name: flood\n"
                "        run: >-\n"
                "          awk 'BEGIN { for (i = 0; i < 200000; i++)\n"
                '          print "all work and no play" }\';\n'
                "          echo the end\n"
            ),
        )
        run_id = start(runtime, repository)

        assert run_now(runtime, run_id) == "succeeded"  # the step ran to its end

        log = log_of(runtime, run_id, "build.flood")
        assert log.startswith("all work and no play\n")
        assert "output cut at" in log and "the cap is 10000 bytes" in log
        assert "the end" not in log
        assert len(log.encode()) < 11_000
        assert re.search(r"--- \d+ bytes of output were not kept ---", log)
        assert steps_of(runtime, run_id)["build.flood"].log_bytes < 11_000


class TestTimeout:
    def test_a_hanging_step_is_killed_at_its_timeout_with_its_children(
        self, runtime: Runtime, tmp_path: Path
    ) -> None:
        repository = make_repository(
            tmp_path,
            pipeline_file(
                "      - name: hang\n        timeout: 2s\n"
                "        run: sleep 1000 & echo child $!; sleep 1000\n"
            ),
        )
        run_id = start(runtime, repository)
        started = time.monotonic()

        assert run_now(runtime, run_id) == "failed"

        assert time.monotonic() - started < 15
        step = steps_of(runtime, run_id)["build.hang"]
        assert step.status == "failed"
        assert step.summary == "timed out after 2 s"
        log = log_of(runtime, run_id, "build.hang")
        assert "killed: the step ran longer than its timeout of 2 s" in log
        child = int(re.search(r"child (\d+)", log).group(1))  # type: ignore[union-attr]
        assert not _alive(child)
        assert run_row(runtime, run_id).error == "step build.hang failed: timed out after 2 s"

    def test_a_step_that_ignores_sigterm_is_killed(self, runtime: Runtime, tmp_path: Path) -> None:
        repository = make_repository(
            tmp_path,
            pipeline_file(
                "      - name: stubborn\n        timeout: 1s\n"
                "        run: trap '' TERM; sleep 1000 & echo child $!; wait\n"
            ),
        )
        run_id = start(runtime, repository)

        assert run_now(runtime, run_id) == "failed"

        child = int(re.search(r"child (\d+)", log_of(runtime, run_id, "build.stubborn")).group(1))  # type: ignore[union-attr]
        assert not _alive(child)

    def test_a_process_left_behind_by_a_finished_step_is_stopped(
        self, runtime: Runtime, tmp_path: Path
    ) -> None:
        repository = make_repository(
            tmp_path,
            pipeline_file("      - name: leaves\n        run: sleep 1000 & echo child $!\n"),
        )
        run_id = start(runtime, repository)

        assert run_now(runtime, run_id) == "succeeded"

        child = int(re.search(r"child (\d+)", log_of(runtime, run_id, "build.leaves")).group(1))  # type: ignore[union-attr]
        assert not _alive(child)


class TestSecrets:
    def test_a_secret_is_masked_in_every_log_line(
        self, runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("PAVEDROAD_SECRET_PYPI_TOKEN", "pypi-s3cr3t-value")
        repository = make_repository(
            tmp_path,
            pipeline_file(
                "      - name: publish\n        secrets: {TOKEN: pypi-token}\n"
                "        run: |\n"
                "          echo token=$TOKEN\n"
                '          echo "again $TOKEN and $TOKEN" >&2\n'
                "          printf '%s' \"$TOKEN\" | base64 >/dev/null\n"
                '          test "$TOKEN" = pypi-s3cr3t-value\n'
            ),
        )
        run_id = start(runtime, repository)

        assert run_now(runtime, run_id) == "succeeded"

        log = log_of(runtime, run_id, "build.publish")
        assert "pypi-s3cr3t-value" not in log
        assert "token=***" in log and "again *** and ***" in log
        assert "secrets come from the environment of the worker" in log

    def test_an_unresolved_secret_fails_the_step_and_says_how_to_provide_it(
        self, runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.delenv("PAVEDROAD_SECRET_DEPLOY_KEY", raising=False)
        repository = make_repository(
            tmp_path,
            pipeline_file(
                "      - name: deploy\n        secrets: {KEY: deploy-key}\n        run: echo ran\n"
            ),
        )
        run_id = start(runtime, repository)

        assert run_now(runtime, run_id) == "failed"

        step = steps_of(runtime, run_id)["build.deploy"]
        assert "the secret 'deploy-key' (for KEY) is not known" in step.summary
        assert "set PAVEDROAD_SECRET_DEPLOY_KEY" in step.summary
        assert "ran" not in log_of(runtime, run_id, "build.deploy")


class TestCancellation:
    def test_a_running_run_is_cancelled_and_its_step_killed(
        self, runtime: Runtime, tmp_path: Path
    ) -> None:
        repository = make_repository(
            tmp_path,
            pipeline_file(
                "      - name: long\n        run: echo started; sleep 1000\n"
                "      - name: next\n        run: echo never\n"
            ),
        )
        run_id = start(runtime, repository)
        outcome: list[str] = []
        thread = threading.Thread(target=lambda: outcome.append(run_now(runtime, run_id)))
        thread.start()
        wait_for(lambda: "started" in log_of(runtime, run_id, "build.long"))

        cancel_run(runtime, run_id, actor=ACTOR)
        thread.join(20)

        assert outcome == ["cancelled"]
        steps = steps_of(runtime, run_id)
        assert steps["build.long"].status == "cancelled"
        assert steps["build.next"].status == "cancelled"
        assert "killed: the run was cancelled" in log_of(runtime, run_id, "build.long")
        run = run_row(runtime, run_id)
        assert (run.status, run.error) == (
            "cancelled",
            "cancelled by user:default/tester while it ran",
        )

    def test_a_queued_run_is_cancelled_at_once_and_never_runs(
        self, runtime: Runtime, tmp_path: Path
    ) -> None:
        repository = make_repository(tmp_path, pipeline_file("      - {name: a, run: echo a}\n"))
        run_id = start(runtime, repository)

        cancelled = cancel_run(runtime, run_id, actor=ACTOR)

        assert cancelled.status == "cancelled"
        assert "cancelled by user:default/tester before it started" in (cancelled.error or "")
        assert steps_of(runtime, run_id)["build.a"].status == "cancelled"
        from pavedroad.pipelines import queue

        with runtime.db.session() as session:
            assert queue.claim_next(session, "w", runtime.settings) is None


class TestBinaryOutput:
    def test_binary_output_with_nul_bytes_is_kept_readable(
        self, runtime: Runtime, tmp_path: Path
    ) -> None:
        repository = make_repository(
            tmp_path,
            pipeline_file(
                "      - name: binary\n        run: printf 'a\\000b\\n\\377\\376 end\\n'\n"
            ),
        )
        run_id = start(runtime, repository)

        assert run_now(runtime, run_id) == "succeeded"

        assert log_of(runtime, run_id, "build.binary") == "a\ufffdb\n\ufffd\ufffd end\n"
