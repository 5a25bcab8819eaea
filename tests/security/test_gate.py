"""The gate blocks what the policy says, says exactly why, and honours exceptions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from pavedroad.audit.models import AuditEvent
from pavedroad.config import SecurityGateSettings
from pavedroad.core.actors import Actor
from pavedroad.core.errors import InputError
from pavedroad.security.findings import Finding
from pavedroad.security.gate import (
    add_exception,
    decide_gate,
    describe_blocker,
    gate_of_commit,
    revoke_exception,
)
from pavedroad.security.scans import record_scan

COMPONENT = "component:default/payments"
COMMIT = "a" * 40
POLICY = SecurityGateSettings()
ACTOR = Actor("user:default/sec.lead")

DJANGO = Finding(
    tool="osv",
    kind="vulnerability",
    rule="PYSEC-2019-13",
    severity="high",
    message="SQL injection in JSONField",
    package="django",
    version="2.2.0",
    fixed="2.2.4",
)
UNFIXED = Finding(
    tool="osv",
    kind="vulnerability",
    rule="PYSEC-2099-1",
    severity="critical",
    message="no fix yet",
    package="left-pad",
    version="1.0",
)
MEDIUM = Finding(
    tool="osv",
    kind="vulnerability",
    rule="PYSEC-2020-5",
    severity="medium",
    message="minor",
    package="jinja2",
    version="2.10",
    fixed="2.10.1",
)
SECRET = Finding(
    tool="pavedroad-secrets",
    kind="secret",
    rule="github-token",
    severity="high",
    message="GitHub token ghp_…9f3a",
    file="deploy.sh",
    line=3,
)
SAST_LOW = Finding(
    tool="bandit",
    kind="sast",
    rule="B101",
    severity="low",
    message="assert used",
    file="app.py",
    line=9,
)


def scan(
    session: Session,
    run_id: str,
    step: str,
    kind: str,
    *findings: Finding,
    error: str | None = None,
) -> None:
    record_scan(
        session,
        run_id=run_id,
        step_id=step,
        kind=kind,  # type: ignore[arg-type]
        component_ref=COMPONENT,
        commit=COMMIT,
        findings=findings,
        error=error,
    )


def decide(session: Session, run_id: str = "run-1") -> tuple[bool, list[str]]:
    decision = decide_gate(
        session, run_id=run_id, component_ref=COMPONENT, commit=COMMIT, policy=POLICY
    )
    return decision.blocked, [describe_blocker(reason) for reason in decision.reasons]


def test_a_fixable_high_vulnerability_and_a_secret_block_with_where_and_the_fix(
    session: Session,
) -> None:
    scan(session, "run-1", "security.vuln-scan", "vulnerability", DJANGO, UNFIXED, MEDIUM)
    scan(session, "run-1", "security.secrets-scan", "secret", SECRET)
    scan(session, "run-1", "security.sast", "sast", SAST_LOW)

    blocked, reasons = decide(session)

    assert blocked
    assert reasons == [
        "PYSEC-2019-13 (high) at django 2.2.0: high vulnerability with a fix available "
        "— upgrade django 2.2.0 → 2.2.4",
        "github-token (high) at deploy.sh:3: a secret in the code",
    ]


def test_a_scan_that_did_not_run_blocks_and_says_why(session: Session) -> None:
    scan(session, "run-1", "security.sast", "sast", error="bandit crashed: exit 2")

    blocked, reasons = decide(session)

    assert blocked
    assert reasons == ["the sast scan (security.sast) did not run: bandit crashed: exit 2"]


def test_findings_below_the_policy_let_the_commit_through(session: Session) -> None:
    scan(session, "run-1", "security.vuln-scan", "vulnerability", MEDIUM, UNFIXED)
    scan(session, "run-1", "security.sast", "sast", SAST_LOW)

    assert decide(session) == (False, [])
    decision = gate_of_commit(session, COMPONENT, COMMIT)
    assert decision is not None and not decision.blocked


def test_a_retried_step_replaces_its_earlier_scan(session: Session) -> None:
    scan(session, "run-1", "security.sast", "sast", error="timed out")
    scan(session, "run-1", "security.sast", "sast", SAST_LOW)

    assert decide(session) == (False, [])


def test_an_exception_lets_one_finding_through_until_it_expires(session: Session) -> None:
    now = datetime.now(UTC)
    scan(session, "run-1", "security.vuln-scan", "vulnerability", DJANGO)
    exception = add_exception(
        session,
        component_ref=COMPONENT,
        rule="PYSEC-2019-13",
        reason="JSONField is not used; upgrade planned in Q1",
        expires_at=now + timedelta(days=30),
        actor=ACTOR,
        policy=POLICY,
    )

    decision = decide_gate(
        session, run_id="run-1", component_ref=COMPONENT, commit=COMMIT, policy=POLICY
    )
    later = decide_gate(
        session,
        run_id="run-1",
        component_ref=COMPONENT,
        commit=COMMIT,
        policy=POLICY,
        now=now + timedelta(days=31),
    )

    assert not decision.blocked
    assert decision.excepted[0]["exception"] == exception.id
    assert later.blocked
    audit = session.scalars(
        select(AuditEvent).where(AuditEvent.event == "security.exception.created")
    ).one()
    assert audit.actor == ACTOR.ref


def test_a_revoked_exception_no_longer_applies(session: Session) -> None:
    scan(session, "run-1", "security.secrets-scan", "secret", SECRET)
    exception = add_exception(
        session,
        component_ref=COMPONENT,
        rule="github-token",
        fingerprint=SECRET.fingerprint,
        reason="a revoked test token, rotated",
        expires_at=datetime.now(UTC) + timedelta(days=7),
        actor=ACTOR,
        policy=POLICY,
    )
    assert not decide(session)[0]

    revoke_exception(session, exception.id, actor=ACTOR)

    assert decide(session)[0]


@pytest.mark.parametrize(
    ("reason", "days", "message"),
    [
        ("because", 10, "reason of at least 10 characters"),
        ("fixed in the next release", -1, "in the past"),
        ("fixed in the next release", 400, "at most 180 days"),
    ],
)
def test_an_exception_needs_a_reason_and_a_near_expiry(
    session: Session, reason: str, days: int, message: str
) -> None:
    with pytest.raises(InputError, match=message):
        add_exception(
            session,
            component_ref=COMPONENT,
            rule="PYSEC-2019-13",
            reason=reason,
            expires_at=datetime.now(UTC) + timedelta(days=days),
            actor=ACTOR,
            policy=POLICY,
        )


def test_a_run_with_no_scan_at_all_is_blocked(session: Session) -> None:
    blocked, reasons = decide(session, run_id="run-without-scans")

    assert blocked
    assert reasons == ["no security scan ran in this run (an earlier stage failed?)"]
