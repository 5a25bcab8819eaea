"""Dynamic scans of a running service: wapiti plus our own quick probes, one list of findings."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from pavedroad.security.dast.probes import probe
from pavedroad.security.dast.wapiti import DEFAULT_MODULES, ScannerError, run_wapiti
from pavedroad.security.findings import SEVERITIES, Finding

__all__ = ["DEFAULT_MODULES", "DastReport", "ScannerError", "scan_url"]


@dataclass(slots=True)
class DastReport:
    url: str
    findings: list[Finding] = field(default_factory=list)
    seconds: float = 0.0

    def counts(self) -> dict[str, int]:
        return {s: sum(f.severity == s for f in self.findings) for s in SEVERITIES}


def scan_url(
    url: str,
    *,
    time_limit: int = 120,
    modules: tuple[str, ...] = DEFAULT_MODULES,
    use_wapiti: bool = True,
) -> DastReport:
    """Scan the service at ``url``; ScannerError when the scan could not be carried out
    (unreachable target, scanner missing, crashed or out of time)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ScannerError(f"{url!r} is not an http(s) URL of a running service")
    started = time.monotonic()
    deadline = started + time_limit
    try:
        with httpx.Client(timeout=5, follow_redirects=False, verify=False) as client:
            findings = probe(url, deadline=deadline, client=client)
    except httpx.HTTPError as error:
        raise ScannerError(f"{url} is not reachable: {error}") from None
    if use_wapiti:
        remaining = max(10, int(deadline - time.monotonic()))
        findings.extend(run_wapiti(url, time_limit=remaining, modules=modules))
    order = {severity: index for index, severity in enumerate(SEVERITIES)}
    findings.sort(key=lambda f: (order.get(f.severity, 9), f.rule, f.url or ""))
    return DastReport(url=url, findings=findings, seconds=time.monotonic() - started)
