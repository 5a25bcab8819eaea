"""Secrets in code: detect-secrets' plugins and our own patterns over a repository, with a
baseline of accepted findings. A secret is only ever shown by its first and last characters."""

from pavedroad.security.secrets.baseline import (
    Baseline,
    BaselineError,
    load_baseline,
    write_baseline,
)
from pavedroad.security.secrets.patterns import PATTERNS, SecretPattern, mask
from pavedroad.security.secrets.scan import SecretsResult, scan_secrets
from pavedroad.security.secrets.scanning import BASELINE_FILE, SecretsScan, find_secrets

__all__ = [
    "BASELINE_FILE",
    "PATTERNS",
    "Baseline",
    "BaselineError",
    "SecretPattern",
    "SecretsResult",
    "SecretsScan",
    "find_secrets",
    "load_baseline",
    "mask",
    "scan_secrets",
    "write_baseline",
]
