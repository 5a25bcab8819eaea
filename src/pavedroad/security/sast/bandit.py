"""Bandit over a repository's Python code, with the repository's own bandit configuration when
it has one, read into :class:`~pavedroad.security.findings.Finding`."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pavedroad.security.findings import Finding
from pavedroad.security.results import ScanResult, installed_version, relative
from pavedroad.security.scanners import ScannerCrashedError, locate, run_tool, tail

BANDIT_VERSION = "1.9.4"
INSTALL = f"pip install bandit=={BANDIT_VERSION} (make setup installs it)"
SEVERITY = {"HIGH": "high", "MEDIUM": "medium", "LOW": "low", "UNDEFINED": "info"}


def bandit_config(root: Path) -> list[str]:
    """Bandit's arguments for the repository's own configuration: ``.bandit.yaml`` or
    ``bandit.yaml`` (``-c``), ``[tool.bandit]`` in ``pyproject.toml``, or an INI ``.bandit``."""
    for name in (".bandit.yaml", ".bandit.yml", "bandit.yaml", "bandit.yml"):
        if (root / name).is_file():
            return ["-c", name]
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            data = {}  # not ours to judge here; bandit is pointed at no config
        if "bandit" in data.get("tool", {}):
            return ["-c", "pyproject.toml"]
    if (root / ".bandit").is_file():
        return ["--ini", ".bandit"]
    return []


def run_bandit(
    root: Path,
    *,
    path: str,
    env: Mapping[str, str],
    timeout_seconds: float,
    exclude: Sequence[str] = (),
) -> ScanResult:
    """Runs bandit on ``root``; a crash, a file it could not parse, or a time-out raises
    :class:`ScannerCrashedError`."""
    executable = locate("bandit", path=path, install=INSTALL)
    argv = [executable, "-r", ".", "-f", "json", "-q", *bandit_config(root)]
    if exclude:
        argv += ["-x", ",".join(f"*/{folder.strip('/')}/*" for folder in exclude)]
    run = run_tool("bandit", argv, cwd=root, env=env, timeout_seconds=timeout_seconds)
    # 0: nothing found, 1: issues found; anything else is bandit failing.
    if run.exit_code not in (0, 1):
        raise ScannerCrashedError("bandit", f"exit code {run.exit_code}: {tail(run.stderr)}")
    try:
        report: dict[str, Any] = json.loads(run.stdout)
    except json.JSONDecodeError:
        raise ScannerCrashedError(
            "bandit", f"its output is not a JSON report: {tail(run.stderr or run.stdout)}"
        ) from None
    errors = report.get("errors") or []
    if errors:
        first = errors[0]
        raise ScannerCrashedError(
            "bandit",
            f"could not scan {len(errors)} file(s), first "
            f"{relative(root, first.get('filename', '?'))}: {first.get('reason', 'unknown error')}",
        )
    findings: list[Finding] = []
    help_uris: dict[str, str] = {}
    for item in report.get("results") or []:
        cwe = (item.get("issue_cwe") or {}).get("id")
        rule = str(item["test_id"])
        if item.get("more_info"):
            help_uris[f"bandit/{rule}"] = str(item["more_info"])
        findings.append(
            Finding(
                tool="bandit",
                kind="sast",
                rule=rule,
                severity=SEVERITY.get(str(item.get("issue_severity")), "medium"),
                confidence=SEVERITY.get(str(item.get("issue_confidence"))),
                message=f"{item.get('test_name', rule)}: {item.get('issue_text', '')}".strip(),
                file=relative(root, str(item.get("filename", ""))),
                line=int(item["line_number"]) if item.get("line_number") else None,
                cwe=f"CWE-{cwe}" if cwe else None,
            )
        )
    files = len(report.get("metrics", {})) - 1 if report.get("metrics") else 0
    return ScanResult(
        findings=findings,
        tools={"bandit": installed_version("bandit")},
        help_uris=help_uris,
        files_scanned={"bandit": max(files, 0)},
    )
