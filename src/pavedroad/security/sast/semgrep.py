"""Semgrep over a repository's JavaScript/TypeScript, Java and Go, with the rule files shipped
in ``rules/`` (and a repository's own, if the step names them), offline: no registry rules, no
metrics, no version check."""

from __future__ import annotations

import json
import re
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from pavedroad.security.findings import SEVERITIES, Finding
from pavedroad.security.results import ScanResult, relative
from pavedroad.security.scanners import ScannerCrashedError, locate, run_tool, tail

SEMGREP_VERSION = "1.187.0"
RULES_DIR = Path(__file__).parent / "rules"
# semgrep's pins clash with ours (click, jsonschema, opentelemetry): `make setup` gives it a
# virtual environment of its own, .venv/semgrep, from requirements-semgrep.lock.
SEMGREP_HOME = Path(sys.prefix) / "semgrep" / "bin"
INSTALL = (
    f"make setup (installs semgrep=={SEMGREP_VERSION} into .venv/semgrep), or "
    f"pipx install semgrep=={SEMGREP_VERSION}"
)
OFFLINE = ("--metrics=off", "--disable-version-check")
SEVERITY = {
    "CRITICAL": "critical",
    "ERROR": "high",
    "HIGH": "high",
    "WARNING": "medium",
    "MEDIUM": "medium",
    "INFO": "low",
    "LOW": "low",
}
CWE = re.compile(r"CWE-\d+")


def run_semgrep(
    root: Path,
    *,
    path: str,
    env: Mapping[str, str],
    timeout_seconds: float,
    exclude: Sequence[str] = (),
    extra_rules: Sequence[Path] = (),
) -> ScanResult:
    """Runs semgrep with our rules (and ``extra_rules``) on ``root``; an error exit, an
    ``error``-level problem in its report, or a time-out raises :class:`ScannerCrashedError`."""
    executable = locate("semgrep", path=path, install=INSTALL)
    argv = [executable, "scan", *OFFLINE, "--json", "--quiet", "--config", str(RULES_DIR)]
    for rules in extra_rules:
        argv += ["--config", str(rules)]
    for folder in exclude:
        argv += ["--exclude", folder.strip("/")]
    argv.append(".")
    with tempfile.TemporaryDirectory(prefix="pavedroad-semgrep-") as scratch:
        # semgrep keeps settings, a log and a version cache under HOME: give it a scratch one.
        run_env = {
            **env,
            "HOME": scratch,
            "SEMGREP_SEND_METRICS": "off",
            "SEMGREP_ENABLE_VERSION_CHECK": "0",
        }
        run = run_tool("semgrep", argv, cwd=root, env=run_env, timeout_seconds=timeout_seconds)
    report = _report(run.stdout, run.stderr)
    problems = [error for error in report.get("errors") or [] if error.get("level") == "error"]
    if run.exit_code != 0 or problems:
        reason = problems[0].get("message") if problems else tail(run.stderr)
        raise ScannerCrashedError(
            "semgrep", f"exit code {run.exit_code}: {' '.join(str(reason).split())}"
        )
    return _result(root, report)


def _report(stdout: str, stderr: str) -> dict[str, Any]:
    try:
        report = json.loads(stdout)
    except json.JSONDecodeError:
        raise ScannerCrashedError(
            "semgrep", f"its output is not a JSON report: {tail(stderr or stdout)}"
        ) from None
    if not isinstance(report, dict):
        raise ScannerCrashedError("semgrep", "its output is not a JSON report")
    return report


def _result(root: Path, report: dict[str, Any]) -> ScanResult:
    findings: dict[tuple[str, str, int | None], Finding] = {}
    help_uris: dict[str, str] = {}
    for item in report.get("results") or []:
        extra = item.get("extra") or {}
        metadata = extra.get("metadata") or {}
        rule = str(item.get("check_id", "")).rsplit(".", 1)[-1]
        severity = str(metadata.get("severity", "")).lower()
        if severity not in SEVERITIES:
            severity = SEVERITY.get(str(extra.get("severity", "")).upper(), "medium")
        confidence = str(metadata.get("confidence", "")).lower() or None
        references = metadata.get("references") or []
        if references:
            help_uris[f"semgrep/{rule}"] = str(references[0])
        cwe = CWE.search(json.dumps(metadata.get("cwe", "")))
        file = relative(root, str(item.get("path", "")))
        line = (item.get("start") or {}).get("line")
        key = (rule, file, line)
        if key in findings:  # the same spot matched by two of a rule's patterns
            continue
        findings[key] = Finding(
            tool="semgrep",
            kind="sast",
            rule=rule,
            severity=severity,
            confidence=confidence if confidence in ("high", "medium", "low") else None,
            message=" ".join(str(extra.get("message", "")).split()),
            file=file,
            line=int(line) if line else None,
            cwe=cwe.group(0) if cwe else None,
        )
    scanned = len((report.get("paths") or {}).get("scanned") or [])
    return ScanResult(
        findings=list(findings.values()),
        tools={"semgrep": str(report.get("version") or SEMGREP_VERSION)},
        help_uris=help_uris,
        files_scanned={"semgrep": scanned},
    )


def shipped_rules() -> list[dict[str, Any]]:
    """The rules we ship: id, languages, severity and CWE of each."""
    rules: list[dict[str, Any]] = []
    for file in sorted(RULES_DIR.glob("*.yaml")):
        for rule in yaml.safe_load(file.read_text(encoding="utf-8"))["rules"]:
            rules.append(
                {
                    "id": rule["id"],
                    "languages": rule["languages"],
                    "severity": rule["metadata"]["severity"],
                    "cwe": CWE.search(rule["metadata"]["cwe"]).group(0),  # type: ignore[union-attr]
                }
            )
    return rules
