"""The ``sbom`` and ``vuln-scan`` pipeline step types.

``sbom`` reads the workspace's lockfiles, writes ``sbom.cdx.json`` (kept as the run's
``cyclonedx`` report) and stores the SBOM for the run's component and commit; a lockfile that
does not parse fails the step with the file and line. ``vuln-scan`` matches the run's SBOM (or
one it builds) against the imported advisories and fails on a finding at or above ``fail-on``
that has a fix to upgrade to.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pavedroad.config import Settings
from pavedroad.core.actors import Actor
from pavedroad.core.plugins import hookimpl
from pavedroad.pipelines.hooks import StepContext, StepOutcome, StepType
from pavedroad.pipelines.schemas import Reports, Step
from pavedroad.pipelines.steptypes import string_list
from pavedroad.security.findings import Finding
from pavedroad.security.sbom.document import schema_errors
from pavedroad.security.sbom.generate import generate_sbom
from pavedroad.security.sbom.service import sbom_of_run, store_sbom
from pavedroad.security.sbom.vulnerabilities import SEVERITY_RANK, counts_of, scan_document
from pavedroad.security.step_records import record_step_scan

SBOM_FILE = "sbom.cdx.json"
PIPELINE_ACTOR = Actor.system("pipelines")
SHOWN = 5


def component_of(context: StepContext) -> str:
    """The component the run builds; a repository outside the catalog is named after itself
    in the document (and its SBOM is not stored: no component would own it)."""
    if context.component_ref:
        return context.component_ref
    name = context.repository.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git") or "workspace"
    return f"component:default/{name.lower()}"


@dataclass(frozen=True, slots=True)
class SbomStep:
    name: str = "sbom"
    description: str = "Write and store the CycloneDX SBOM of the repository's lockfiles."

    @property
    def with_schema(self) -> Mapping[str, Any]:
        return {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "output": {"type": "string", "default": SBOM_FILE},
                "exclude": {"type": "array", "items": {"type": "string"}, "default": []},
                "version": {"type": "string"},
            },
        }

    def command(self, step: Step) -> str | None:
        return None

    def reports(self, step: Step) -> Reports:
        return Reports(cyclonedx=(str(step.with_.get("output") or SBOM_FILE),))

    def artifacts(self, step: Step) -> tuple[str, ...]:
        return ()

    def execute(self, context: StepContext) -> StepOutcome:
        step = context.step
        component_ref = component_of(context)
        version = step.with_.get("version")
        generated = generate_sbom(
            context.workspace,
            component_ref=component_ref,
            version=str(version) if version else None,
            commit=context.commit,
            exclude=string_list(step.with_.get("exclude")),
        )
        inventory = generated.inventory
        for read in inventory.files:
            context.log(f"{read.file} ({read.format}): {len(read.packages)} packages")
        for warning in inventory.warnings:
            context.log(f"warning: {warning}")
        for unpinned in inventory.unpinned:
            context.log(f"unpinned (not in the SBOM): {unpinned}")
        if generated.document is None or generated.problems:
            for problem in generated.problems:
                context.log(f"error: {problem}")
            return StepOutcome(
                succeeded=False,
                exit_code=1,
                summary=f"no SBOM: {generated.problems[0]}"
                + (
                    f" (and {len(generated.problems) - 1} more)"
                    if len(generated.problems) > 1
                    else ""
                ),
                details={"problems": generated.problems},
            )
        output = context.workspace / str(step.with_.get("output") or SBOM_FILE)
        output.parent.mkdir(parents=True, exist_ok=True)
        # Whole or not at all: a vuln-scan running beside this step may read the file.
        partial = output.with_name(f".{output.name}.partial")
        partial.write_text(json.dumps(generated.document, indent=2) + "\n", encoding="utf-8")
        partial.replace(output)
        sbom_id = None
        if context.component_ref:
            with context.runtime.db.session() as session:
                sbom_id = store_sbom(
                    session,
                    component_ref=component_ref,
                    commit=context.commit,
                    version=str(version) if version else None,
                    document=generated.document,
                    packages=inventory.packages,
                    run_id=context.run_id,
                    actor=PIPELINE_ACTOR,
                ).id
        else:
            context.log(
                "not stored: the repository is no catalog component (register one whose "
                "source location is this repository to keep its SBOMs)"
            )
        sources = [read for read in inventory.files if read.packages]
        found = (
            f"{len(inventory.packages)} packages from {len(sources)} lockfile(s)"
            if sources
            else "no lockfile found: the SBOM lists no packages"
        )
        loose = f", {len(inventory.unpinned)} unpinned" if inventory.unpinned else ""
        summary = f"{found}{loose}; CycloneDX 1.6, valid"
        context.log(summary)
        return StepOutcome(
            succeeded=True,
            exit_code=0,
            summary=summary,
            details={
                "sbom_id": sbom_id,
                "component_ref": component_ref,
                "packages": len(inventory.packages),
                "files": [read.file for read in inventory.files],
                "unpinned": [str(item) for item in inventory.unpinned],
                "warnings": [str(item) for item in inventory.warnings],
            },
        )


@dataclass(frozen=True, slots=True)
class VulnScanStep:
    name: str = "vuln-scan"
    description: str = "Match the SBOM against the imported advisories (OSV)."

    @property
    def with_schema(self) -> Mapping[str, Any]:
        levels = ["critical", "high", "medium", "low", "none"]
        return {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "fail-on": {"enum": levels, "default": "high"},
                "unrated": {"enum": levels[:-1], "default": "high"},
                "sbom": {"type": "string", "default": SBOM_FILE},
                "exclude": {"type": "array", "items": {"type": "string"}, "default": []},
            },
        }

    def command(self, step: Step) -> str | None:
        return None

    def reports(self, step: Step) -> Reports:
        return Reports()

    def artifacts(self, step: Step) -> tuple[str, ...]:
        return ()

    def execute(self, context: StepContext) -> StepOutcome:
        step = context.step
        fail_on = str(step.with_.get("fail-on") or "high")
        unrated = str(step.with_.get("unrated") or "high")
        document, source, problems = self._document(context)
        if document is None:
            error = "; ".join(problems)
            for problem in problems:
                context.log(f"error: {problem}")
            record_step_scan(context, "vulnerability", error=error)
            return StepOutcome(
                succeeded=False,
                exit_code=1,
                summary=f"not scanned: {problems[0]}",
                details={"problems": problems},
            )
        with context.runtime.db.read_session() as session:
            scan = scan_document(session, document, unrated=unrated)
        findings = scan.findings
        record_step_scan(context, "vulnerability", findings)
        counts = counts_of(findings)
        threshold = SEVERITY_RANK.get(fail_on, 0)
        blocking = [
            f
            for f in findings
            if fail_on != "none" and SEVERITY_RANK[f.severity] >= threshold and f.fixed
        ]
        for finding in findings:
            context.log(_line(finding))
        upgrades = [str(upgrade) for upgrade in scan.upgrades(blocking or findings)]
        packages = len(document.get("components") or [])
        if not findings:
            summary = f"no known vulnerabilities in {packages} packages ({source})"
        else:
            shown = "; ".join(upgrades[:SHOWN])
            more = f"; and {len(upgrades) - SHOWN} more packages" if len(upgrades) > SHOWN else ""
            what = (
                f"{len(blocking)} vulnerabilities at or above {fail_on} with a fix"
                if blocking
                else f"{len(findings)} vulnerabilities, none blocking at {fail_on}"
            )
            summary = f"{what}: {shown}{more}"
        context.log(summary)
        return StepOutcome(
            succeeded=not blocking,
            exit_code=1 if blocking else 0,
            summary=summary,
            details={
                "findings": [finding.to_json() for finding in findings],
                "counts": counts,
                "fail_on": fail_on,
                "blocking": len(blocking),
                "packages": packages,
                "sbom": source,
                "upgrades": upgrades,
            },
        )

    def _document(self, context: StepContext) -> tuple[dict[str, Any] | None, str, list[str]]:
        """The run's stored SBOM, else the workspace's SBOM file, else one built now."""
        with context.runtime.db.read_session() as session:
            stored = sbom_of_run(session, context.run_id)
            if stored is not None:
                return stored.document, f"SBOM {stored.id[:8]} of this run", []
        path = context.workspace / str(context.step.with_.get("sbom") or SBOM_FILE)
        if path.is_file():
            try:
                document = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as error:
                return None, "", [f"{path.name} is not JSON: {error}"]
            errors = schema_errors(document)
            if errors:
                return (
                    None,
                    "",
                    [f"{path.name} fails the CycloneDX 1.6 schema: {e}" for e in errors],
                )
            return document, path.name, []
        generated = generate_sbom(
            context.workspace,
            component_ref=component_of(context),
            commit=context.commit,
            exclude=string_list(context.step.with_.get("exclude")),
        )
        return generated.document, "the workspace's lockfiles", generated.problems


def _line(finding: Finding) -> str:
    """ "django 2.2.0: PYSEC-2019-13 (high) — upgrade django 2.2.0 → 2.2.4" """
    return (
        f"{finding.package} {finding.version}: {finding.rule} ({finding.severity}) — {finding.fix}"
    )


class SbomStepTypes:
    """Registers ``sbom`` and ``vuln-scan`` through the pipelines' hook."""

    @hookimpl
    def pavedroad_pipeline_step_types(self, settings: Settings) -> Sequence[StepType]:
        return [SbomStep(), VulnScanStep()]
