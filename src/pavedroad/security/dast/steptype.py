"""The ``dast`` pipeline step: scan the service running in a test environment.

Until the deployments capability hands the step the URL of the environment it deployed to,
the URL is given in the step (``with: {url: http://127.0.0.1:8080/}``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pavedroad.pipelines.hooks import StepContext, StepOutcome
from pavedroad.pipelines.schemas import Reports, Step
from pavedroad.security.dast import DEFAULT_MODULES, ScannerError, scan_url
from pavedroad.security.findings import SEVERITIES, Finding
from pavedroad.security.step_records import record_step_scan


@dataclass(frozen=True, slots=True)
class DastStep:
    name: str = "dast"
    description: str = "Scan the running service (wapiti and pavedroad's probes)."

    @property
    def with_schema(self) -> Mapping[str, Any]:
        return {
            "type": "object",
            "additionalProperties": False,
            "required": ["url"],
            "properties": {
                "url": {
                    "type": "string",
                    "pattern": "^https?://",
                    "description": "The service in its test environment.",
                },
                "time-limit": {"type": "integer", "minimum": 10, "maximum": 3600, "default": 120},
                "modules": {
                    "type": "array",
                    "items": {"type": "string"},
                    "default": list(DEFAULT_MODULES),
                },
                "fail-on": {"enum": [*SEVERITIES[:4], "none"], "default": "high"},
            },
        }

    def command(self, step: Step) -> str | None:
        return None

    def reports(self, step: Step) -> Reports:
        return Reports()

    def artifacts(self, step: Step) -> tuple[str, ...]:
        return ()

    def execute(self, context: StepContext) -> StepOutcome:
        settings = context.step.with_
        url = str(settings.get("url") or "")
        modules = tuple(settings.get("modules") or DEFAULT_MODULES)
        context.log(f"Scanning {url} (at most {settings.get('time-limit', 120)} s)")
        try:
            report = scan_url(url, time_limit=int(settings.get("time-limit", 120)), modules=modules)
        except ScannerError as error:
            context.log(f"DAST did not run: {error}")
            record_step_scan(context, "dast", error=str(error))
            return StepOutcome(succeeded=False, summary=f"DAST did not run: {error}")
        record_step_scan(context, "dast", report.findings)
        for finding in report.findings:
            context.log(f"{finding.severity:8} {finding.rule} {finding.where}: {finding.message}")
        blocking = _blocking(report.findings, str(settings.get("fail-on", "high")))
        counts = report.counts()
        summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n) or "no findings"
        if blocking:
            summary = f"{len(blocking)} blocking: " + "; ".join(
                f"{f.rule} at {f.where}" for f in blocking[:3]
            )
        return StepOutcome(
            succeeded=not blocking,
            summary=summary,
            details={
                "findings": [f.to_json() for f in report.findings],
                "counts": counts,
                "seconds": round(report.seconds, 1),
            },
        )


def _blocking(findings: list[Finding], fail_on: str) -> list[Finding]:
    if fail_on == "none":
        return []
    limit = SEVERITIES.index(fail_on)
    return [f for f in findings if SEVERITIES.index(f.severity) <= limit]
