"""Carrying out a run: steps in DAG order, conditions, retries, results and logs kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from pavedroad.pipelines.service import step_types_of
from pavedroad.pipelines.steptypes import PlaceholderStep
from pavedroad.runtime import Runtime
from tests.pipelines.engine_support import (
    log_of,
    make_repository,
    pipeline_file,
    run_now,
    run_row,
    start,
    steps_of,
)

# Each step waits (up to 5 s) for the other one to have started: only parallel steps pass.
WAIT_FOR_EACH_OTHER = (
    "touch $HOME/../{me}; for i in $(seq 50); do test -f $HOME/../{other} && exit 0; "
    "sleep 0.1; done; exit 1"
)


class TestExecuteRun:
    def test_steps_run_in_order_and_their_logs_and_results_are_kept(
        self, runtime: Runtime, tmp_path: Path
    ) -> None:
        repository = make_repository(
            tmp_path,
            pipeline_file(
                "      - name: hello\n        run: echo hello from $PAVEDROAD_BRANCH\n"
                '      - name: files\n        run: ls .pavedroad && test "$CI" = true\n'
            ),
        )
        run_id = start(runtime, repository)
        assert run_row(runtime, run_id).status == "queued"

        assert run_now(runtime, run_id) == "succeeded"

        steps = steps_of(runtime, run_id)
        assert [s.status for s in steps.values()] == ["succeeded", "succeeded"]
        assert log_of(runtime, run_id, "build.hello") == "hello from main\n"
        assert "pipeline.yaml" in log_of(runtime, run_id, "build.files")
        run = run_row(runtime, run_id)
        assert run.finished_at is not None and run.error is None
        assert all(s.started_at and s.finished_at for s in steps.values())

    def test_a_failed_step_fails_the_run_names_it_and_skips_what_needs_it(
        self, runtime: Runtime, tmp_path: Path
    ) -> None:
        repository = make_repository(
            tmp_path,
            pipeline_file(
                "      - name: broken\n        run: echo about to fail; exit 3\n"
                "      - name: after\n        run: echo never\n"
                "      - name: report\n        run: echo reporting\n"
                "        if: failure()\n"
            ),
        )
        run_id = start(runtime, repository)

        assert run_now(runtime, run_id) == "failed"

        steps = steps_of(runtime, run_id)
        assert steps["build.broken"].status == "failed"
        assert steps["build.broken"].exit_code == 3
        assert steps["build.after"].status == "skipped"
        assert "build.broken did not succeed" in steps["build.after"].summary
        assert run_row(runtime, run_id).error == "step build.broken failed: exit code 3"
        assert "about to fail" in log_of(runtime, run_id, "build.broken")

    def test_parallel_steps_run_at_the_same_time(self, runtime: Runtime, tmp_path: Path) -> None:
        repository = make_repository(
            tmp_path,
            {
                ".pavedroad/pipeline.yaml": (
                    "stages:\n  - name: checks\n    parallel: true\n    steps:\n"
                    f"      - {{name: a, run: '{WAIT_FOR_EACH_OTHER.format(me='a', other='b')}'}}\n"
                    f"      - {{name: b, run: '{WAIT_FOR_EACH_OTHER.format(me='b', other='a')}'}}\n"
                )
            },
        )
        run_id = start(runtime, repository)

        assert run_now(runtime, run_id) == "succeeded"

    def test_a_step_is_retried_until_it_succeeds(self, runtime: Runtime, tmp_path: Path) -> None:
        repository = make_repository(
            tmp_path,
            pipeline_file(
                "      - name: flaky\n        retries: 2\n"
                "        run: n=$(cat $HOME/n 2>/dev/null || echo 0); echo $((n+1)) > $HOME/n; "
                "echo try $((n+1)); test $n -ge 1\n"
            ),
        )
        run_id = start(runtime, repository)

        assert run_now(runtime, run_id) == "succeeded"

        log = log_of(runtime, run_id, "build.flaky")
        assert "try 1" in log and "try 2" in log and "--- try 2 of 3" in log
        assert steps_of(runtime, run_id)["build.flaky"].attempt == 2

    def test_a_false_condition_skips_the_step_with_its_reason(
        self, runtime: Runtime, tmp_path: Path
    ) -> None:
        repository = make_repository(
            tmp_path,
            pipeline_file(
                "      - name: release\n        run: echo releasing\n"
                "        if: branch == 'release'\n"
            ),
        )
        run_id = start(runtime, repository)

        assert run_now(runtime, run_id) == "succeeded"

        step = steps_of(runtime, run_id)["build.release"]
        assert step.status == "skipped"
        assert "condition is false" in step.summary

    def test_the_environment_holds_nothing_of_the_worker(
        self, runtime: Runtime, tmp_path: Path, monkeypatch: object
    ) -> None:
        monkeypatch.setenv("WORKER_ONLY_VARIABLE", "leaked")  # type: ignore[attr-defined]
        repository = make_repository(
            tmp_path,
            {
                ".pavedroad/pipeline.yaml": (
                    "env: {GREETING: hi}\nstages:\n  - name: build\n    steps:\n"
                    "      - name: env\n        run: env | sort\n        env: {STEP_ONLY: yes}\n"
                )
            },
        )
        run_id = start(runtime, repository)

        assert run_now(runtime, run_id) == "succeeded"

        names = {line.split("=", 1)[0] for line in log_of(runtime, run_id, "build.env").split()}
        assert "WORKER_ONLY_VARIABLE" not in names
        assert {"PATH", "HOME", "LANG", "CI", "GREETING", "STEP_ONLY"} <= names
        assert {"PAVEDROAD_RUN_ID", "PAVEDROAD_COMMIT", "PAVEDROAD_BRANCH"} <= names

    def test_a_placeholder_step_says_it_did_nothing(self, runtime: Runtime, tmp_path: Path) -> None:
        placeholders = [
            name
            for name, step_type in step_types_of(runtime).items()
            if isinstance(step_type, PlaceholderStep)
        ]
        if not placeholders:
            pytest.skip("every capability is installed: no placeholder step type is left")
        name = placeholders[0]
        repository = make_repository(tmp_path, pipeline_file(f"      - uses: {name}\n"))
        run_id = start(runtime, repository)

        assert run_now(runtime, run_id) == "succeeded"

        step = steps_of(runtime, run_id)[f"build.{name}"]
        assert step.status == "skipped"
        assert step.summary.startswith(f"{name} is not available yet: the ")
        assert step.summary.endswith(" capability provides it")


def test_a_run_the_engine_cannot_read_is_failed_saying_why(
    runtime: Runtime, tmp_path: Path
) -> None:
    from sqlalchemy import update

    from pavedroad.pipelines.models import PipelineRun

    repository = make_repository(tmp_path, pipeline_file("      - {name: a, run: 'true'}\n"))
    run_id = start(runtime, repository)
    with runtime.db.session() as session:  # a definition stored by some older, broken version
        session.execute(
            update(PipelineRun).where(PipelineRun.id == run_id).values(definition={"stages": [{}]})
        )

    assert run_now(runtime, run_id) == "failed"

    run = run_row(runtime, run_id)
    assert (run.error or "").startswith("the run stopped on an internal error: KeyError")
    assert steps_of(runtime, run_id)["build.a"].status == "cancelled"
