"""A finding, whichever scanner made it: one shape for SAST, secrets, vulnerabilities and DAST,
so the gate, the pages and SARIF export treat them alike."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import Any, Literal

Kind = Literal["sast", "secret", "vulnerability", "dast"]
SEVERITIES = ("critical", "high", "medium", "low", "info")


@dataclass(frozen=True, slots=True)
class Finding:
    tool: str  # bandit, semgrep, detect-secrets, pavedroad-secrets, osv, wapiti, pavedroad-dast
    kind: Kind
    rule: str  # B105, python.flask.debug-enabled, PYSEC-2019-13, ...
    severity: str  # one of SEVERITIES
    message: str
    confidence: str | None = None  # high, medium, low
    file: str | None = None  # relative to the repository root
    line: int | None = None
    cwe: str | None = None  # "CWE-89"
    package: str | None = None  # vulnerabilities: "django"
    version: str | None = None  # vulnerabilities: the version in use
    fixed: str | None = None  # vulnerabilities: the version that fixes it
    url: str | None = None  # DAST: where

    @property
    def fix(self) -> str:
        """What to do, in one line: "upgrade django 2.2.0 → 2.2.28"."""
        if self.kind == "vulnerability" and self.package:
            if self.fixed:
                return f"upgrade {self.package} {self.version} → {self.fixed}"
            return f"no fixed version of {self.package} is known; replace or mitigate it"
        return ""

    @property
    def where(self) -> str:
        if self.file:
            return f"{self.file}:{self.line}" if self.line else self.file
        return self.url or (f"{self.package} {self.version}" if self.package else "")

    @property
    def fingerprint(self) -> str:
        """A stable id across runs (no line number: code moves), for baselines and exceptions."""
        key = "\0".join(
            str(part)
            for part in (
                self.tool,
                self.rule,
                self.file or self.url or "",
                self.package or "",
                self.version or "",
                self.message,
            )
        )
        return hashlib.sha256(key.encode()).hexdigest()[:32]

    def to_json(self) -> dict[str, Any]:
        return asdict(self) | {"fingerprint": self.fingerprint, "fix": self.fix}
