"""One secrets scan of a repository, judged against its baseline: what is new blocks, what was
accepted is counted but does not."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pavedroad.security.findings import Finding
from pavedroad.security.results import ScanResult, installed_version
from pavedroad.security.secrets.baseline import Baseline, load_baseline, write_baseline
from pavedroad.security.secrets.scanning import BASELINE_FILE, find_secrets


@dataclass(slots=True)
class SecretsResult:
    new: list[Finding] = field(default_factory=list)  # not in the baseline: these block
    accepted: list[Finding] = field(default_factory=list)
    files_scanned: int = 0
    skipped: list[str] = field(default_factory=list)
    baseline_file: str = BASELINE_FILE

    def as_scan_result(self) -> ScanResult:
        """The new findings as a scan result (for SARIF and the shared counts)."""
        return ScanResult(
            findings=list(self.new),
            tools={
                "pavedroad-secrets": installed_version("pavedroad"),
                "detect-secrets": installed_version("detect-secrets"),
            },
            files_scanned={"pavedroad-secrets": self.files_scanned},
        )


def scan_secrets(
    root: Path, *, baseline_file: str = BASELINE_FILE, update_baseline: bool = False
) -> SecretsResult:
    """Scans ``root``; with ``update_baseline`` every finding is accepted into the baseline."""
    baseline_path = root / baseline_file
    baseline = load_baseline(baseline_path)
    scan = find_secrets(root, baseline=baseline_file)
    if update_baseline:
        baseline = write_baseline(baseline_path, scan.findings, previous=baseline)
    return _judged(scan.findings, baseline, scan.files_scanned, scan.skipped, baseline_file)


def _judged(
    findings: list[Finding],
    baseline: Baseline,
    files_scanned: int,
    skipped: list[str],
    baseline_file: str,
) -> SecretsResult:
    return SecretsResult(
        new=[finding for finding in findings if finding not in baseline],
        accepted=[finding for finding in findings if finding in baseline],
        files_scanned=files_scanned,
        skipped=skipped,
        baseline_file=baseline_file,
    )
