"""New advisories that affect components already scanned: found from their latest SBOMs when the
advisories are imported (nothing is rescanned), recorded once, shown on the owners' home page
and posted to ``security.notify_urls`` as Slack-compatible JSON."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx
import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from pavedroad.catalog.models import Entity
from pavedroad.core.db import chunks
from pavedroad.security.advisories.models import Advisory, AdvisoryPackage
from pavedroad.security.advisories.ranges import evaluate
from pavedroad.security.impact import latest_package_rows
from pavedroad.security.models import SecurityAlert

if TYPE_CHECKING:
    from pavedroad.runtime import Runtime

log = logging.getLogger(__name__)
TIMEOUT_SECONDS = 5.0
SHOWN_PER_MESSAGE = 20


def record_alerts(
    session: Session, advisory_ids: Sequence[str], *, now: datetime | None = None
) -> list[SecurityAlert]:
    """An alert for every (component, advisory, package version) newly affected by one of
    ``advisory_ids``; alerts already recorded are not repeated."""
    moment = now or datetime.now(UTC)
    new: list[SecurityAlert] = []
    for batch in chunks(sorted(set(advisory_ids)), 200):
        affected = session.execute(
            select(
                AdvisoryPackage.advisory_id,
                AdvisoryPackage.ecosystem,
                AdvisoryPackage.name,
                AdvisoryPackage.ranges,
                AdvisoryPackage.versions,
                Advisory.severity,
                Advisory.summary,
                Advisory.details,
            )
            .join(Advisory, Advisory.id == AdvisoryPackage.advisory_id)
            .where(AdvisoryPackage.advisory_id.in_(batch), Advisory.withdrawn.is_(None))
        ).all()
        by_package: dict[tuple[str, str], list[Any]] = defaultdict(list)
        for row in affected:
            by_package[(row.ecosystem, row.name)].append(row)
        known = _known(session, batch)
        for (ecosystem, name), advisories in by_package.items():
            for ref, _commit, version, package in latest_package_rows(session, ecosystem, [name]):
                for row in advisories:
                    key = (ref, row.advisory_id, package, version)
                    if key in known:
                        continue
                    verdict = evaluate(ecosystem, version, row.ranges, row.versions)
                    if not verdict.affected:
                        continue
                    known.add(key)
                    alert = SecurityAlert(
                        component_ref=ref,
                        advisory_id=row.advisory_id,
                        package=package,
                        version=version,
                        severity=row.severity,
                        fixed=verdict.fixed,
                        summary=(row.summary or row.details or "")[:500],
                        created_at=moment,
                    )
                    session.add(alert)
                    new.append(alert)
    session.flush()
    return new


def alerts_for(
    session: Session, component_refs: Sequence[str], limit: int = 10
) -> list[SecurityAlert]:
    """The newest alerts of these components."""
    if not component_refs:
        return []
    return list(
        session.scalars(
            select(SecurityAlert)
            .where(SecurityAlert.component_ref.in_(list(component_refs)[:1000]))
            .order_by(SecurityAlert.created_at.desc(), SecurityAlert.id.desc())
            .limit(limit)
        )
    )


def notify_alerts(runtime: Runtime, alert_ids: Sequence[int]) -> int:
    """Post the alerts not yet sent to every ``security.notify_urls``; how many were sent.
    A receiver that fails is logged and the alerts stay unsent for the next import."""
    urls = runtime.settings.security.notify_urls
    if not urls or not alert_ids:
        return 0
    with runtime.db.session() as session:
        alerts = list(
            session.scalars(
                select(SecurityAlert).where(
                    SecurityAlert.id.in_(list(alert_ids)), SecurityAlert.notified_at.is_(None)
                )
            )
        )
        if not alerts:
            return 0
        owners = _owners(session, sorted({alert.component_ref for alert in alerts}))
        message = alert_message(alerts, owners, runtime.settings.resolved_base_url)
        delivered = True
        with httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False) as client:
            for url in urls:
                try:
                    client.post(url, json=message).raise_for_status()
                except httpx.HTTPError as error:
                    delivered = False
                    log.warning(
                        "a security alert was not delivered", extra={"error": type(error).__name__}
                    )
        if delivered:
            for alert in alerts:
                alert.notified_at = datetime.now(UTC)
        return len(alerts) if delivered else 0


def alert_message(
    alerts: Sequence[SecurityAlert], owners: dict[str, str | None], base_url: str
) -> dict[str, Any]:
    """A Slack-compatible message: one line per affected component, its owner and the fix."""
    lines = []
    for alert in alerts[:SHOWN_PER_MESSAGE]:
        fix = f" → upgrade to {alert.fixed}" if alert.fixed else " (no fix known)"
        owner = owners.get(alert.component_ref) or "no owner"
        lines.append(
            f"• {alert.component_ref} ({owner}): {alert.advisory_id} "
            f"[{alert.severity or 'severity unknown'}] in {alert.package} "
            f"{alert.version}{fix}"
        )
    if len(alerts) > SHOWN_PER_MESSAGE:
        lines.append(f"…and {len(alerts) - SHOWN_PER_MESSAGE} more")
    title = f"New advisories affect {len({a.component_ref for a in alerts})} component(s)"
    link = f"{base_url.rstrip('/')}/security/affected"
    return {
        "text": title,
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": title}},
            {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}},
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": f"<{link}|Who is affected?>"}],
            },
        ],
        "alerts": [
            {
                "component": a.component_ref,
                "owner": owners.get(a.component_ref),
                "advisory": a.advisory_id,
                "package": a.package,
                "version": a.version,
                "severity": a.severity,
                "fixed": a.fixed,
            }
            for a in alerts
        ],
    }


def _known(session: Session, advisory_ids: Sequence[str]) -> set[tuple[str, str, str, str]]:
    rows = session.execute(
        select(
            SecurityAlert.component_ref,
            SecurityAlert.advisory_id,
            SecurityAlert.package,
            SecurityAlert.version,
        ).where(SecurityAlert.advisory_id.in_(list(advisory_ids)))
    )
    return {(r[0], r[1], r[2], r[3]) for r in rows}


def _owners(session: Session, refs: Sequence[str]) -> dict[str, str | None]:
    owners: dict[str, str | None] = {}
    for batch in chunks(list(refs), 500):
        for row in session.execute(select(Entity.ref, Entity.body).where(Entity.ref.in_(batch))):
            owners[row.ref] = (orjson.loads(row.body).get("spec") or {}).get("owner")
    return owners
