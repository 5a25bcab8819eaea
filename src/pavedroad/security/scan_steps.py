"""The ``sast`` and ``secrets-scan`` pipeline step types: scan the run's workspace, leave a SARIF
report, and fail on what blocks (a high-severity SAST finding; any secret not in the baseline).
A scanner that is missing, crashes or times out fails the step and says so: it is never
reported as "no findings"."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pavedroad.config import Settings
from pavedroad.core.errors import PavedroadError
from pavedroad.core.plugins import hookimpl
from pavedroad.pipelines.hooks import StepContext, StepOutcome, StepType
from pavedroad.pipelines.schemas import Reports, Step
from pavedroad.security.findings import SEVERITIES, Finding, Kind
from pavedroad.security.results import ScanResult
from pavedroad.security.sarif import write_sarif
from pavedroad.security.sast import DEFAULT_TIMEOUT_SECONDS, scan_sast
from pavedroad.security.sast.scan import TOOL_DIRS
from pavedroad.security.secrets import BASELINE_FILE, scan_secrets
from pavedroad.security.step_records import record_step_scan

FAIL_ON = (*SEVERITIES, "none")


def blocking(findings: Sequence[Finding], fail_on: str) -> list[Finding]:
    """The findings at or above ``fail_on`` (``none``: none block)."""
    if fail_on not in SEVERITIES:
        return []
    threshold = SEVERITIES.index(fail_on)
    return [f for f in findings if SEVERITIES.index(f.severity) <= threshold]


def _line(finding: Finding) -> str:
    return f"{finding.severity.upper():8} {finding.where}  {finding.rule}  {finding.message}"


def _summary(counts: Mapping[str, int]) -> str:
    shown = [f"{count} {severity}" for severity, count in counts.items() if count]
    return ", ".join(shown) or "no findings"


def _outcome(
    context: StepContext,
    result: ScanResult,
    blocked: list[Finding],
    what: str,
    extra: dict[str, Any] | None = None,
) -> StepOutcome:
    counts = result.counts
    for finding in result.findings:
        context.log(_line(finding))
    summary = f"{what}: {_summary(counts)}"
    if blocked:
        summary += f"; {len(blocked)} blocking"
    context.log(summary)
    details = {
        "findings": [finding.to_json() for finding in result.findings],
        "counts": counts,
        "blocking": [finding.fingerprint for finding in blocked],
        "tools": dict(result.tools),
        "files_scanned": dict(result.files_scanned),
        **(extra or {}),
    }
    return StepOutcome(
        succeeded=not blocked, exit_code=1 if blocked else 0, summary=summary, details=details
    )


def _failed(context: StepContext, kind: Kind, error: PavedroadError) -> StepOutcome:
    """The scan did not happen: recorded as such (the gate blocks on it), never as clean."""
    record_step_scan(context, kind, error=error.message)
    context.log(f"error: {error.message}")
    hint = str(error.details.get("hint", ""))
    if hint:
        context.log(f"hint: {hint}")
    return StepOutcome(
        succeeded=False, exit_code=2, summary=error.message, details={"error": error.message}
    )


@dataclass(frozen=True, slots=True)
class SastStep:
    """Runs bandit and semgrep over the workspace; leaves ``sast.sarif``."""

    name: str = "sast"
    description: str = "Static analysis (bandit, semgrep); fails on a high-severity finding."
    tool_dirs: tuple[Path, ...] = field(default=tuple(TOOL_DIRS))  # after the step's PATH

    @property
    def with_schema(self) -> Mapping[str, Any]:
        return {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "fail-on": {"enum": list(FAIL_ON), "default": "high"},
                "timeout": {
                    "type": "number",
                    "exclusiveMinimum": 0,
                    "default": DEFAULT_TIMEOUT_SECONDS,
                },
                "exclude-tests": {"type": "boolean", "default": False},
                "rules": {"type": "array", "items": {"type": "string"}, "default": []},
                "sarif": {"type": "string", "default": "sast.sarif"},
            },
        }

    def command(self, step: Step) -> str | None:
        return None

    def reports(self, step: Step) -> Reports:
        return Reports(sarif=(str(step.with_.get("sarif") or "sast.sarif"),))

    def artifacts(self, step: Step) -> tuple[str, ...]:
        return ()

    def execute(self, context: StepContext) -> StepOutcome:
        settings = context.step.with_
        workspace = context.workspace
        extra_rules = [workspace / str(rules) for rules in settings.get("rules") or []]
        missing = [str(path.relative_to(workspace)) for path in extra_rules if not path.exists()]
        if missing:
            message = f"semgrep rules {', '.join(missing)} not found in the repository"
            return _failed(context, "sast", PavedroadError(message, hint="fix `with: rules:`"))
        try:
            result = scan_sast(
                workspace,
                env=context.env,
                timeout_seconds=float(settings.get("timeout") or DEFAULT_TIMEOUT_SECONDS),
                exclude_tests=bool(settings.get("exclude-tests", False)),
                extra_rules=extra_rules,
                tool_dirs=self.tool_dirs,
            )
        except PavedroadError as error:
            return _failed(context, "sast", error)
        record_step_scan(context, "sast", result.findings)
        write_sarif(workspace / str(settings.get("sarif") or "sast.sarif"), result)
        fail_on = str(settings.get("fail-on") or "high")
        return _outcome(
            context, result, blocking(result.findings, fail_on), "SAST", {"fail_on": fail_on}
        )


@dataclass(frozen=True, slots=True)
class SecretsScanStep:
    """Looks for secrets in the workspace; any not in the baseline fails the step."""

    name: str = "secrets-scan"
    description: str = "Secrets in code (detect-secrets and our patterns); any new one fails."

    @property
    def with_schema(self) -> Mapping[str, Any]:
        return {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "baseline": {"type": "string", "default": BASELINE_FILE},
                "sarif": {"type": "string", "default": "secrets.sarif"},
            },
        }

    def command(self, step: Step) -> str | None:
        return None

    def reports(self, step: Step) -> Reports:
        return Reports(sarif=(str(step.with_.get("sarif") or "secrets.sarif"),))

    def artifacts(self, step: Step) -> tuple[str, ...]:
        return ()

    def execute(self, context: StepContext) -> StepOutcome:
        settings = context.step.with_
        try:
            found = scan_secrets(
                context.workspace, baseline_file=str(settings.get("baseline") or BASELINE_FILE)
            )
        except PavedroadError as error:
            return _failed(context, "secret", error)
        record_step_scan(context, "secret", found.new)  # accepted ones are the baseline's
        result = found.as_scan_result()
        write_sarif(context.workspace / str(settings.get("sarif") or "secrets.sarif"), result)
        if found.accepted:
            context.log(f"{len(found.accepted)} finding(s) accepted in {found.baseline_file}")
        return _outcome(
            context,
            result,
            list(found.new),
            "secrets",
            {"accepted": len(found.accepted), "skipped": found.skipped},
        )


class CodeScanningStepTypes:
    """Registers ``sast`` and ``secrets-scan`` through the pipelines' step-type hook."""

    @hookimpl
    def pavedroad_pipeline_step_types(self, settings: Settings) -> Sequence[StepType]:
        return [SastStep(), SecretsScanStep()]
