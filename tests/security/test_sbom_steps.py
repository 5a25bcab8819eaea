"""The ``sbom`` and ``vuln-scan`` step types, run on real workspaces with a real runtime and
the PyPA advisories: an SBOM stored per run, findings that block with their fix, and a lockfile
or SBOM that is broken failing the step instead of passing as "nothing found"."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from pavedroad.core.actors import Actor
from pavedroad.pipelines.hooks import StepContext, StepOutcome
from pavedroad.pipelines.schemas import Step
from pavedroad.pipelines.service import step_types_of
from pavedroad.runtime import Runtime
from pavedroad.security.advisories import import_advisories
from pavedroad.security.models import SecurityScan
from pavedroad.security.sbom import latest_sbom, schema_errors
from pavedroad.security.sbom.models import Sbom
from pavedroad.security.sbom.steps import SbomStep, VulnScanStep
from tests.conftest import SHARED

PYPA = SHARED / "advisories" / "pypa" / "vulns"
LEDGER = "component:default/ledger"


@pytest.fixture
def advisories(runtime: Runtime) -> None:
    with runtime.db.session() as session:
        for package in ("django", "jinja2", "requests"):
            import_advisories(session, PYPA / package, actor=Actor("user:default/tester"))


def context(
    runtime: Runtime, workspace: Path, uses: str, *, run_id: str = "", **with_: object
) -> StepContext:
    lines: list[str] = []
    return StepContext(
        run_id=run_id or str(uuid.uuid4()),
        step=Step(id=f"security.{uses}", stage="security", name=uses, uses=uses, with_=dict(with_)),
        workspace=workspace,
        env={},
        repository="https://git.example.com/payments/ledger.git",
        commit="0123456789abcdef0123456789abcdef01234567",
        branch="main",
        component_ref=LEDGER,
        log=lines.append,
        runtime=runtime,
    )


def workspace_with(tmp_path: Path, **files: str) -> Path:
    workspace = tmp_path / "workspace"
    workspace.mkdir(exist_ok=True)
    for name, text in files.items():
        path = workspace / name.replace("__", "/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return workspace


def run(step: SbomStep | VulnScanStep, ctx: StepContext) -> StepOutcome:
    return step.execute(ctx)


def test_the_step_types_replace_the_placeholders(runtime: Runtime) -> None:
    types = step_types_of(runtime)

    assert isinstance(types["sbom"], SbomStep)
    assert isinstance(types["vuln-scan"], VulnScanStep)
    assert SbomStep().reports(Step(id="s.sbom", stage="s", name="sbom")).cyclonedx == (
        "sbom.cdx.json",
    )


class TestSbomStep:
    def test_writes_the_report_and_stores_the_sbom_for_the_component_and_commit(
        self, runtime: Runtime, tmp_path: Path
    ) -> None:
        workspace = workspace_with(tmp_path, **{"requirements.txt": "django==2.2.0\nrequests>=2\n"})
        ctx = context(runtime, workspace, "sbom")

        outcome = run(SbomStep(), ctx)

        assert outcome.succeeded, outcome.summary
        assert outcome.summary == "1 packages from 1 lockfile(s), 1 unpinned; CycloneDX 1.6, valid"
        document = json.loads((workspace / "sbom.cdx.json").read_text())
        assert schema_errors(document) == []
        with runtime.db.read_session() as session:
            stored = latest_sbom(session, LEDGER)
            assert stored is not None
            assert (stored.id, stored.run_id, stored.commit) == (
                outcome.details["sbom_id"],
                ctx.run_id,
                ctx.commit,
            )
            assert stored.document["metadata"]["component"]["version"] == ctx.commit
        assert outcome.details["unpinned"] == [
            "requirements.txt:2: requests>=2 — no exact version (== or ===)"
        ]

    def test_a_lockfile_that_does_not_parse_fails_the_step_and_stores_nothing(
        self, runtime: Runtime, tmp_path: Path
    ) -> None:
        workspace = workspace_with(
            tmp_path,
            **{"requirements.txt": "django==2.2.0\n", "web__package-lock.json": '{"packages": '},
        )

        outcome = run(SbomStep(), context(runtime, workspace, "sbom"))

        assert not outcome.succeeded
        assert outcome.summary.startswith("no SBOM: web/package-lock.json:1: not valid JSON")
        assert not (workspace / "sbom.cdx.json").exists()
        with runtime.db.read_session() as session:
            assert session.scalars(select(Sbom)).all() == []

    def test_a_repository_that_is_no_component_gets_its_report_but_nothing_stored(
        self, runtime: Runtime, tmp_path: Path
    ) -> None:
        workspace = workspace_with(tmp_path, **{"requirements.txt": "django==2.2.0\n"})
        ctx = context(runtime, workspace, "sbom")
        ctx.component_ref = None

        outcome = run(SbomStep(), ctx)

        assert outcome.succeeded and outcome.details["sbom_id"] is None
        document = json.loads((workspace / "sbom.cdx.json").read_text())
        assert document["metadata"]["component"]["bom-ref"] == "component:default/ledger"
        with runtime.db.read_session() as session:
            assert session.scalars(select(Sbom)).all() == []

    def test_a_repository_without_lockfiles_says_so(self, runtime: Runtime, tmp_path: Path) -> None:
        outcome = run(SbomStep(), context(runtime, workspace_with(tmp_path), "sbom"))

        assert outcome.succeeded
        assert outcome.summary.startswith("no lockfile found")


@pytest.mark.usefixtures("advisories")
class TestVulnScanStep:
    def test_a_vulnerable_pin_with_a_fix_fails_the_step_naming_the_fix(
        self, runtime: Runtime, tmp_path: Path
    ) -> None:
        workspace = workspace_with(
            tmp_path, **{"requirements.txt": "django==2.2.0\njinja2==3.1.6\n"}
        )
        run_id = str(uuid.uuid4())
        assert run(SbomStep(), context(runtime, workspace, "sbom", run_id=run_id)).succeeded
        (workspace / "sbom.cdx.json").unlink()  # the stored SBOM of the run is what is read

        outcome = run(VulnScanStep(), context(runtime, workspace, "vuln-scan", run_id=run_id))

        assert not outcome.succeeded
        findings = outcome.details["findings"]
        ids = {f["rule"] for f in findings}
        assert "PYSEC-2019-13" in ids
        pysec = next(f for f in findings if f["rule"] == "PYSEC-2019-13")
        assert pysec["fix"] == "upgrade django 2.2.0 → 2.2.4"
        assert (pysec["file"], pysec["line"], pysec["kind"]) == (
            "requirements.txt",
            1,
            "vulnerability",
        )
        assert pysec["severity"] == "high"  # PyPA rates nothing: unrated counts as high
        assert "not rated" in pysec["message"]
        assert all(f["package"] == "django" for f in findings)  # jinja2 3.1.6 is clean
        assert outcome.details["counts"]["high"] == len(findings)
        assert (
            "django 2.2.0: PYSEC-" in outcome.summary
            and "— upgrade django 2.2.0 →" in outcome.summary
        )
        assert outcome.details["sbom"].startswith("SBOM ")
        assert outcome.details["upgrades"] == [
            f"django 2.2.0: {findings[0]['rule']} (high) and {len(findings) - 1} more"
            " — upgrade django 2.2.0 → 2.2.28"
        ]
        with runtime.db.read_session() as session:
            scan = session.scalars(select(SecurityScan).where(SecurityScan.run_id == run_id)).one()
            assert (scan.kind, scan.status, scan.finding_count) == (
                "vulnerability",
                "succeeded",
                len(findings),
            )

    def test_fail_on_none_reports_findings_without_failing(
        self, runtime: Runtime, tmp_path: Path
    ) -> None:
        workspace = workspace_with(tmp_path, **{"requirements.txt": "django==2.2.0\n"})

        outcome = run(
            VulnScanStep(), context(runtime, workspace, "vuln-scan", **{"fail-on": "none"})
        )

        assert outcome.succeeded
        assert outcome.details["findings"]
        assert "none blocking at none" in outcome.summary
        assert outcome.details["sbom"] == "the workspace's lockfiles"

    def test_a_threshold_above_the_findings_lets_the_run_through(
        self, runtime: Runtime, tmp_path: Path
    ) -> None:
        workspace = workspace_with(tmp_path, **{"requirements.txt": "django==2.2.0\n"})

        outcome = run(
            VulnScanStep(),
            context(
                runtime, workspace, "vuln-scan", **{"fail-on": "critical", "unrated": "medium"}
            ),
        )

        assert outcome.succeeded
        assert outcome.details["counts"]["medium"] == len(outcome.details["findings"]) > 0

    def test_clean_pins_have_no_findings(self, runtime: Runtime, tmp_path: Path) -> None:
        workspace = workspace_with(tmp_path, **{"requirements.txt": "jinja2==3.1.6\n"})

        outcome = run(VulnScanStep(), context(runtime, workspace, "vuln-scan"))

        assert outcome.succeeded
        assert outcome.summary.startswith("no known vulnerabilities in 1 packages")
        assert outcome.details["findings"] == []

    def test_a_lockfile_that_does_not_parse_is_not_scanned_and_says_so(
        self, runtime: Runtime, tmp_path: Path
    ) -> None:
        workspace = workspace_with(tmp_path, **{"poetry.lock": "[[package]\n"})
        ctx = context(runtime, workspace, "vuln-scan")

        outcome = run(VulnScanStep(), ctx)

        assert not outcome.succeeded
        assert outcome.summary.startswith("not scanned: poetry.lock:1: not valid TOML")
        with runtime.db.read_session() as session:
            scan = session.scalars(
                select(SecurityScan).where(SecurityScan.run_id == ctx.run_id)
            ).one()
            assert scan.status == "failed" and "poetry.lock:1" in (scan.error or "")

    def test_an_sbom_file_failing_the_schema_is_not_scanned(
        self, runtime: Runtime, tmp_path: Path
    ) -> None:
        broken = {"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"name": 1}]}
        workspace = workspace_with(tmp_path, **{"sbom.cdx.json": json.dumps(broken)})

        outcome = run(VulnScanStep(), context(runtime, workspace, "vuln-scan"))

        assert not outcome.succeeded
        assert "fails the CycloneDX 1.6 schema" in outcome.summary
