"""An SBOM's known vulnerabilities: its packages (by purl) matched against the imported
advisories, as :class:`~pavedroad.security.findings.Finding` s that point at the lockfile line.

An advisory that no database rated (the PyPA database rates none) is counted at ``unrated``
(high unless a step says otherwise): an unknown severity is not taken for a harmless one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from pavedroad.core.errors import InputError
from pavedroad.security.advisories.matching import PackageVersion, vulnerabilities_of
from pavedroad.security.advisories.purls import ecosystem_of_purl
from pavedroad.security.advisories.versions import VersionError, parse_version
from pavedroad.security.findings import Finding

SEVERITY_RANK = {"critical": 4, "high": 3, "medium": 2, "low": 1, "info": 0}


def located_packages(
    document: dict[str, Any],
) -> list[tuple[PackageVersion, str | None, int | None]]:
    """Each component's package version with the lockfile and line it came from."""
    found = []
    for component in document.get("components") or []:
        purl = component.get("purl") if isinstance(component, dict) else None
        if not isinstance(purl, str):
            continue
        try:
            ecosystem, name, version = ecosystem_of_purl(purl)
        except InputError:
            continue  # an ecosystem advisories do not cover
        if not version:
            continue
        occurrences = (component.get("evidence") or {}).get("occurrences") or [{}]
        found.append(
            (
                PackageVersion(ecosystem, name, version),
                occurrences[0].get("location"),
                occurrences[0].get("line"),
            )
        )
    return found


@dataclass(slots=True)
class VulnerabilityScan:
    findings: list[Finding] = field(default_factory=list)
    ecosystems: dict[tuple[str, str], str] = field(default_factory=dict)  # (name, version)

    def upgrades(self, findings: Sequence[Finding]) -> list[Upgrade]:
        """One upgrade per vulnerable package version: to the highest of its fixed versions,
        which fixes all of ``findings`` in it; worst first."""
        grouped: dict[tuple[str, str], list[Finding]] = {}
        for finding in findings:
            grouped.setdefault((finding.package or "", finding.version or ""), []).append(finding)
        found = []
        for (name, version), group in grouped.items():
            ecosystem = self.ecosystems.get((name, version), "")
            fixes = [f.fixed for f in group if f.fixed]
            found.append(Upgrade(name, version, _highest(ecosystem, fixes), group))
        return found


@dataclass(frozen=True, slots=True)
class Upgrade:
    package: str
    version: str
    to: str | None
    findings: list[Finding]

    def __str__(self) -> str:
        """ "django 2.2.0: PYSEC-2019-13 (high) and 27 more — upgrade django 2.2.0 → 2.2.28" """
        worst = self.findings[0]
        more = f" and {len(self.findings) - 1} more" if len(self.findings) > 1 else ""
        fix = (
            f"upgrade {self.package} {self.version} → {self.to}"
            if self.to
            else "no fixed version known"
        )
        return f"{self.package} {self.version}: {worst.rule} ({worst.severity}){more} — {fix}"


def _highest(ecosystem: str, versions: list[str]) -> str | None:
    if not versions:
        return None
    try:
        return max(versions, key=lambda v: parse_version(ecosystem, v))
    except VersionError:
        return max(versions)


def scan_document(
    session: Session, document: dict[str, Any], *, unrated: str = "high"
) -> VulnerabilityScan:
    """The findings of a CycloneDX document, most severe first."""
    located = located_packages(document)
    matches = vulnerabilities_of(session, [package for package, _, _ in located])
    findings: list[Finding] = []
    ecosystems = {(p.name, p.version): p.ecosystem for p, _, _ in located}
    for package, file, line in located:
        for vulnerability in matches.get(package, ()):
            aliases = ", ".join(vulnerability.aliases)
            severity = vulnerability.severity if vulnerability.severity in SEVERITY_RANK else None
            message = vulnerability.summary.strip() or vulnerability.advisory_id
            if aliases:
                message = f"{message} ({aliases})"
            if severity is None:
                message = f"{message} [not rated by the advisory database: counted as {unrated}]"
            findings.append(
                Finding(
                    tool="osv",
                    kind="vulnerability",
                    rule=vulnerability.advisory_id,
                    severity=severity or unrated,
                    message=message,
                    file=file,
                    line=line,
                    package=package.name,
                    version=package.version,
                    fixed=vulnerability.fixed,
                )
            )
    findings.sort(
        key=lambda f: (-SEVERITY_RANK[f.severity], f.fixed is None, f.package or "", f.rule)
    )
    return VulnerabilityScan(findings, ecosystems)


def counts_of(findings: Sequence[Finding]) -> dict[str, int]:
    counts = dict.fromkeys(SEVERITY_RANK, 0)
    for finding in findings:
        counts[finding.severity] += 1
    return counts
