"""Finding secrets in a repository's files: detect-secrets' plugins and our own patterns, over
every text file except lock files, SBOMs, the baseline, and tool folders. A finding names the
secret only by its first and last characters; the secret itself goes nowhere."""

from __future__ import annotations

import fnmatch
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pavedroad.security.findings import Finding
from pavedroad.security.secrets.patterns import ALLOWLIST_PRAGMA, PATTERNS, PLACEHOLDER, mask

BASELINE_FILE = ".pavedroad/secrets-baseline.json"
EXCLUDED_FOLDERS = frozenset(
    (".git", "node_modules", ".venv", "venv", ".tox", "__pycache__", ".mypy_cache", ".ruff_cache")
)
EXCLUDED_FILES = (
    # lock files: hashes and resolved URLs, not secrets
    "*.lock", "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml",
    "poetry.lock", "Pipfile.lock", "uv.lock", "go.sum", "gradle.lockfile", "*.lockfile",
    # SBOMs
    "*.cdx.json", "*.cdx.xml", "bom.json", "bom.xml", "*.spdx.json", "sbom.json",
    # scan reports of our own
    "*.sarif",
)  # fmt: skip
MAX_FILE_BYTES = 2_000_000  # bigger files are data, not code; they are listed as skipped
DETECT_SECRETS_PLUGINS = (
    "ArtifactoryDetector", "AWSKeyDetector", "AzureStorageKeyDetector", "BasicAuthDetector",
    "DiscordBotTokenDetector", "GitHubTokenDetector", "GitLabTokenDetector", "JwtTokenDetector",
    "KeywordDetector", "MailchimpDetector", "NpmDetector", "OpenAIDetector",
    "PrivateKeyDetector", "PypiTokenDetector", "SendGridDetector", "SlackDetector",
    "SoftlayerDetector", "SquareOAuthDetector", "StripeDetector", "TelegramBotTokenDetector",
    "TwilioKeyDetector",
)  # fmt: skip
DETECT_SECRETS_SEVERITY = {
    "Private Key": "critical",
    "Azure Storage Account access key": "critical",
    "Stripe Access Key": "critical",
    "Secret Keyword": "medium",
    "JSON Web Token": "medium",
}
# detect-secrets keeps its settings in one global: two scans at once must not mix them.
_DETECT_SECRETS = threading.Lock()


def files_to_scan(root: Path, *, baseline: str = BASELINE_FILE) -> Iterator[Path]:
    """The repository's files that could hold a secret, relative to ``root``."""
    for folder, folders, files in os.walk(root):
        folders[:] = sorted(name for name in folders if name not in EXCLUDED_FOLDERS)
        for name in sorted(files):
            path = Path(folder, name)
            relative = path.relative_to(root)
            if relative.as_posix() == baseline or path.is_symlink():
                continue
            if any(fnmatch.fnmatch(name, pattern) for pattern in EXCLUDED_FILES):
                continue
            yield relative


def _text(path: Path) -> str | None:
    """The file's text, or None for a binary or oversized file."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return None
        data = path.read_bytes()
    except OSError:
        return None
    if b"\0" in data[:8192]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


@dataclass(slots=True)
class SecretsScan:
    findings: list[Finding] = field(default_factory=list)
    files_scanned: int = 0
    skipped: list[str] = field(default_factory=list)  # binary or oversized files


def find_secrets(root: Path, *, baseline: str = BASELINE_FILE) -> SecretsScan:
    """Every secret in the repository at ``root`` (the baseline is not consulted here)."""
    from detect_secrets.core.scan import scan_file as detect_in_file
    from detect_secrets.settings import transient_settings

    scan = SecretsScan()
    config = {"plugins_used": [{"name": name} for name in DETECT_SECRETS_PLUGINS]}
    with _DETECT_SECRETS, transient_settings(config):
        for relative in files_to_scan(root, baseline=baseline):
            text = _text(root / relative)
            if text is None:
                scan.skipped.append(relative.as_posix())
                continue
            scan.files_scanned += 1
            ours = _our_patterns(text, relative.as_posix())
            scan.findings += ours
            lines = {finding.line for finding in ours}
            for secret in detect_in_file(str(root / relative)):
                value = secret.secret_value or ""
                if secret.line_number in lines or PLACEHOLDER.search(value):
                    continue  # our own pattern named this one already, more precisely
                scan.findings.append(_detected(secret.type, secret.line_number, value, relative))
    return scan


def _our_patterns(text: str, file: str) -> list[Finding]:
    findings: list[Finding] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if ALLOWLIST_PRAGMA in line:
            continue
        for pattern in PATTERNS:
            for match in pattern.regex.finditer(line):
                secret = match.group(pattern.group)
                if PLACEHOLDER.search(secret):
                    continue
                preview = secret if pattern.shown else mask(secret)
                findings.append(
                    Finding(
                        tool="pavedroad-secrets",
                        kind="secret",
                        rule=pattern.rule,
                        severity=pattern.severity,
                        confidence="high",
                        message=f"{pattern.title} {preview}: {pattern.fix}",
                        file=file,
                        line=number,
                        cwe="CWE-798",
                    )
                )
    return findings


def _detected(secret_type: str, line: int, secret: str, relative: Path) -> Finding:
    return Finding(
        tool="detect-secrets",
        kind="secret",
        rule=_slug(secret_type),
        severity=DETECT_SECRETS_SEVERITY.get(secret_type, "high"),
        confidence="medium",
        message=f"{secret_type} {mask(secret)}: remove it, rotate it if it is real, "
        "and read it from the environment or a secrets store",
        file=relative.as_posix(),
        line=line,
        cwe="CWE-798",
    )
