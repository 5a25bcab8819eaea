"""Recording what a security step did: the scan and its findings, or the reason it did not run.

Step types call :func:`record_scan` when they end; a step that runs again (a retry) replaces
its earlier record, so a run has one answer per step.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from pavedroad.security.findings import Finding, Kind
from pavedroad.security.models import SecurityFinding, SecurityScan


def record_scan(
    session: Session,
    *,
    run_id: str | None,
    step_id: str,
    kind: Kind,
    component_ref: str | None,
    commit: str | None,
    findings: Sequence[Finding] = (),
    error: str | None = None,
) -> SecurityScan:
    """Store one scan: its findings, or ``error`` when it could not be carried out."""
    if run_id is not None:
        earlier = select(SecurityScan.id).where(
            SecurityScan.run_id == run_id, SecurityScan.step_id == step_id
        )
        session.execute(delete(SecurityFinding).where(SecurityFinding.scan_id.in_(earlier)))
        session.execute(
            delete(SecurityScan).where(
                SecurityScan.run_id == run_id, SecurityScan.step_id == step_id
            )
        )
    now = datetime.now(UTC)
    scan = SecurityScan(
        run_id=run_id,
        step_id=step_id,
        kind=kind,
        component_ref=component_ref,
        commit=commit,
        status="failed" if error else "succeeded",
        error=error,
        finding_count=len(findings),
        created_at=now,
    )
    session.add(scan)
    session.flush()
    rows = [
        {
            "scan_id": scan.id,
            "component_ref": component_ref,
            "tool": finding.tool,
            "kind": finding.kind,
            "rule": finding.rule,
            "severity": finding.severity,
            "fingerprint": finding.fingerprint,
            "finding": finding.to_json(),
            "created_at": now,
        }
        for finding in findings
    ]
    if rows:
        session.execute(insert(SecurityFinding), rows)
    return scan


def scans_of_run(session: Session, run_id: str) -> list[SecurityScan]:
    return list(
        session.scalars(
            select(SecurityScan).where(SecurityScan.run_id == run_id).order_by(SecurityScan.id)
        )
    )


def findings_of_scans(session: Session, scan_ids: Sequence[int]) -> list[Finding]:
    rows = session.scalars(
        select(SecurityFinding.finding)
        .where(SecurityFinding.scan_id.in_(scan_ids))
        .order_by(SecurityFinding.id)
    )
    return [finding_from_json(row) for row in rows]


def finding_from_json(data: dict[str, object]) -> Finding:
    fields = {name: data.get(name) for name in Finding.__dataclass_fields__}
    return Finding(**fields)  # type: ignore[arg-type]
