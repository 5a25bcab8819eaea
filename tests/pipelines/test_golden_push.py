"""The issue's "done when": a commit pushed to a service generated from the golden Python
template runs its golden pipeline with no further setup, its tests step runs the repository's
own tests, and their JUnit results and coverage are kept with the run."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from pavedroad import demo
from pavedroad.core.actors import Actor
from pavedroad.pipelines import service
from pavedroad.pipelines.models import PipelineArtifact, PipelineStep
from pavedroad.pipelines.polling import poll_watched_repositories
from pavedroad.runtime import Runtime
from pavedroad.scaffolder.engine import apply_defaults, run_template, template_from_directory
from pavedroad.scaffolder.hooks import TemplateUser
from tests.conftest import TESTER, git
from tests.pipelines.engine_support import log_of, run_now, run_row, steps_of
from tests.scaffolder.test_golden_paths import FORMS, GOLDEN

NAME = "python-service"


@pytest.mark.slow
def test_a_push_to_a_generated_service_runs_its_golden_pipeline_with_its_own_tests(
    runtime: Runtime, database_kind: str, tmp_path: Path
) -> None:
    if database_kind != "sqlite":
        # Polling and runs are covered on both databases by the other tests; this one adds the
        # generated project's own test run, which takes a while and is the same on either.
        pytest.skip("the generated service's own run is database independent: SQLite only")
    with runtime.db.session() as session:
        demo.load(session, runtime.catalog)
    form = FORMS[NAME]
    repository = runtime.settings.resolved_repositories_root / f"{form['name']}.git"
    source = template_from_directory(GOLDEN / NAME)
    values = apply_defaults(source.entity, {**form, "repoUrl": repository.as_uri()})
    generated = run_template(
        runtime,
        source,
        values,
        workspace=tmp_path / "workspace",
        user=TemplateUser(TESTER),
        actor=Actor(ref=TESTER),
    )
    assert generated.status == "completed", generated.error
    ref = f"component:default/{form['name']}"

    # The server polls all the time: it sees the new repository once and runs it...
    (first_look,) = [r for r in poll_watched_repositories(runtime) if r.url == repository.as_uri()]
    assert len(first_look.started) == 1
    service.cancel_run(runtime, first_look.started[0], actor=Actor(ref=TESTER))

    # ...and a developer's push starts the next run.
    clone = tmp_path / "clone"
    git("clone", "--quiet", repository.as_uri(), str(clone), cwd=tmp_path)
    readme = clone / "README.md"
    readme.write_text(readme.read_text() + "\nA line from the first push.\n")
    git("commit", "--quiet", "-am", "Say more in the README", cwd=clone)
    git("push", "--quiet", "origin", "HEAD", cwd=clone)
    pushed = git("rev-parse", "HEAD", cwd=clone).strip()

    (polled,) = [r for r in poll_watched_repositories(runtime) if r.url == repository.as_uri()]

    (run_id,) = polled.started
    run = run_row(runtime, run_id)
    assert (run.component_ref, run.trigger, run.commit) == (ref, "poll", pushed)
    assert run.changed_paths == ["README.md"]
    assert run.definition is not None and run.definition["extends"] == "golden"
    stages = [stage["name"] for stage in run.definition["stages"]]
    assert stages[:4] == ["test", "security", "gate", "build"]

    run_now(runtime, run_id)

    steps = steps_of(runtime, run_id)
    tests = steps["test.tests"]
    assert tests.status == "succeeded", log_of(runtime, run_id, "test.tests")[-4000:]
    results = tests.details["tests"]
    assert results["total"] > 0 and results["passed"] > 0
    assert results["failed"] == results["errors"] == 0
    assert 0 < tests.details["coverage"]["line_rate"] <= 1
    with runtime.db.read_session() as session:
        kinds = set(
            session.scalars(
                select(PipelineArtifact.kind)
                .join(PipelineStep, PipelineStep.id == PipelineArtifact.step_id)
                .where(PipelineStep.run_id == run_id)
            )
        )
    assert {"junit", "coverage", "cyclonedx", "sarif"} <= kinds
    for scan in ("sbom", "sast", "secrets-scan", "vuln-scan"):
        assert steps[f"security.{scan}"].status == "succeeded", log_of(
            runtime, run_id, f"security.{scan}"
        )[-2000:]
    assert steps["security.sbom"].details, "the SBOM step says what it stored"
    gate = steps["gate.security-gate"]
    assert gate.status == "succeeded", gate.summary
    assert gate.summary.startswith("the security policy is met")
