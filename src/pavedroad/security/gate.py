"""The security gate: the organisation's policy over a run's findings, minus the exceptions
people granted, decides whether the commit may be deployed — and says exactly why not.

By default (``security.gate`` settings) a critical or high vulnerability with a fix available,
any secret, a high SAST or DAST finding, and a scan that did not run all block.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pavedroad.audit import service as audit
from pavedroad.config import SecurityGateSettings
from pavedroad.core.actors import Actor
from pavedroad.core.errors import InputError, NotFoundError
from pavedroad.security.findings import Finding
from pavedroad.security.models import GateDecision, SecurityException
from pavedroad.security.scans import findings_of_scans, scans_of_run

MIN_REASON_LENGTH = 10


@dataclass(frozen=True, slots=True)
class Blocker:
    """One reason the gate is closed: a finding the policy blocks, or a scan that did not run."""

    reason: str
    finding: Finding | None = None

    def to_json(self) -> dict[str, Any]:
        if self.finding is None:
            return {"reason": self.reason}
        return {
            "reason": self.reason,
            "tool": self.finding.tool,
            "rule": self.finding.rule,
            "severity": self.finding.severity,
            "where": self.finding.where,
            "message": self.finding.message,
            "fix": self.finding.fix,
            "fingerprint": self.finding.fingerprint,
        }


def describe_blocker(blocker: dict[str, Any]) -> str:
    """One line for people: "PYSEC-2019-13 (high) at django 2.2.0: high vulnerability with a fix
    available — upgrade django 2.2.0 → 2.2.4"."""
    if "rule" not in blocker:
        return str(blocker["reason"])
    fix = f" — {blocker['fix']}" if blocker.get("fix") else ""
    where = f" at {blocker['where']}" if blocker.get("where") else ""
    return f"{blocker['rule']} ({blocker['severity']}){where}: {blocker['reason']}{fix}"


def policy_reason(finding: Finding, policy: SecurityGateSettings) -> str | None:
    """Why the policy blocks ``finding``, or None when it lets it through."""
    if finding.kind == "secret":
        return "a secret in the code" if policy.block_secrets else None
    if finding.kind == "vulnerability":
        if finding.severity not in policy.vulnerability_severities:
            return None
        if policy.vulnerabilities_need_fix and not finding.fixed:
            return None
        return f"{finding.severity} vulnerability" + (
            " with a fix available" if finding.fixed else ""
        )
    severities = policy.sast_severities if finding.kind == "sast" else policy.dast_severities
    if finding.severity in severities:
        return f"{finding.severity} {finding.kind.upper()} finding"
    return None


def active_exceptions(
    session: Session, component_ref: str | None, now: datetime | None = None
) -> list[SecurityException]:
    if component_ref is None:
        return []
    moment = now or datetime.now(UTC)
    rows = session.scalars(
        select(SecurityException).where(
            SecurityException.component_ref == component_ref,
            SecurityException.revoked_at.is_(None),
        )
    )
    return [row for row in rows if _aware(row.expires_at) > moment]


def exception_for(
    finding: Finding, exceptions: list[SecurityException]
) -> SecurityException | None:
    for exception in exceptions:
        if exception.rule == finding.rule and exception.fingerprint in (None, finding.fingerprint):
            return exception
    return None


def decide_gate(
    session: Session,
    *,
    run_id: str,
    component_ref: str | None,
    commit: str | None,
    policy: SecurityGateSettings,
    now: datetime | None = None,
) -> GateDecision:
    """Judge every scan of the run and store the decision."""
    moment = now or datetime.now(UTC)
    scans = scans_of_run(session, run_id)
    blockers: list[Blocker] = []
    if not scans and policy.block_failed_scans:
        blockers.append(Blocker("no security scan ran in this run (an earlier stage failed?)"))
    if policy.block_failed_scans:
        blockers.extend(
            Blocker(f"the {scan.kind} scan ({scan.step_id}) did not run: {scan.error}")
            for scan in scans
            if scan.status == "failed"
        )
    exceptions = active_exceptions(session, component_ref, moment)
    excepted: list[dict[str, Any]] = []
    for finding in findings_of_scans(session, [scan.id for scan in scans]):
        reason = policy_reason(finding, policy)
        if reason is None:
            continue
        exception = exception_for(finding, exceptions)
        if exception is not None:
            excepted.append(Blocker(reason, finding).to_json() | _exception_json(exception))
        else:
            blockers.append(Blocker(reason, finding))
    decision = GateDecision(
        run_id=run_id,
        component_ref=component_ref,
        commit=commit,
        blocked=bool(blockers),
        reasons=[blocker.to_json() for blocker in blockers],
        excepted=excepted,
        decided_at=moment,
    )
    session.add(decision)
    session.flush()
    return decision


def gate_of_commit(session: Session, component_ref: str, commit: str) -> GateDecision | None:
    """The latest decision on ``commit`` of the component, or None when it was never judged."""
    return session.scalars(
        select(GateDecision)
        .where(GateDecision.component_ref == component_ref, GateDecision.commit == commit)
        .order_by(GateDecision.decided_at.desc(), GateDecision.id.desc())
        .limit(1)
    ).first()


def add_exception(
    session: Session,
    *,
    component_ref: str,
    rule: str,
    reason: str,
    expires_at: datetime,
    actor: Actor,
    policy: SecurityGateSettings,
    fingerprint: str | None = None,
    now: datetime | None = None,
) -> SecurityException:
    """Accept ``rule`` (or one finding of it) in ``component_ref`` until ``expires_at``."""
    moment = now or datetime.now(UTC)
    expires = _aware(expires_at)
    if len(reason.strip()) < MIN_REASON_LENGTH:
        raise InputError(
            "an exception needs a reason of at least 10 characters",
            hint="say why the finding is acceptable and what will be done about it",
        )
    if not rule.strip():
        raise InputError("an exception names the rule or advisory it accepts (e.g. PYSEC-2019-13)")
    if expires <= moment:
        raise InputError(f"expires_at {expires.isoformat()} is in the past")
    if expires > moment + timedelta(days=policy.max_exception_days):
        raise InputError(
            f"exceptions last at most {policy.max_exception_days} days",
            hint="choose an earlier expiry, or change security.gate.max_exception_days",
        )
    exception = SecurityException(
        id=str(uuid.uuid4()),
        component_ref=component_ref,
        rule=rule.strip(),
        fingerprint=fingerprint,
        reason=reason.strip(),
        expires_at=expires,
        created_by=actor.ref,
        created_at=moment,
    )
    session.add(exception)
    session.flush()
    audit.record(
        session,
        actor=actor,
        event="security.exception.created",
        target=component_ref,
        details={
            "exception": exception.id,
            "rule": exception.rule,
            "fingerprint": fingerprint,
            "expires_at": expires.isoformat(),
            "reason": exception.reason,
        },
    )
    return exception


def revoke_exception(session: Session, exception_id: str, *, actor: Actor) -> SecurityException:
    exception = session.get(SecurityException, exception_id)
    if exception is None or exception.revoked_at is not None:
        raise NotFoundError(f"no active exception {exception_id}")
    exception.revoked_at = datetime.now(UTC)
    session.flush()
    audit.record(
        session,
        actor=actor,
        event="security.exception.revoked",
        target=exception.component_ref,
        details={"exception": exception.id, "rule": exception.rule},
    )
    return exception


def _exception_json(exception: SecurityException) -> dict[str, Any]:
    return {
        "exception": exception.id,
        "exception_reason": exception.reason,
        "expires_at": _aware(exception.expires_at).isoformat(),
        "granted_by": exception.created_by,
    }


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
