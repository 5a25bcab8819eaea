"""The secrets baseline: findings a team has looked at and accepted (false positives, test
fixtures), kept in the repository as ``.pavedroad/secrets-baseline.json``.

The file is keyed by each finding's fingerprint (tool, rule, file and the masked preview; no
line number, so code may move) and stores no secret, only what a finding shows::

    {"version": 1,
     "accepted": {"<fingerprint>": {"rule": "github-token", "file": "tests/fixture.py",
                                     "line": 3, "preview": "GitHub token ghp_…9f3a",
                                     "reason": "a revoked token used as a test fixture"}}}

``pavedroad scan secrets PATH --update-baseline`` writes every current finding into it (keeping
the reasons already written) and drops entries that are no longer found.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pavedroad.core.errors import InputError
from pavedroad.security.findings import Finding

VERSION = 1


@dataclass(frozen=True, slots=True)
class Baseline:
    accepted: dict[str, dict[str, Any]]

    def __contains__(self, finding: Finding) -> bool:
        return finding.fingerprint in self.accepted


class BaselineError(InputError):
    """The baseline file does not parse or has the wrong shape."""


def load_baseline(path: Path) -> Baseline:
    """The accepted findings in ``path``; an empty baseline when there is no such file."""
    if not path.is_file():
        return Baseline({})
    fix = f"fix it, or delete it and run: pavedroad scan secrets . --update-baseline ({path})"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise BaselineError(f"the secrets baseline {path} is not JSON: {error}", hint=fix) from None
    accepted = data.get("accepted") if isinstance(data, dict) else None
    if not isinstance(accepted, dict) or data.get("version") != VERSION:
        raise BaselineError(
            f'the secrets baseline {path} is not a version {VERSION} baseline: it needs "version": '
            f'{VERSION} and an "accepted" object keyed by fingerprint',
            hint=fix,
        )
    return Baseline({str(key): dict(value or {}) for key, value in accepted.items()})


def write_baseline(path: Path, findings: Sequence[Finding], *, previous: Baseline) -> Baseline:
    """Accepts exactly ``findings``; reasons written for entries that stay are kept."""
    accepted: dict[str, dict[str, Any]] = {}
    for finding in sorted(findings, key=lambda f: (f.file or "", f.line or 0, f.rule)):
        before = previous.accepted.get(finding.fingerprint, {})
        accepted[finding.fingerprint] = {
            "tool": finding.tool,
            "rule": finding.rule,
            "file": finding.file,
            "line": finding.line,
            "preview": finding.message.split(":", 1)[0],
            "reason": str(before.get("reason", "")),
        }
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"version": VERSION, "accepted": accepted}
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return Baseline(accepted)
