"""SAST over a small vulnerable repository: real bandit and semgrep runs (one per module)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from pavedroad.security.findings import SEVERITIES
from pavedroad.security.results import ScanResult
from pavedroad.security.sast import RULES_DIR, scan_sast, shipped_rules
from tests.security.code_fixtures import EXPECTED_SEMGREP_RULES, vulnerable_repository


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> ScanResult:
    root = vulnerable_repository(tmp_path_factory.mktemp("repository"))
    return scan_sast(root, env={"PATH": os.environ.get("PATH", "")}, exclude_tests=True)


def where(result: ScanResult, rule: str) -> list[tuple[str | None, int | None]]:
    return [(f.file, f.line) for f in result.findings if f.rule == rule]


class TestBandit:
    def test_shell_true_is_a_high_command_injection_with_its_line(self, scanned: ScanResult):
        [finding] = [f for f in scanned.findings if f.rule == "B602"]
        assert (finding.tool, finding.kind, finding.severity) == ("bandit", "sast", "high")
        assert (finding.file, finding.line, finding.cwe) == ("app/main.py", 8, "CWE-78")
        assert finding.confidence == "high"
        assert "shell=True" in finding.message

    def test_unsafe_yaml_load_and_md5_are_found(self, scanned: ScanResult):
        assert where(scanned, "B506") == [("app/main.py", 13)]
        [md5] = [f for f in scanned.findings if f.rule == "B324"]
        assert (md5.line, md5.severity, md5.cwe) == (17, "high", "CWE-327")

    def test_tests_and_tool_folders_are_excluded(self, scanned: ScanResult):
        files = {f.file for f in scanned.findings}
        assert not {f for f in files if f and f.startswith(("tests/", ".venv/", "node_modules/"))}

    def test_bandit_help_links_are_kept_for_sarif(self, scanned: ScanResult):
        assert scanned.help_uris["bandit/B602"].startswith("https://bandit.readthedocs.io/")


class TestSemgrep:
    def test_javascript_eval_of_request_input(self, scanned: ScanResult):
        [finding] = [f for f in scanned.findings if f.rule == "js-eval-injection"]
        assert (finding.tool, finding.file, finding.line) == ("semgrep", "web/app.js", 9)
        assert (finding.severity, finding.cwe) == ("high", "CWE-95")
        assert "JSON.parse" in finding.message  # the message says how to fix it

    def test_java_sql_built_from_strings_but_not_the_prepared_statement(self, scanned):
        assert where(scanned, "java-sql-built-from-strings") == [("src/main/java/Users.java", 13)]

    def test_go_shell_command_from_input_but_not_a_constant_command(self, scanned):
        assert where(scanned, "go-command-injection") == [("cmd/server/main.go", 15)]

    def test_javascript_parameterised_query_and_constant_html_are_not_flagged(self, scanned):
        assert where(scanned, "js-sql-built-from-strings") == [("web/app.js", 11)]
        assert where(scanned, "js-xss-html-sink") == [("web/app.js", 17)]

    def test_every_shipped_rule_fires_on_its_fixture(self, scanned: ScanResult):
        fired = {f.rule for f in scanned.findings if f.tool == "semgrep"}
        assert fired == EXPECTED_SEMGREP_RULES
        assert {rule["id"] for rule in shipped_rules()} == EXPECTED_SEMGREP_RULES

    def test_one_finding_per_rule_and_line(self, scanned: ScanResult):
        spots = [(f.rule, f.file, f.line) for f in scanned.findings]
        assert len(spots) == len(set(spots))

    def test_the_tools_and_their_versions_are_recorded(self, scanned: ScanResult):
        assert scanned.tools["semgrep"] and scanned.tools["bandit"]
        assert scanned.files_scanned["semgrep"] == 3

    def test_counts_cover_every_severity(self, scanned: ScanResult):
        assert set(scanned.counts) == set(SEVERITIES)
        assert sum(scanned.counts.values()) == len(scanned.findings)


class TestShippedRules:
    @pytest.mark.parametrize("file", sorted(RULES_DIR.glob("*.yaml")), ids=lambda p: p.name)
    def test_each_rule_has_a_cwe_our_severity_and_a_message_that_says_what_to_do(self, file: Path):
        for rule in yaml.safe_load(file.read_text())["rules"]:
            metadata = rule["metadata"]
            assert metadata["cwe"].startswith("CWE-"), rule["id"]
            assert metadata["severity"] in SEVERITIES, rule["id"]
            assert metadata["confidence"] in ("high", "medium", "low"), rule["id"]
            assert len(rule["message"]) > 60, rule["id"]
