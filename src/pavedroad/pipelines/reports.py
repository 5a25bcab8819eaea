"""Test results from JUnit XML and coverage from Cobertura XML, as the run page and the
scorecards read them (``details["tests"]``, ``details["coverage"]``).

JUnit comes in several shapes: ``<testsuites>`` around suites (pytest, Maven surefire's
aggregate), one bare ``<testsuite>`` (surefire's per-class files), suites nested in suites.
Counts are taken from the test cases themselves, not from the suites' attributes, which some
tools leave out or get wrong. A file that is not a report raises :class:`ReportError` with
what is wrong: a broken report is never read as "0 tests".
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

MAX_REPORT_BYTES = 64 * 1024 * 1024
MAX_FAILURES_KEPT = 50
MAX_TEXT = 4000


class ReportError(ValueError):
    """A report file that cannot be read as what it claims to be."""


def _root(path: Path, kind: str) -> ElementTree.Element:
    try:
        size = path.stat().st_size
    except OSError as error:
        raise ReportError(f"{path.name}: cannot be read ({error.strerror})") from None
    if size > MAX_REPORT_BYTES:
        raise ReportError(f"{path.name}: {size} bytes is more than a {kind} report may hold")
    data = path.read_bytes()
    if b"<!ENTITY" in data:  # entity expansion: a report has no business defining entities
        raise ReportError(f"{path.name}: defines XML entities, which a {kind} report never does")
    try:
        return ElementTree.fromstring(data)
    except ElementTree.ParseError as error:
        line, column = error.position
        raise ReportError(
            f"{path.name}:{line}:{column + 1}: not well-formed XML, so it is no {kind} report"
        ) from None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _cases(element: ElementTree.Element) -> Iterator[ElementTree.Element]:
    for child in element:
        name = _local(child.tag)
        if name == "testcase":
            yield child
        elif name in ("testsuite", "testsuites"):
            yield from _cases(child)


def parse_junit(path: Path) -> dict[str, Any]:
    """``{"passed", "failed", "skipped", "errors", "total", "failures": [...]}`` of one file."""
    root = _root(path, "JUnit")
    if _local(root.tag) not in ("testsuites", "testsuite"):
        raise ReportError(
            f"{path.name}: the root element is <{_local(root.tag)}>, a JUnit report's is "
            "<testsuites> or <testsuite>"
        )
    counts = {"passed": 0, "failed": 0, "skipped": 0, "errors": 0}
    failures: list[dict[str, str]] = []
    for case in _cases(root):
        outcome = "passed"
        problem: ElementTree.Element | None = None
        for child in case:
            name = _local(child.tag)
            if name in ("failure", "error"):
                outcome, problem = ("failed" if name == "failure" else "errors"), child
                break
            if name == "skipped":
                outcome = "skipped"
        counts[outcome] += 1
        if problem is not None and len(failures) < MAX_FAILURES_KEPT:
            failures.append(
                {
                    "name": case.get("name", ""),
                    "classname": case.get("classname", ""),
                    "message": (problem.get("message") or problem.get("type") or "")[:MAX_TEXT],
                    "text": (problem.text or "").strip()[:MAX_TEXT],
                }
            )
    return {**counts, "total": sum(counts.values()), "failures": failures}


def merge_tests(results: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Several JUnit files (one per suite, as surefire writes them) as one result."""
    merged: dict[str, Any] = {
        "passed": 0,
        "failed": 0,
        "skipped": 0,
        "errors": 0,
        "total": 0,
        "failures": [],
    }
    for result in results:
        for key in ("passed", "failed", "skipped", "errors", "total"):
            merged[key] += result[key]
        room = MAX_FAILURES_KEPT - len(merged["failures"])
        merged["failures"].extend(result["failures"][: max(room, 0)])
    return merged


def summarise_tests(tests: dict[str, Any]) -> str:
    """``"12 passed, 1 failed, 2 skipped"`` (only the parts that are not zero)."""
    parts = [f"{tests[key]} {key}" for key in ("passed", "failed", "errors", "skipped")]
    shown = [part for part in parts if not part.startswith("0 ")]
    return ", ".join(shown) if shown else "no tests"


def _rate(element: ElementTree.Element, name: str, path: Path) -> float | None:
    value = element.get(name)
    if value is None:
        return None
    try:
        rate = float(value)
    except ValueError:
        raise ReportError(f"{path.name}: {name}={value!r} is not a number") from None
    if not 0.0 <= rate <= 1.0:
        raise ReportError(f"{path.name}: {name}={value} is not between 0 and 1")
    return rate


def _count(element: ElementTree.Element, name: str, path: Path) -> int | None:
    value = element.get(name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise ReportError(f"{path.name}: {name}={value!r} is not a whole number") from None


def parse_cobertura(path: Path) -> dict[str, Any]:
    """``{"line_rate", "lines_covered", "lines_valid", "branch_rate"}`` of a Cobertura file.

    When the totals are missing (older writers), they are counted from the ``<line>`` rows.
    """
    root = _root(path, "Cobertura")
    if _local(root.tag) != "coverage":
        raise ReportError(
            f"{path.name}: the root element is <{_local(root.tag)}>, a Cobertura report's is "
            "<coverage>"
        )
    covered = _count(root, "lines-covered", path)
    valid = _count(root, "lines-valid", path)
    if covered is None or valid is None:
        hits = [line.get("hits", "0") for line in root.iter() if _local(line.tag) == "line"]
        valid = len(hits)
        covered = sum(1 for hit in hits if hit.strip() not in ("", "0"))
    line_rate = _rate(root, "line-rate", path)
    if line_rate is None:
        if valid == 0:
            raise ReportError(f"{path.name}: has neither a line-rate nor any <line> to count")
        line_rate = covered / valid
    return {
        "line_rate": round(line_rate, 4),
        "lines_covered": covered,
        "lines_valid": valid,
        "branch_rate": _rate(root, "branch-rate", path),
    }


def merge_coverage(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Several Cobertura files as one: lines added up, the branch rate of the first."""
    if len(results) == 1:
        return results[0]
    covered = sum(result["lines_covered"] for result in results)
    valid = sum(result["lines_valid"] for result in results)
    return {
        "line_rate": round(covered / valid, 4) if valid else 0.0,
        "lines_covered": covered,
        "lines_valid": valid,
        "branch_rate": next(
            (r["branch_rate"] for r in results if r["branch_rate"] is not None), None
        ),
    }
