"""What a run keeps: test results and coverage read from the files its steps leave, those files
and declared artifacts in the store; a rejected run; which commit a run builds."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from pavedroad.audit.models import AuditEvent
from pavedroad.core.errors import NotFoundError
from pavedroad.pipelines import artifacts, queue
from pavedroad.pipelines.models import PipelineArtifact, PipelineStep
from pavedroad.runtime import Runtime
from tests.conftest import git
from tests.pipelines.engine_support import (
    commit_files,
    log_of,
    make_repository,
    pipeline_file,
    run_now,
    run_row,
    start,
    steps_of,
)
from tests.pipelines.test_reports import COBERTURA, PYTEST

MAKEFILE = (
    "test:\n\tmkdir -p reports\n\tcp fixtures/junit.xml reports/junit.xml\n"
    "\tcp fixtures/coverage.xml reports/coverage.xml\n\texit 1\n"
    "build:\n\tmkdir -p dist\n\techo wheel > dist/app-1.0.whl\n"
)


class TestReports:
    def test_the_tests_step_keeps_its_results_coverage_and_files(
        self, runtime: Runtime, tmp_path: Path
    ) -> None:
        repository = make_repository(
            tmp_path,
            {
                **pipeline_file("      - uses: tests\n", stage="test"),
                "Makefile": MAKEFILE,
                "fixtures/junit.xml": PYTEST,
                "fixtures/coverage.xml": COBERTURA,
            },
        )
        run_id = start(runtime, repository)

        assert run_now(runtime, run_id) == "failed"

        step = steps_of(runtime, run_id)["test.tests"]
        tests = step.details["tests"]
        assert (tests["passed"], tests["failed"], tests["errors"], tests["skipped"]) == (2, 1, 1, 1)
        assert tests["failures"][0]["name"] == "test_total"
        assert step.details["coverage"]["line_rate"] == 0.87
        assert step.summary == (
            "exit code 2; 2 passed, 1 failed, 1 errors, 1 skipped; 87.0% lines covered"
        )
        with runtime.db.read_session() as session:
            stored = session.scalars(
                select(PipelineArtifact).where(PipelineArtifact.step_id == step.id)
            ).all()
        assert sorted((a.kind, a.path) for a in stored) == [
            ("coverage", "reports/coverage.xml"),
            ("junit", "reports/junit.xml"),
        ]
        for artifact in stored:
            kept = runtime.settings.resolved_artifacts_dir / artifact.stored
            assert kept.read_text() and artifact.stored.startswith(f"{run_id}/test.tests/")

    def test_a_broken_report_is_a_note_not_zero_tests(
        self, runtime: Runtime, tmp_path: Path
    ) -> None:
        repository = make_repository(
            tmp_path,
            {
                **pipeline_file(
                    "      - name: unit\n"
                    "        run: mkdir -p out && echo '<testsuites><testcase' > out/j.xml\n"
                    "        reports: {junit: out/j.xml}\n"
                ),
            },
        )
        run_id = start(runtime, repository)

        assert run_now(runtime, run_id) == "succeeded"

        step = steps_of(runtime, run_id)["build.unit"]
        assert "tests" not in step.details
        log = log_of(runtime, run_id, "build.unit")
        assert re.search(
            r"junit report out/j.xml was not read: j.xml:\d+:\d+: not well-formed", log
        )

    def test_a_missing_report_is_a_note(self, runtime: Runtime, tmp_path: Path) -> None:
        repository = make_repository(
            tmp_path,
            pipeline_file(
                "      - name: unit\n        run: 'true'\n        reports: {junit: out/*.xml}\n"
            ),
        )
        run_id = start(runtime, repository)

        assert run_now(runtime, run_id) == "succeeded"

        assert "no junit report found at out/*.xml" in log_of(runtime, run_id, "build.unit")

    def test_the_build_step_keeps_its_artifacts(self, runtime: Runtime, tmp_path: Path) -> None:
        repository = make_repository(
            tmp_path,
            {
                **pipeline_file(
                    "      - uses: build\n        with: {artifacts: ['dist/*.whl', '../x']}\n"
                ),
                "Makefile": MAKEFILE,
            },
        )
        run_id = start(runtime, repository)

        assert run_now(runtime, run_id) == "succeeded"

        step = steps_of(runtime, run_id)["build.build"]
        with runtime.db.read_session() as session:
            paths = session.scalars(
                select(PipelineArtifact.path).where(PipelineArtifact.step_id == step.id)
            ).all()
        assert paths == ["dist/app-1.0.whl"]  # nothing outside the workspace


class TestRejectedRun:
    def test_a_malformed_pipeline_file_gives_a_rejected_run_that_executes_nothing(
        self, runtime: Runtime, tmp_path: Path
    ) -> None:
        repository = make_repository(
            tmp_path,
            {".pavedroad/pipeline.yaml": "stages:\n  - name: build\n    steps:\n      - run: [\n"},
        )
        run_id = start(runtime, repository)

        run = run_row(runtime, run_id)
        assert run.status == "rejected"
        assert run.problems and run.problems[0]["line"] is not None
        assert "is not valid" in (run.error or "")
        with runtime.db.session() as session:
            assert session.scalar(select(func.count()).select_from(PipelineStep)) == 0
            assert queue.claim_next(session, "w", runtime.settings) is None
            audited = session.scalars(
                select(AuditEvent.event).where(AuditEvent.target == f"pipeline-run:{run_id}")
            ).all()
        assert list(audited) == ["pipeline.run.rejected"]


class TestWhatARunBuilds:
    def test_a_repository_without_a_file_runs_the_golden_pipeline(
        self, runtime: Runtime, tmp_path: Path
    ) -> None:
        repository = make_repository(tmp_path, {"README.md": "hello\n"})
        run_id = start(runtime, repository)

        assert list(steps_of(runtime, run_id))[:2] == ["test.tests", "security.sbom"]

    def test_a_branch_and_a_commit_are_resolved(self, runtime: Runtime, tmp_path: Path) -> None:
        repository = make_repository(
            tmp_path, pipeline_file("      - {name: a, run: cat VERSION}\n")
        )
        work = tmp_path / "work" / "service"
        first = git("rev-parse", "HEAD", cwd=work).strip()
        git("checkout", "--quiet", "-b", "feature", cwd=work)
        second = commit_files(work, {"VERSION": "2\n"}, "two")
        git("push", "--quiet", "origin", "feature", cwd=work)

        on_feature = run_row(runtime, start(runtime, repository, branch="feature"))
        at_first = run_row(runtime, start(runtime, repository, commit=first[:10]))

        assert (on_feature.branch, on_feature.commit) == ("feature", second)
        assert (at_first.branch, at_first.commit) == ("main", first)
        assert at_first.number == 2
        assert run_now(runtime, on_feature.id) == "succeeded"
        assert log_of(runtime, on_feature.id, "build.a") == "2\n"

    def test_a_commit_that_cannot_be_checked_out_fails_the_run_saying_so(
        self, runtime: Runtime, tmp_path: Path
    ) -> None:
        repository = make_repository(tmp_path, pipeline_file("      - {name: a, run: 'true'}\n"))
        run_id = start(runtime, repository)
        shutil.rmtree(tmp_path / "remotes")  # the repository is gone, and so is its mirror
        shutil.rmtree(runtime.settings.data_dir / "pipelines" / "mirrors")

        assert run_now(runtime, run_id) == "failed"

        run = run_row(runtime, run_id)
        assert (run.error or "").startswith("could not check out the commit: cannot fetch file://")
        assert steps_of(runtime, run_id)["build.a"].status == "cancelled"

    def test_an_unknown_branch_says_which_exist(self, runtime: Runtime, tmp_path: Path) -> None:
        repository = make_repository(tmp_path, pipeline_file("      - {name: a, run: 'true'}\n"))

        with pytest.raises(NotFoundError, match=r"has no branch 'nope' \(branches: main\)"):
            start(runtime, repository, branch="nope")


class TestRetention:
    def test_artifacts_past_their_retention_are_removed_files_and_rows(
        self, runtime: Runtime, tmp_path: Path
    ) -> None:
        repository = make_repository(
            tmp_path,
            {
                **pipeline_file("      - uses: build\n        with: {artifacts: ['dist/*']}\n"),
                "Makefile": MAKEFILE,
            },
        )
        run_id = start(runtime, repository)
        assert run_now(runtime, run_id) == "succeeded"
        kept = runtime.settings.resolved_artifacts_dir / run_id / "build.build" / "dist"
        assert (kept / "app-1.0.whl").is_file()
        later = datetime.now(UTC) + timedelta(
            days=runtime.settings.pipelines.artifact_retention_days
        )

        with runtime.db.session() as session:
            assert (
                artifacts.prune_expired(session, runtime.settings, now=later - timedelta(hours=1))
                == 0
            )
            assert (
                artifacts.prune_expired(session, runtime.settings, now=later + timedelta(hours=1))
                == 1
            )

        assert not (runtime.settings.resolved_artifacts_dir / run_id).exists()
        with runtime.db.read_session() as session:
            assert session.scalar(select(func.count()).select_from(PipelineArtifact)) == 0
