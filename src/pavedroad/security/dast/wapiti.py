"""Debian's ``wapiti`` with a bounded module set and time limit, its JSON report normalised.

wapiti exits 0 even when it could not reach the target, so a run counts only when its report
exists and names the target; anything else is a :class:`ScannerError`, never "no findings".
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from pavedroad.security.findings import Finding

TOOL = "wapiti"
DEFAULT_MODULES = (
    "xss",
    "sql",
    "redirect",
    "http_headers",
    "cookieflags",
    "exec",
    "file",
    "crlf",
    "ssrf",
)
_LEVELS = {"4": "critical", "3": "high", "2": "medium", "1": "low", "0": "info"}
_CWE = re.compile(r"^(CWE-\d+)")
INSTALL_HINT = "install it: apt-get install wapiti (Debian's package)"


class ScannerError(RuntimeError):
    """A scanner that is missing, crashed or ran out of time: the scan did not happen."""


def run_wapiti(
    url: str,
    *,
    time_limit: int,
    modules: tuple[str, ...] = DEFAULT_MODULES,
) -> list[Finding]:
    """Scan ``url`` (only its folder) for at most ``time_limit`` seconds."""
    executable = shutil.which("wapiti")
    if executable is None:
        raise ScannerError(f"wapiti is not installed: {INSTALL_HINT}")
    with tempfile.TemporaryDirectory(prefix="pavedroad-wapiti-") as scratch:
        report = Path(scratch) / "report.json"
        command = [
            executable,
            "-u",
            url,
            "--scope",
            "folder",
            "-m",
            ",".join(modules),
            "-f",
            "json",
            "-o",
            str(report),
            "--flush-session",
            "--store-session",
            str(Path(scratch) / "session"),
            "--max-scan-time",
            str(max(1, time_limit - 5)),
            "--max-attack-time",
            str(max(1, time_limit // 3)),
            "--timeout",
            "5",
            "-v",
            "0",
        ]
        _run(command, time_limit, scratch)
        return _findings(_report(report, url))


def _run(command: list[str], time_limit: int, scratch: str) -> None:
    environment = {"PATH": os.environ.get("PATH", ""), "HOME": scratch, "LANG": "C.UTF-8"}
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=environment,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=time_limit + 10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise ScannerError(
            f"wapiti did not finish within {time_limit + 10} s and was stopped"
        ) from None
    if process.returncode != 0:
        tail = output.decode(errors="replace").strip().splitlines()[-3:]
        raise ScannerError(f"wapiti crashed (exit {process.returncode}): {' / '.join(tail)}")


def _report(path: Path, url: str) -> dict[str, Any]:
    if not path.is_file():
        raise ScannerError("wapiti wrote no report: the target was probably unreachable")
    try:
        report: dict[str, Any] = json.loads(path.read_text())
    except ValueError as error:
        raise ScannerError(f"wapiti's report is not JSON: {error}") from None
    if not isinstance(report.get("vulnerabilities"), dict):
        raise ScannerError("wapiti's report has no vulnerabilities section")
    return report


def _findings(report: dict[str, Any]) -> list[Finding]:
    classifications = report.get("classifications") or {}
    target = str((report.get("infos") or {}).get("target") or "").rstrip("/")
    found = []
    for section in ("vulnerabilities", "anomalies"):
        for category, items in (report.get(section) or {}).items():
            cwe = _cwe_of(classifications.get(category) or {})
            for item in items or []:
                level = _LEVELS.get(str(item.get("level")), "low")
                found.append(
                    Finding(
                        tool=TOOL,
                        kind="dast",
                        rule=_slug(category),
                        severity=level if section == "vulnerabilities" else "low",
                        message=f"{category}: {item.get('info') or ''}".strip(),
                        confidence="medium",
                        url=f"{target}{item.get('path') or ''}",
                        cwe=cwe,
                    )
                )
    return found


def _cwe_of(classification: dict[str, Any]) -> str | None:
    for reference in classification.get("ref") or {}:
        match = _CWE.match(str(reference))
        if match:
            return match.group(1)
    return None


def _slug(category: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", category.lower()).strip("-")
