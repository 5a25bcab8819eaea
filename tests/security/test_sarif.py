"""SARIF 2.1.0 export of findings of every kind, validated against the OASIS schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from pavedroad.security.findings import Finding
from pavedroad.security.results import ScanResult
from pavedroad.security.sarif import sarif_of, to_sarif, write_sarif

SCHEMA = json.loads((Path(__file__).parent / "sarif" / "sarif-schema-2.1.0.json").read_text())
FINDINGS = [
    Finding(
        tool="bandit",
        kind="sast",
        rule="B602",
        severity="high",
        confidence="high",
        message="subprocess_popen_with_shell_equals_true: subprocess call with shell=True",
        file="app/main.py",
        line=8,
        cwe="CWE-78",
    ),
    Finding(
        tool="bandit",
        kind="sast",
        rule="B602",
        severity="high",
        message="subprocess_popen_with_shell_equals_true: subprocess call with shell=True",
        file="app/other file.py",
        line=3,
        cwe="CWE-78",
    ),
    Finding(
        tool="semgrep",
        kind="sast",
        rule="js-eval-injection",
        severity="medium",
        message="Code is evaluated from input. Parse it instead.",
        file="web/app.js",
        line=9,
        cwe="CWE-95",
    ),
    Finding(
        tool="pavedroad-secrets",
        kind="secret",
        rule="github-token",
        severity="high",
        message="GitHub token ghp_…9f3a: revoke it",
        file="settings.py",
        line=3,
        cwe="CWE-798",
    ),
    Finding(
        tool="osv",
        kind="vulnerability",
        rule="PYSEC-2019-13",
        severity="critical",
        message="SQL injection in django",
        package="django",
        version="2.2.0",
        fixed="2.2.28",
    ),
    Finding(
        tool="pavedroad-dast",
        kind="dast",
        rule="missing-csp",
        severity="low",
        message="No Content-Security-Policy header",
        url="http://127.0.0.1:8080/",
    ),
]


@pytest.fixture(scope="module")
def log() -> dict[str, Any]:
    return to_sarif(
        FINDINGS, tools={"bandit": "1.9.4", "semgrep": "1.187.0", "detect-secrets": None}
    )


def test_the_log_is_valid_sarif_2_1_0(log: dict[str, Any]):
    jsonschema.Draft4Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(log)
    assert log["version"] == "2.1.0"


def test_an_invalid_log_is_caught_by_the_schema(log: dict[str, Any]):
    broken = json.loads(json.dumps(log))
    broken["runs"][0]["results"][0]["level"] = "catastrophic"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(SCHEMA).validate(broken)


def test_one_run_per_tool_and_an_empty_run_for_a_tool_that_found_nothing(log: dict[str, Any]):
    runs = {run["tool"]["driver"]["name"]: run for run in log["runs"]}
    assert set(runs) == {
        "bandit", "semgrep", "detect-secrets", "pavedroad-secrets", "osv", "pavedroad-dast"
    }  # fmt: skip
    assert runs["detect-secrets"]["results"] == []
    assert runs["bandit"]["tool"]["driver"]["version"] == "1.9.4"


def test_rules_are_listed_once_with_help_links_and_cwe_tags(log: dict[str, Any]):
    bandit = next(run for run in log["runs"] if run["tool"]["driver"]["name"] == "bandit")
    [rule] = bandit["tool"]["driver"]["rules"]
    assert rule["id"] == "B602"
    assert rule["helpUri"] == "https://cwe.mitre.org/data/definitions/78.html"
    assert {"CWE-78", "external/cwe/cwe-78", "security"} <= set(rule["properties"]["tags"])
    assert rule["properties"]["security-severity"] == "8.0"
    assert [result["ruleIndex"] for result in bandit["results"]] == [0, 0]


def test_results_have_locations_and_stable_fingerprints(log: dict[str, Any]):
    results = [result for run in log["runs"] for result in run["results"]]
    first = results[0]
    physical = first["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"] == {"uri": "app/main.py", "uriBaseId": "%SRCROOT%"}
    assert physical["region"] == {"startLine": 8}
    assert first["partialFingerprints"] == {"pavedroad/v1": FINDINGS[0].fingerprint}
    assert results[1]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
        "app/other%20file.py"
    )
    [vulnerability] = [r for r in results if r["ruleId"] == "PYSEC-2019-13"]
    assert vulnerability["locations"][0]["logicalLocations"] == [
        {"name": "django@2.2.0", "kind": "package"}
    ]
    assert vulnerability["properties"]["fix"] == "upgrade django 2.2.0 → 2.2.28"
    assert vulnerability["level"] == "error"


def test_help_links_a_scanner_gave_are_used(tmp_path: Path):
    result = ScanResult(
        findings=FINDINGS[:1],
        tools={"bandit": "1.9.4"},
        help_uris={"bandit/B602": "https://bandit.readthedocs.io/en/1.9.4/plugins/b602.html"},
    )
    path = write_sarif(tmp_path / "reports" / "sast.sarif", result)
    written = json.loads(path.read_text())
    assert written == sarif_of(result)
    assert written["runs"][0]["tool"]["driver"]["rules"][0]["helpUri"].startswith(
        "https://bandit.readthedocs.io/"
    )
