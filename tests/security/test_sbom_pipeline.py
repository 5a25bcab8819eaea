"""A pipeline with ``uses: sbom`` and ``uses: vuln-scan``, run by the engine end to end: the SBOM
kept as the run's CycloneDX artifact and stored for the commit, a vulnerable pin blocking with
its fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from pavedroad.pipelines.models import PipelineArtifact
from pavedroad.runtime import Runtime
from pavedroad.security.advisories import import_advisories
from pavedroad.security.sbom.models import Sbom
from tests.conftest import SHARED
from tests.pipelines.engine_support import (
    ACTOR,
    make_repository,
    pipeline_file,
    run_now,
    run_row,
    start,
    steps_of,
)

STEPS = "      - uses: sbom\n      - uses: vuln-scan\n"


@pytest.fixture
def django_advisories(runtime: Runtime) -> None:
    with runtime.db.session() as session:
        import_advisories(session, SHARED / "advisories/pypa/vulns/django", actor=ACTOR)


@pytest.mark.usefixtures("django_advisories")
def test_a_vulnerable_pin_blocks_the_run_and_the_sbom_is_kept(
    runtime: Runtime, tmp_path: Path
) -> None:
    repository = make_repository(
        tmp_path,
        {**pipeline_file(STEPS, stage="security"), "requirements.txt": "django==2.2.0\n"},
    )
    run_id = start(runtime, repository, component_ref="component:default/service")

    assert run_now(runtime, run_id) == "failed"

    steps = steps_of(runtime, run_id)
    sbom_step, scan_step = steps["security.sbom"], steps["security.vuln-scan"]
    assert sbom_step.status == "succeeded", sbom_step.summary
    assert sbom_step.summary.startswith("1 packages from 1 lockfile(s)")
    assert scan_step.status == "failed"
    assert "django 2.2.0: PYSEC-" in scan_step.summary
    # one line per package: the upgrade that fixes all of its blocking findings
    assert scan_step.summary.endswith("— upgrade django 2.2.0 → 2.2.28")
    assert scan_step.details["counts"]["high"] > 0
    with runtime.db.read_session() as session:
        sbom = session.scalars(select(Sbom).where(Sbom.run_id == run_id)).one()
        assert sbom.commit == run_row(runtime, run_id).commit
        assert sbom.component_ref == "component:default/service"
        kinds = session.scalars(
            select(PipelineArtifact.kind).where(PipelineArtifact.step_id == sbom_step.id)
        ).all()
        assert "cyclonedx" in kinds


@pytest.mark.usefixtures("django_advisories")
def test_a_broken_lockfile_fails_the_sbom_step_with_its_line(
    runtime: Runtime, tmp_path: Path
) -> None:
    repository = make_repository(
        tmp_path,
        {**pipeline_file(STEPS, stage="security"), "poetry.lock": "[[package]]\nname = \n"},
    )
    run_id = start(runtime, repository)

    assert run_now(runtime, run_id) == "failed"

    step = steps_of(runtime, run_id)["security.sbom"]
    assert step.status == "failed"
    assert step.summary.startswith("no SBOM: poetry.lock:2: not valid TOML")


@pytest.mark.usefixtures("django_advisories")
def test_side_by_side_as_in_the_golden_pipeline_both_steps_report(
    runtime: Runtime, tmp_path: Path
) -> None:
    pipeline = (
        "stages:\n  - name: security\n    parallel: true\n    steps:\n"
        "      - uses: sbom\n      - uses: vuln-scan\n        with: {fail-on: none}\n"
    )
    repository = make_repository(
        tmp_path,
        {".pavedroad/pipeline.yaml": pipeline, "requirements.txt": "django==2.2.0\n"},
    )
    run_id = start(runtime, repository)

    assert run_now(runtime, run_id) == "succeeded"

    steps = steps_of(runtime, run_id)
    assert steps["security.sbom"].status == "succeeded"
    scan = steps["security.vuln-scan"]
    assert scan.status == "succeeded" and scan.details["findings"]
    assert "none blocking at none" in scan.summary
