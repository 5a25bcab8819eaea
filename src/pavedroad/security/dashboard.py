"""What the Security tab and the organisation's dashboard show: the open findings (those of each
component's latest scan of every kind) by severity and age, scans that did not run, the trend,
and what blocks the next deploy (the latest gate decision)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pavedroad.core.db import chunks
from pavedroad.security.findings import SEVERITIES, Finding
from pavedroad.security.models import GateDecision, SecurityFinding, SecurityScan
from pavedroad.security.scans import finding_from_json

AGE_BUCKETS = (("under a week", 7), ("1 to 4 weeks", 28), ("older", None))
TREND_RUNS = 20
TREND_DAYS = 30


@dataclass(frozen=True, slots=True)
class OpenFinding:
    finding: Finding
    first_seen: datetime

    def age_days(self, now: datetime) -> int:
        return max(0, (now - self.first_seen).days)


@dataclass(slots=True)
class ComponentSecurity:
    ref: str
    findings: list[OpenFinding] = field(default_factory=list)
    failed_scans: list[SecurityScan] = field(default_factory=list)
    scanned_at: datetime | None = None
    gate: GateDecision | None = None
    trend: list[tuple[datetime, dict[str, int]]] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return severity_counts(item.finding for item in self.findings)


def severity_counts(findings: object) -> dict[str, int]:
    counts = dict.fromkeys(SEVERITIES, 0)
    for finding in findings:  # type: ignore[attr-defined]
        counts[finding.severity] = counts.get(finding.severity, 0) + 1
    return counts


def latest_scans(session: Session, refs: Sequence[str]) -> dict[str, list[SecurityScan]]:
    """Each component's latest scan of every kind."""
    found: dict[str, dict[str, SecurityScan]] = defaultdict(dict)
    for batch in chunks(list(refs), 500):
        rows = session.scalars(
            select(SecurityScan)
            .where(SecurityScan.component_ref.in_(batch))
            .order_by(SecurityScan.created_at.desc(), SecurityScan.id.desc())
        )
        for scan in rows:
            found[scan.component_ref or ""].setdefault(scan.kind, scan)
    return {ref: list(kinds.values()) for ref, kinds in found.items()}


def component_security(
    session: Session, ref: str, now: datetime | None = None
) -> ComponentSecurity:
    """The Security tab of one component."""
    summary = ComponentSecurity(ref)
    scans = latest_scans(session, [ref]).get(ref, [])
    if not scans:
        return summary
    summary.scanned_at = max(_aware(scan.created_at) for scan in scans)
    summary.failed_scans = [scan for scan in scans if scan.status == "failed"]
    summary.findings = _open_findings(session, ref, [scan.id for scan in scans])
    summary.gate = session.scalars(
        select(GateDecision)
        .where(GateDecision.component_ref == ref)
        .order_by(GateDecision.decided_at.desc(), GateDecision.id.desc())
        .limit(1)
    ).first()
    summary.trend = _run_trend(session, ref)
    return summary


def _open_findings(session: Session, ref: str, scan_ids: list[int]) -> list[OpenFinding]:
    rows = session.execute(
        select(SecurityFinding.fingerprint, SecurityFinding.finding).where(
            SecurityFinding.scan_id.in_(scan_ids)
        )
    ).all()
    first_seen = dict(
        session.execute(
            select(SecurityFinding.fingerprint, func.min(SecurityFinding.created_at))
            .where(
                SecurityFinding.component_ref == ref,
                SecurityFinding.fingerprint.in_([row[0] for row in rows]),
            )
            .group_by(SecurityFinding.fingerprint)
        ).all()
    )
    order = {severity: index for index, severity in enumerate(SEVERITIES)}
    found = [
        OpenFinding(finding_from_json(data), _aware(first_seen[fingerprint]))
        for fingerprint, data in rows
    ]
    found.sort(key=lambda item: (order.get(item.finding.severity, 9), item.first_seen))
    return found


def _run_trend(session: Session, ref: str) -> list[tuple[datetime, dict[str, int]]]:
    """Findings by severity in each of the component's last runs, oldest first."""
    runs = session.execute(
        select(SecurityScan.run_id, func.max(SecurityScan.created_at))
        .where(SecurityScan.component_ref == ref, SecurityScan.run_id.is_not(None))
        .group_by(SecurityScan.run_id)
        .order_by(func.max(SecurityScan.created_at).desc())
        .limit(TREND_RUNS)
    ).all()
    counted = session.execute(
        select(SecurityScan.run_id, SecurityFinding.severity, func.count())
        .join(SecurityFinding, SecurityFinding.scan_id == SecurityScan.id)
        .where(SecurityScan.run_id.in_([run for run, _ in runs]))
        .group_by(SecurityScan.run_id, SecurityFinding.severity)
    ).all()
    per_run: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(SEVERITIES, 0))
    for run_id, severity, count in counted:
        per_run[str(run_id)][severity] = count
    return [(_aware(at), per_run[str(run_id)]) for run_id, at in reversed(runs)]


@dataclass(slots=True)
class OrganisationSecurity:
    counts: dict[str, int]
    by_owner: list[tuple[str, dict[str, int]]]
    ages: list[tuple[str, int]]
    blocked: list[GateDecision]
    failed_scans: list[SecurityScan]
    trend: list[tuple[datetime, dict[str, int]]]
    components_scanned: int


def organisation_security(
    session: Session, owners: dict[str, str | None], now: datetime | None = None
) -> OrganisationSecurity:
    """The dashboard over ``owners`` (component ref → owner), the components the viewer sees."""
    moment = now or datetime.now(UTC)
    scans = latest_scans(session, list(owners))
    scan_ids = [scan.id for kinds in scans.values() for scan in kinds]
    per_owner: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(SEVERITIES, 0))
    ages = dict.fromkeys([label for label, _ in AGE_BUCKETS], 0)
    totals = dict.fromkeys(SEVERITIES, 0)
    for ref, severity, first in _open_rows(session, scan_ids):
        totals[severity] += 1
        per_owner[owners.get(ref) or ""][severity] += 1
        ages[_bucket((moment - _aware(first)).days)] += 1
    blocked = _blocked(session, list(owners))
    failed = [scan for kinds in scans.values() for scan in kinds if scan.status == "failed"]
    return OrganisationSecurity(
        counts=totals,
        by_owner=sorted(
            per_owner.items(),
            key=lambda item: (-sum(item[1][s] for s in ("critical", "high")), item[0]),
        ),
        ages=list(ages.items()),
        blocked=blocked,
        failed_scans=failed,
        trend=_daily_trend(session, list(owners), moment),
        components_scanned=len(scans),
    )


def _open_rows(session: Session, scan_ids: list[int]) -> list[tuple[str, str, datetime]]:
    """(component, severity, first seen) of every open finding."""
    rows: list[tuple[str, str, datetime]] = []
    for batch in chunks(scan_ids, 500):
        current = session.execute(
            select(
                SecurityFinding.component_ref, SecurityFinding.severity, SecurityFinding.fingerprint
            ).where(SecurityFinding.scan_id.in_(batch))
        ).all()
        firsts = dict(
            session.execute(
                select(SecurityFinding.fingerprint, func.min(SecurityFinding.created_at))
                .where(SecurityFinding.fingerprint.in_({row[2] for row in current}))
                .group_by(SecurityFinding.fingerprint)
            ).all()
        )
        rows.extend((ref or "", severity, firsts[fp]) for ref, severity, fp in current)
    return rows


def _blocked(session: Session, refs: list[str]) -> list[GateDecision]:
    latest: dict[str, GateDecision] = {}
    for batch in chunks(refs, 500):
        for decision in session.scalars(
            select(GateDecision)
            .where(GateDecision.component_ref.in_(batch))
            .order_by(GateDecision.decided_at.desc(), GateDecision.id.desc())
        ):
            latest.setdefault(decision.component_ref or "", decision)
    return sorted((d for d in latest.values() if d.blocked), key=lambda d: d.component_ref or "")


def _daily_trend(
    session: Session, refs: list[str], now: datetime
) -> list[tuple[datetime, dict[str, int]]]:
    """Open findings at the end of each of the last days: per component and kind, the
    latest scan made by then counts."""
    start = now - timedelta(days=TREND_DAYS)
    scans: list[tuple[str, str, datetime, int]] = []
    for batch in chunks(refs, 500):
        scans.extend(
            (row[0] or "", row[1], _aware(row[2]), row[3])
            for row in session.execute(
                select(
                    SecurityScan.component_ref,
                    SecurityScan.kind,
                    SecurityScan.created_at,
                    SecurityScan.id,
                ).where(SecurityScan.component_ref.in_(batch))
            )
        )
    if not scans:
        return []
    counts: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(SEVERITIES, 0))
    for batch in chunks([scan[3] for scan in scans], 500):
        for scan_id, severity, count in session.execute(
            select(SecurityFinding.scan_id, SecurityFinding.severity, func.count())
            .where(SecurityFinding.scan_id.in_(batch))
            .group_by(SecurityFinding.scan_id, SecurityFinding.severity)
        ):
            counts[scan_id][severity] = count
    scans.sort(key=lambda scan: scan[2])
    trend = []
    for day in range(TREND_DAYS + 1):
        end = (start + timedelta(days=day)).replace(hour=23, minute=59, second=59)
        current: dict[tuple[str, str], int] = {}
        for ref, kind, at, scan_id in scans:
            if at <= end:
                current[(ref, kind)] = scan_id
        total = dict.fromkeys(SEVERITIES, 0)
        for scan_id in current.values():
            for severity, count in counts[scan_id].items():
                total[severity] += count
        trend.append((end, total))
    return trend


def _bucket(days: int) -> str:
    for label, limit in AGE_BUCKETS:
        if limit is None or days < limit:
            return label
    return AGE_BUCKETS[-1][0]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
