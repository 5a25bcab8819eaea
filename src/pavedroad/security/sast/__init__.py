"""Static analysis: bandit for Python, semgrep with the rules in ``rules/`` for JavaScript,
TypeScript, Java and Go, normalised into findings."""

from pavedroad.security.sast.bandit import BANDIT_VERSION, run_bandit
from pavedroad.security.sast.scan import DEFAULT_TIMEOUT_SECONDS, EXCLUDED, scan_sast
from pavedroad.security.sast.semgrep import RULES_DIR, SEMGREP_VERSION, run_semgrep, shipped_rules

__all__ = [
    "BANDIT_VERSION",
    "DEFAULT_TIMEOUT_SECONDS",
    "EXCLUDED",
    "RULES_DIR",
    "SEMGREP_VERSION",
    "run_bandit",
    "run_semgrep",
    "scan_sast",
    "shipped_rules",
]
