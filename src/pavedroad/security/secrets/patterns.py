"""Our own patterns for the token formats that leak most (cloud keys, Git hosting tokens, chat
and payment keys, private keys, JWTs, connection strings with a password), each with its
severity. A pattern's ``group`` is the part of the match that is the secret."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SecretPattern:
    rule: str
    title: str
    severity: str
    regex: re.Pattern[str]
    group: int = 1
    fix: str = "revoke it, issue a new one, and read it from the environment or a secrets store"
    shown: bool = False  # the group is no secret itself (a private key's BEGIN line)


_KEY_NAME = r"[\w.-]{0,20}"
PATTERNS: tuple[SecretPattern, ...] = (
    SecretPattern(
        "aws-access-key-id",
        "AWS access key id",
        "high",
        re.compile(r"(?<![A-Z0-9])((?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16})(?![A-Z0-9])"),
        fix="deactivate the key in IAM, create a new one, and use a role or the environment",
    ),
    SecretPattern(
        "aws-secret-access-key",
        "AWS secret access key",
        "critical",
        re.compile(
            rf"(?i)aws{_KEY_NAME}secret{_KEY_NAME}[\"']?\s*[:=]\s*[\"']?"
            r"([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])"
        ),
        fix="deactivate the key in IAM, create a new one, and use a role or the environment",
    ),
    SecretPattern(
        "gcp-service-account-key",
        "GCP service-account key",
        "critical",
        re.compile(r"\"private_key_id\"\s*:\s*\"([a-f0-9]{40})\""),
        fix="delete the key in IAM, create a new one, and use workload identity instead",
    ),
    SecretPattern(
        "azure-storage-account-key",
        "Azure storage account key",
        "critical",
        re.compile(r"(?i)AccountKey\s*=\s*([A-Za-z0-9+/]{86}==)"),
        fix="rotate the storage account key and use a managed identity or a SAS from a vault",
    ),
    SecretPattern(
        "github-token",
        "GitHub token",
        "high",
        re.compile(r"(?<![A-Za-z0-9_])((?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36})(?![A-Za-z0-9])"),
        fix="revoke the token on GitHub (Settings → Developer settings) and issue a new one",
    ),
    SecretPattern(
        "github-fine-grained-token",
        "GitHub fine-grained token",
        "high",
        re.compile(r"(?<![A-Za-z0-9_])(github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})(?![A-Za-z0-9])"),
        fix="revoke the token on GitHub (Settings → Developer settings) and issue a new one",
    ),
    SecretPattern(
        "gitlab-token",
        "GitLab personal access token",
        "high",
        re.compile(r"(?<![A-Za-z0-9_])(glpat-[A-Za-z0-9_-]{20,})(?![A-Za-z0-9_-])"),
        fix="revoke the token in GitLab (Access tokens) and issue a new one",
    ),
    SecretPattern(
        "slack-token",
        "Slack token",
        "high",
        re.compile(r"(?<![A-Za-z0-9])(xox[abposr]-[A-Za-z0-9-]{10,})"),
        fix="revoke the token in the Slack app's settings and issue a new one",
    ),
    SecretPattern(
        "stripe-live-key",
        "Stripe live secret key",
        "critical",
        re.compile(r"(?<![A-Za-z0-9])((?:sk|rk)_live_[A-Za-z0-9]{24,})"),
        fix="roll the key in the Stripe dashboard and read it from a secrets store",
    ),
    SecretPattern(
        "private-key",
        "private key",
        "critical",
        re.compile(
            r"-----BEGIN ((?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?)-----"
        ),
        fix="treat the key as compromised: replace it, and keep private keys out of the repository",
        shown=True,
    ),
    SecretPattern(
        "jwt",
        "JSON Web Token",
        "medium",
        re.compile(
            r"(?<![A-Za-z0-9_-])(eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{16,})"
        ),
        fix="if it is a real token, revoke its session or rotate the signing key",
    ),
    SecretPattern(
        "connection-string-password",
        "connection string with a password",
        "high",
        re.compile(
            r"\b(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?|amqps?|mssql|"
            r"sqlserver|oracle|jdbc:[a-z]+)(?:\+\w+)?://[^\s:/@'\"]+:([^\s@/'\"]{3,})@[^\s'\"]+"
        ),
        fix="change the database password and pass it through the environment, not the URL",
    ),
)

# Values that are clearly stand-ins, not secrets: ${VAR}, {{ var }}, <password>, %s, ****.
PLACEHOLDER = re.compile(r"^(\$|\{|<|%|\*+$|x+$|\.\.\.)|^(password|changeme|secret|example)$", re.I)
ALLOWLIST_PRAGMA = "pragma: allowlist secret"  # detect-secrets' inline marker, honoured by both


def mask(secret: str) -> str:
    """A secret shown so it can be recognised, never recovered: ``ghp_…9f3a``."""
    if len(secret) >= 16:
        return f"{secret[:4]}…{secret[-4:]}"
    if len(secret) >= 8:
        return f"{secret[:2]}…{secret[-2:]}"
    return f"…({len(secret)} characters)"
