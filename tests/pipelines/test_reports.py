"""JUnit and Cobertura reports: the shapes real tools write, and files that are no report."""

from __future__ import annotations

from pathlib import Path

import pytest

from pavedroad.pipelines.reports import (
    ReportError,
    merge_tests,
    parse_cobertura,
    parse_junit,
    summarise_tests,
)

DATA = Path(__file__).parent / "data"
PYTEST = (DATA / "pytest-junit.xml").read_text()

SUREFIRE = (DATA / "TEST-com.acme.PaymentTest.xml").read_text()

COBERTURA = (DATA / "coverage.xml").read_text()


def write(tmp_path: Path, text: str, name: str = "report.xml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


class TestParseJunit:
    def test_pytest_results_with_failures_errors_and_skips(self, tmp_path: Path) -> None:
        result = parse_junit(write(tmp_path, PYTEST))

        assert {k: result[k] for k in ("passed", "failed", "errors", "skipped", "total")} == {
            "passed": 2,
            "failed": 1,
            "errors": 1,
            "skipped": 1,
            "total": 5,
        }
        failure = result["failures"][0]
        assert failure["name"] == "test_total" and failure["classname"] == "tests.test_api"
        assert failure["message"] == "assert 3 == 4"
        assert "assert add(1, 2) == 4" in failure["text"]
        assert result["failures"][1]["message"] == 'failed on setup with "ConnectionError"'
        assert summarise_tests(result) == "2 passed, 1 failed, 1 errors, 1 skipped"

    def test_a_maven_surefire_suite_file(self, tmp_path: Path) -> None:
        result = parse_junit(write(tmp_path, SUREFIRE))

        assert (result["passed"], result["failed"], result["total"]) == (2, 1, 3)
        assert result["failures"][0]["message"] == "expected: <10> but was: <9>"

    def test_nested_suites_are_counted_once(self, tmp_path: Path) -> None:
        nested = (
            "<testsuites><testsuite name='outer'><testsuite name='inner'>"
            "<testcase name='a'/></testsuite><testcase name='b'/></testsuite></testsuites>"
        )
        assert parse_junit(write(tmp_path, nested))["total"] == 2

    def test_several_files_are_merged(self, tmp_path: Path) -> None:
        merged = merge_tests(
            [
                parse_junit(write(tmp_path, PYTEST, "a.xml")),
                parse_junit(write(tmp_path, SUREFIRE, "b.xml")),
            ]
        )
        assert (merged["total"], merged["failed"], len(merged["failures"])) == (8, 2, 3)

    def test_a_truncated_file_is_an_error_with_its_position_not_zero_tests(
        self, tmp_path: Path
    ) -> None:
        with pytest.raises(ReportError, match=r"report.xml:\d+:\d+: not well-formed XML"):
            parse_junit(write(tmp_path, PYTEST[: len(PYTEST) // 2]))

    def test_another_kind_of_xml_is_an_error_naming_the_root(self, tmp_path: Path) -> None:
        with pytest.raises(ReportError, match="the root element is <coverage>"):
            parse_junit(write(tmp_path, COBERTURA))

    def test_an_empty_file_is_an_error(self, tmp_path: Path) -> None:
        with pytest.raises(ReportError, match="not well-formed XML"):
            parse_junit(write(tmp_path, ""))

    def test_entity_definitions_are_refused(self, tmp_path: Path) -> None:
        bomb = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><testsuites>&a;</testsuites>'
        with pytest.raises(ReportError, match="defines XML entities"):
            parse_junit(write(tmp_path, bomb))


class TestParseCobertura:
    def test_coverage_py_output(self, tmp_path: Path) -> None:
        assert parse_cobertura(write(tmp_path, COBERTURA)) == {
            "line_rate": 0.87,
            "lines_covered": 174,
            "lines_valid": 200,
            "branch_rate": 0.5,
        }

    def test_totals_are_counted_from_lines_when_missing(self, tmp_path: Path) -> None:
        old = (
            "<coverage><packages><package><classes><class><lines>"
            "<line number='1' hits='3'/><line number='2' hits='0'/><line number='3' hits='1'/>"
            "<line number='4' hits='0'/></lines></class></classes></package></packages></coverage>"
        )
        result = parse_cobertura(write(tmp_path, old))
        assert (result["lines_covered"], result["lines_valid"], result["line_rate"]) == (2, 4, 0.5)

    def test_a_rate_that_is_not_a_number_is_an_error(self, tmp_path: Path) -> None:
        with pytest.raises(ReportError, match="line-rate='high' is not a number"):
            parse_cobertura(
                write(tmp_path, "<coverage line-rate='high' lines-valid='1' lines-covered='1'/>")
            )

    def test_a_junit_file_given_as_coverage_is_an_error(self, tmp_path: Path) -> None:
        with pytest.raises(ReportError, match="a Cobertura report's is <coverage>"):
            parse_cobertura(write(tmp_path, PYTEST))

    def test_a_broken_file_is_an_error(self, tmp_path: Path) -> None:
        with pytest.raises(ReportError, match="not well-formed XML, so it is no Cobertura report"):
            parse_cobertura(write(tmp_path, "<coverage line-rate="))
