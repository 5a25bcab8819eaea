"""What a scan hands back: its findings, which tools ran (with their versions, for SARIF), and
where each rule is explained."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from pavedroad.security.findings import SEVERITIES, Finding


@dataclass(slots=True)
class ScanResult:
    findings: list[Finding] = field(default_factory=list)
    tools: dict[str, str | None] = field(default_factory=dict)  # tool -> version
    help_uris: dict[str, str] = field(default_factory=dict)  # "tool/rule" -> documentation
    files_scanned: dict[str, int] = field(default_factory=dict)  # tool -> files it read

    def merge(self, other: ScanResult) -> ScanResult:
        return ScanResult(
            findings=[*self.findings, *other.findings],
            tools={**self.tools, **other.tools},
            help_uris={**self.help_uris, **other.help_uris},
            files_scanned={**self.files_scanned, **other.files_scanned},
        )

    @property
    def counts(self) -> dict[str, int]:
        """Findings per severity, every severity present (0 when none)."""
        counts = dict.fromkeys(SEVERITIES, 0)
        for finding in self.findings:
            counts[finding.severity] = counts.get(finding.severity, 0) + 1
        return counts


def relative(root: Path, filename: str) -> str:
    """A scanner's file name as a POSIX path relative to the repository root."""
    path = Path(filename)
    if path.is_absolute():
        try:
            path = path.relative_to(root)
        except ValueError:
            return path.as_posix()
    text = path.as_posix()
    return text[2:] if text.startswith("./") else text


def installed_version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None
