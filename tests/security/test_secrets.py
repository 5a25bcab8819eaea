"""Secrets in code: our patterns and detect-secrets over a repository (one scan per module);
the secret itself never appears in what a finding shows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pavedroad.security.secrets import PATTERNS, SecretsScan, find_secrets, mask
from tests.security.code_fixtures import secrets_repository


@pytest.fixture(scope="module")
def repository(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    return secrets_repository(tmp_path_factory.mktemp("repository"))


@pytest.fixture(scope="module")
def scanned(repository: tuple[Path, dict[str, str]]) -> SecretsScan:
    return find_secrets(repository[0])


def by_rule(scan: SecretsScan) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for finding in scan.findings:
        found.setdefault(finding.rule, []).append(finding.where)
    return found


def test_every_pattern_finds_its_secret_once_where_it_is(scanned: SecretsScan):
    assert by_rule(scanned) == {
        "aws-access-key-id": ["settings.py:1"],
        "aws-secret-access-key": ["settings.py:2"],
        "github-token": ["settings.py:3"],
        "github-fine-grained-token": ["settings.py:4"],
        "gitlab-token": ["settings.py:5"],
        "slack-token": ["config/app.yaml:1"],
        "stripe-live-key": ["config/app.yaml:2"],
        "connection-string-password": ["config/app.yaml:3"],
        "gcp-service-account-key": ["deploy/service-account.json:1"],
        "azure-storage-account-key": ["deploy/storage.env:1"],
        "private-key": ["keys/id_rsa:1"],
        "jwt": ["web/session.js:1"],
    }


def test_each_pattern_has_its_own_severity(scanned: SecretsScan):
    severity = {finding.rule: finding.severity for finding in scanned.findings}
    assert severity["private-key"] == "critical"
    assert severity["stripe-live-key"] == "critical"
    assert severity["github-token"] == "high"
    assert severity["jwt"] == "medium"
    assert {pattern.severity for pattern in PATTERNS} <= {"critical", "high", "medium"}


def test_findings_show_the_secret_only_by_its_first_and_last_characters(
    scanned: SecretsScan, repository: tuple[Path, dict[str, str]]
):
    shown = json.dumps([finding.to_json() for finding in scanned.findings])
    for secret in repository[1].values():
        assert secret not in shown
    [github] = [f for f in scanned.findings if f.rule == "github-token"]
    assert f"ghp_…{repository[1]['github-token'][-4:]}" in github.message
    assert "MIIEowIBAAKCAQEA" not in shown  # a private key shows its BEGIN line only


def test_lock_files_sboms_binaries_and_tool_folders_are_not_scanned(scanned: SecretsScan):
    files = {finding.file for finding in scanned.findings}
    for excluded in ("package-lock.json", "poetry.lock", "sbom.cdx.json", "bom.json", "image.bin"):
        assert excluded not in files
    assert not {f for f in files if f and f.startswith(("node_modules/", ".venv/", ".git/"))}
    assert scanned.skipped == ["image.bin"]  # looked at, found binary: said so


def test_placeholders_and_allowlisted_lines_are_not_secrets(scanned: SecretsScan):
    assert "config/app.yaml:4" not in {f.where for f in scanned.findings}  # ${DATABASE_PASSWORD}
    assert "docs/allowed.md" not in {f.file for f in scanned.findings}  # pragma: allowlist secret


def test_detect_secrets_adds_what_our_patterns_do_not_know(tmp_path: Path):
    (tmp_path / "app.py").write_text('db_password = "' + "Tr0ub4dor" + '&3xyzzy"\n')
    [finding] = find_secrets(tmp_path).findings
    assert (finding.tool, finding.rule, finding.severity) == (
        "detect-secrets",
        "secret-keyword",
        "medium",
    )
    assert "Tr0ub4dor&3xyzzy" not in finding.message


@pytest.mark.parametrize(
    ("secret", "shown"),
    [
        ("ghp_" + "0" * 32 + "9f3a", "ghp_…9f3a"),
        ("S3cretPassw0rd", "S3…rd"),
        ("hunter2", "…(7 characters)"),
    ],
)
def test_mask_keeps_at_most_four_characters_at_each_end(secret: str, shown: str):
    assert mask(secret) == shown
