"""SARIF 2.1.0 export of any findings: one run per tool (a tool that ran and found nothing has an
empty run, so "scanned, clean" differs from "not scanned"), its rules with help links and CWE
tags, and results with locations and our fingerprints, as code-scanning tools read them."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pavedroad.security.findings import Finding
from pavedroad.security.results import ScanResult

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
# GitHub code scanning ranks security results by this property (CVSS-like, 0-10).
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "0.0"}
INFORMATION_URI = {
    "bandit": "https://bandit.readthedocs.io/",
    "semgrep": "https://semgrep.dev/docs/",
    "detect-secrets": "https://github.com/Yelp/detect-secrets",
}


def help_uri(finding: Finding, help_uris: Mapping[str, str]) -> str | None:
    known = help_uris.get(f"{finding.tool}/{finding.rule}")
    if known:
        return known
    if finding.kind == "vulnerability":
        return f"https://osv.dev/vulnerability/{finding.rule}"
    if finding.cwe:
        return f"https://cwe.mitre.org/data/definitions/{finding.cwe.removeprefix('CWE-')}.html"
    return None


def to_sarif(
    findings: Iterable[Finding],
    *,
    tools: Mapping[str, str | None] | None = None,
    help_uris: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A SARIF log of ``findings``; ``tools`` (name → version) adds runs for tools that found
    nothing, ``help_uris`` ("tool/rule" → URL) documents rules."""
    by_tool: dict[str, list[Finding]] = {name: [] for name in tools or {}}
    for finding in findings:
        by_tool.setdefault(finding.tool, []).append(finding)
    runs = [
        _run(name, (tools or {}).get(name), items, help_uris or {})
        for name, items in by_tool.items()
    ]
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": runs}


def sarif_of(result: ScanResult) -> dict[str, Any]:
    return to_sarif(result.findings, tools=result.tools, help_uris=result.help_uris)


def write_sarif(path: Path, result: ScanResult) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(sarif_of(result), indent=2, ensure_ascii=False), encoding="utf-8")
    return path


def _run(
    tool: str, version: str | None, findings: list[Finding], help_uris: Mapping[str, str]
) -> dict[str, Any]:
    rules: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    results: list[dict[str, Any]] = []
    for finding in findings:
        if finding.rule not in index:
            index[finding.rule] = len(rules)
            rules.append(_rule(finding, help_uris))
        results.append(_result(finding, index[finding.rule]))
    driver: dict[str, Any] = {"name": tool, "rules": rules}
    if version:
        driver["version"] = version
    if tool in INFORMATION_URI:
        driver["informationUri"] = INFORMATION_URI[tool]
    return {
        "tool": {"driver": driver},
        "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "The repository root."}}},
        "results": results,
    }


def _rule(finding: Finding, help_uris: Mapping[str, str]) -> dict[str, Any]:
    tags = ["security", finding.kind]
    if finding.cwe:
        number = finding.cwe.removeprefix("CWE-")
        tags += [finding.cwe, f"external/cwe/cwe-{number}"]
    summary = finding.message.split(". ")[0].split(": ")[0] if finding.message else finding.rule
    rule: dict[str, Any] = {
        "id": finding.rule,
        "shortDescription": {"text": summary or finding.rule},
        "defaultConfiguration": {"level": LEVEL.get(finding.severity, "warning")},
        "properties": {
            "tags": tags,
            "security-severity": SECURITY_SEVERITY.get(finding.severity, "5.5"),
        },
    }
    uri = help_uri(finding, help_uris)
    if uri:
        rule["helpUri"] = uri
    return rule


def _result(finding: Finding, rule_index: int) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding.rule,
        "ruleIndex": rule_index,
        "level": LEVEL.get(finding.severity, "warning"),
        "message": {"text": finding.message or finding.rule},
        "partialFingerprints": {"pavedroad/v1": finding.fingerprint},
        "properties": {
            key: value
            for key, value in {
                "severity": finding.severity,
                "confidence": finding.confidence,
                "cwe": finding.cwe,
                "package": finding.package,
                "version": finding.version,
                "fixed": finding.fixed,
                "fix": finding.fix or None,
            }.items()
            if value is not None
        },
    }
    location = _location(finding)
    if location:
        result["locations"] = [location]
    return result


def _location(finding: Finding) -> dict[str, Any] | None:
    if finding.file:
        physical: dict[str, Any] = {
            "artifactLocation": {"uri": quote(finding.file), "uriBaseId": "%SRCROOT%"}
        }
        if finding.line:
            physical["region"] = {"startLine": finding.line}
        return {"physicalLocation": physical}
    if finding.url:
        return {"physicalLocation": {"artifactLocation": {"uri": finding.url}}}
    if finding.package:
        name = f"{finding.package}@{finding.version}" if finding.version else finding.package
        return {"logicalLocations": [{"name": name, "kind": "package"}]}
    return None
