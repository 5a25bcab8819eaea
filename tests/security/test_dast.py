"""DAST against a deliberately vulnerable tiny app on 127.0.0.1, with wapiti and our probes."""

from __future__ import annotations

import os
import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from pavedroad.security.dast import ScannerError, scan_url
from pavedroad.security.dast.wapiti import run_wapiti
from tests.security.vulnerable_app import serving

pytestmark = pytest.mark.skipif(
    not Path("/usr/bin/wapiti").exists(), reason="Debian's wapiti is needed: apt-get install wapiti"
)


@pytest.fixture(scope="module")
def vulnerable_findings() -> Iterator[dict[tuple[str, str], str]]:
    with serving() as url:
        report = scan_url(url, time_limit=60)
    yield {(f.tool, f.rule): f.severity for f in report.findings}


def test_the_probes_find_the_apps_flaws(vulnerable_findings: dict[tuple[str, str], str]) -> None:
    probes = {
        rule: severity
        for (tool, rule), severity in vulnerable_findings.items()
        if tool == "pavedroad-dast"
    }
    assert probes["reflected-input"] == "high"
    assert probes["cors-reflects-origin"] == "high"
    assert probes["open-redirect"] == "medium"
    assert probes["cookie-without-httponly"] == "medium"
    assert probes["version-banner"] == "low"
    assert probes["missing-csp"] == "low"


def test_wapiti_runs_and_its_findings_are_normalised(
    vulnerable_findings: dict[tuple[str, str], str],
) -> None:
    wapiti = {
        rule: severity for (tool, rule), severity in vulnerable_findings.items() if tool == "wapiti"
    }
    assert wapiti["cross-site-scripting"] == "medium"
    assert wapiti["open-redirect"] == "low"  # wapiti rates it level 1


def test_the_same_pages_done_right_have_no_high_or_medium_finding() -> None:
    with serving(safe=True) as url:
        report = scan_url(url, time_limit=60)
    serious = [f for f in report.findings if f.severity in ("critical", "high", "medium")]
    assert serious == []
    assert all(f.cwe for f in report.findings if f.tool == "pavedroad-dast")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unreachable_service_is_an_error_not_a_clean_report() -> None:
    with pytest.raises(ScannerError, match="not reachable"):
        scan_url(f"http://127.0.0.1:{_free_port()}/", time_limit=10)


def test_a_url_that_is_not_http_is_refused() -> None:
    with pytest.raises(ScannerError, match="not an http"):
        scan_url("file:///etc/passwd", time_limit=10)


def _fake_wapiti(folder: Path, script: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A stand-in wapiti on PATH: the real one cannot be made to crash or hang on purpose."""
    executable = folder / "wapiti"
    executable.write_text(f"#!/bin/sh\n{script}\n")
    executable.chmod(executable.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}/usr/bin:/bin")


def test_a_missing_wapiti_fails_with_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ScannerError, match="apt-get install wapiti"):
        run_wapiti("http://127.0.0.1:9/", time_limit=10)


def test_a_crashing_wapiti_is_reported_as_a_crash(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _fake_wapiti(tmp_path, "echo 'Traceback: boom' >&2; exit 3", monkeypatch)
    with pytest.raises(ScannerError, match=r"wapiti crashed \(exit 3\).*boom"):
        run_wapiti("http://127.0.0.1:9/", time_limit=10)


def test_a_wapiti_that_writes_no_report_did_not_scan(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _fake_wapiti(tmp_path, "exit 0", monkeypatch)
    with pytest.raises(ScannerError, match="wrote no report"):
        run_wapiti("http://127.0.0.1:9/", time_limit=10)


def test_a_hanging_wapiti_is_stopped_with_its_children(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    marker = tmp_path / "child.pid"
    _fake_wapiti(tmp_path, f"sleep 300 & echo $! > {marker}; wait", monkeypatch)
    with pytest.raises(ScannerError, match="did not finish"):
        run_wapiti("http://127.0.0.1:9/", time_limit=-9)  # 1 s of grace
    assert not _running(int(marker.read_text()))


def _running(pid: int) -> bool:
    """Whether ``pid`` runs (a killed orphan may linger as a zombie until it is reaped)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"
