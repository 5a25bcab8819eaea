"""The four DORA metrics from the platform's own deployment records, so they are right by
construction: every production deploy, its outcome and its commits are ours. Per component,
per team (the components a group owns) or for the whole organisation, over the last N days."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pavedroad.catalog.ownership import owned_components
from pavedroad.catalog.queries import Restriction
from pavedroad.config import Settings
from pavedroad.core.clock import as_utc
from pavedroad.core.errors import NotFoundError
from pavedroad.core.git import git
from pavedroad.deploy.models import Deployment
from pavedroad.pipelines.access import component_entity
from pavedroad.pipelines.repositories import repository_of_entity
from pavedroad.pipelines.workspace import mirror_path

OUTCOMES = ("succeeded", "failed", "rolled_back")
FAILED = ("failed", "rolled_back")

DEFINITIONS = {
    "deployment_frequency": (
        "Successful deploys to production per day over the period (redeploys count; "
        "rollbacks do not, they are not changes)."
    ),
    "lead_time": (
        "Median time from the first commit of a change (the oldest commit a production deploy "
        "brought that the previous one did not, by author date) to that deploy going live."
    ),
    "change_failure_rate": (
        "Failed or rolled-back production deploys divided by the production deploys that ran "
        "(deploys refused by a freeze or the gate did not run and are not counted)."
    ),
    "time_to_restore": (
        "Median time from a failed or rolled-back production deploy to the next successful "
        "deploy or rollback of the same component in production."
    ),
}


@dataclass(slots=True)
class Dora:
    """The four figures (None: nothing to measure), what they are about, and weekly counts."""

    scope: str
    days: int
    environment: str
    components: list[str]
    deploys: int = 0
    failures: int = 0
    deployment_frequency: float | None = None  # per day
    lead_time_seconds: float | None = None
    lead_time_samples: int = 0
    change_failure_rate: float | None = None
    time_to_restore_seconds: float | None = None
    restores: int = 0
    weeks: list[dict[str, Any]] = field(default_factory=list)  # start, succeeded, failed

    def to_json(self) -> dict[str, Any]:
        def metric(value: float | None, unit: str, name: str, **extra: Any) -> dict[str, Any]:
            return {"value": value, "unit": unit, "definition": DEFINITIONS[name], **extra}

        return {
            "scope": self.scope,
            "days": self.days,
            "environment": self.environment,
            "components": self.components,
            "deploymentFrequency": metric(
                self.deployment_frequency, "per day", "deployment_frequency"
            ),
            "leadTime": metric(
                self.lead_time_seconds, "seconds", "lead_time", samples=self.lead_time_samples
            ),
            "changeFailureRate": metric(
                self.change_failure_rate,
                "ratio",
                "change_failure_rate",
                failures=self.failures,
                deploys=self.deploys,
            ),
            "timeToRestore": metric(
                self.time_to_restore_seconds, "seconds", "time_to_restore", samples=self.restores
            ),
            "weeks": self.weeks,
        }


def production_environment(settings: Settings) -> str:
    """``production`` when configured, else the last environment in promotion order."""
    names = [environment.name for environment in settings.deploy.environments]
    return "production" if "production" in names else names[-1]


_AUTHOR_TIMES: dict[tuple[str, str | None, str], float] = {}  # commits never change


def _first_author_time(mirror: str, previous: str | None, commit: str) -> float | None:
    """The oldest author time (epoch seconds) of the commits ``previous..commit``; None when
    the mirror does not have them (yet: not cached)."""
    key = (mirror, previous, commit)
    if key in _AUTHOR_TIMES:
        return _AUTHOR_TIMES[key]
    span = f"{previous}..{commit}" if previous and previous != commit else commit
    arguments = ["log", "--format=%at", span] if previous else ["log", "-1", "--format=%at", commit]
    result = git(arguments, cwd=Path(mirror))
    times = [int(line) for line in result.stdout.split() if line.isdigit()]
    if result.returncode != 0 or not times:
        return None
    if len(_AUTHOR_TIMES) > 10_000:
        _AUTHOR_TIMES.clear()
    _AUTHOR_TIMES[key] = float(min(times))
    return _AUTHOR_TIMES[key]


def _mirror(settings: Settings, session: Session, component_ref: str) -> Path | None:
    try:
        repository = repository_of_entity(component_entity(session, component_ref))
    except NotFoundError:
        return None
    if repository is None:
        return None
    mirror = mirror_path(settings, repository)
    return mirror if (mirror / "HEAD").is_file() else None


def team_components(
    session: Session, team_ref: str, restriction: Restriction | None = None
) -> list[str]:
    return [ref for ref, _ in owned_components(session, [team_ref], restriction=restriction)]


def compute_dora(
    session: Session,
    settings: Settings,
    *,
    scope: str,
    components: Sequence[str] | None,
    days: int = 30,
    now: datetime | None = None,
) -> Dora:
    """The DORA figures of ``components`` (None: every component) over the last ``days``."""
    now = now or datetime.now(UTC)
    since = now - timedelta(days=days)
    environment = production_environment(settings)
    statement = select(Deployment).where(
        Deployment.environment == environment, Deployment.status.in_(OUTCOMES)
    )
    if components is not None:
        if not components:
            return Dora(scope, days, environment, [])
        statement = statement.where(
            Deployment.component_ref.in_([ref.lower() for ref in components])
        )
    rows = sorted(session.scalars(statement), key=lambda d: (as_utc(d.created_at), d.id))
    by_component: dict[str, list[Deployment]] = {}
    for row in rows:
        by_component.setdefault(row.component_ref, []).append(row)
    report = Dora(scope, days, environment, sorted(by_component))
    lead_times: list[float] = []
    restores: list[float] = []
    week_start = (since - timedelta(days=since.weekday())).replace(hour=0, minute=0, second=0)
    weeks: dict[datetime, dict[str, int]] = {}
    moment = week_start
    while moment <= now:
        weeks[moment] = {"succeeded": 0, "failed": 0}
        moment += timedelta(days=7)
    for component, history in by_component.items():
        mirror: Path | bool | None = False  # looked up only when needed
        previous_commit: str | None = None
        for index, row in enumerate(history):
            created = as_utc(row.created_at)
            changed = row.kind != "rollback"
            in_period = created >= since
            if changed and in_period:
                report.deploys += 1
                failed = row.status in FAILED
                report.failures += failed
                week = week_start + timedelta(days=7 * ((created - week_start).days // 7))
                weeks.setdefault(week, {"succeeded": 0, "failed": 0})
                weeks[week]["failed" if failed else "succeeded"] += 1
            if changed and in_period and row.status == "succeeded" and row.commit:
                if mirror is False:
                    mirror = _mirror(settings, session, component)
                live = row.deployed_at or row.finished_at
                if isinstance(mirror, Path) and live is not None:
                    first = _first_author_time(str(mirror), previous_commit, row.commit)
                    if first is not None:
                        lead_times.append(max(0.0, as_utc(live).timestamp() - first))
            if row.status in FAILED and row.kind != "rollback" and in_period:
                began = as_utc(row.deployed_at or row.created_at)
                restored = next(
                    (
                        later
                        for later in history[index + 1 :]
                        if later.status == "succeeded" and later.finished_at is not None
                    ),
                    None,
                )
                if restored is not None and restored.finished_at is not None:
                    restores.append((as_utc(restored.finished_at) - began).total_seconds())
            if row.status == "succeeded" and row.commit:
                previous_commit = row.commit
    succeeded = report.deploys - report.failures
    report.deployment_frequency = succeeded / days if days else None
    report.change_failure_rate = report.failures / report.deploys if report.deploys else None
    report.lead_time_seconds = statistics.median(lead_times) if lead_times else None
    report.lead_time_samples = len(lead_times)
    report.time_to_restore_seconds = statistics.median(restores) if restores else None
    report.restores = len(restores)
    report.weeks = [
        {"start": start.date().isoformat(), **counts} for start, counts in sorted(weeks.items())
    ]
    return report


def describe_duration(seconds: float | None) -> str:
    """``3 d 4 h``, ``2 h 5 min``, ``4 min 10 s``, ``12 s``; an em dash for no value."""
    if seconds is None:
        return "—"
    whole = round(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"
