"""The demo organisation's deployment history: about a month of releases of eight components
through dev, staging and production, with a few production deploys rolled back (with the
analysis evidence) or failed, so the Deployments tab and the DORA figures have something to show
on the first start. Every row says it is demo data: ``trigger`` ``demo`` and the evidence note
"demo history". Nothing ran: the rows are written in the deploy models' own shape."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pavedroad.core.actors import Actor
from pavedroad.deploy.analysis.loop import ERROR_RATE
from pavedroad.deploy.execution import AUTOMATIC
from pavedroad.deploy.models import AnalysisSample, Deployment, EnvironmentState

TRIGGER = "demo"
NOTE = "demo history"
ENVIRONMENTS = ("dev", "staging", "production")
DAYS_BACK = 28.0  # the first release, days before now: inside the 30-day DORA period
# Each release goes to dev, then staging this long before production.
BEFORE_PRODUCTION = {"dev": timedelta(minutes=40), "staging": timedelta(minutes=20)}
TO_LIVE = timedelta(minutes=2)  # created → deployed
ANALYSIS = timedelta(minutes=5)  # deployed → finished (the analysis window)
FAILED_AFTER = timedelta(minutes=3)  # a failed deploy (never healthy) ends this long after start
BREACH_AFTER = timedelta(minutes=3)  # deployed → the analysis breached, the rollback starts
ROLLBACK_TAKES = timedelta(minutes=1)
FIX_AFTER = timedelta(hours=2)  # a failed production deploy is followed by a fix release
THRESHOLD = 0.05
ERROR_RATES = (0.18, 0.23)  # the two bad samples of a rolled-back deploy


@dataclass(frozen=True, slots=True)
class DemoComponent:
    """A component's releases: every ``cadence_days`` from DAYS_BACK days ago; ``outcomes`` in
    production, one letter a release: S succeeded, R rolled back, F failed (then a fix)."""

    name: str
    team: str
    cadence_days: float
    outcomes: str
    people: tuple[str, ...]
    minor: int  # the first release is 1.<minor>.0

    @property
    def ref(self) -> str:
        return f"component:default/{self.name}"


COMPONENTS = (
    DemoComponent(
        "order-service",
        "team-checkout",
        3.0,
        "SSRSSSFSS",
        ("esi.mensah", "julien.moreau", "katarzyna.zielinska"),
        12,
    ),
    DemoComponent(
        "checkout-web", "team-checkout", 2.0, "SSSSRSSSSSSSS", ("julien.moreau", "esi.mensah"), 30
    ),
    DemoComponent(
        "payment-service",
        "team-payments",
        4.0,
        "SSSSSSR",
        ("adriana.morales", "thabo.nkosi", "ida.bergstrom"),
        7,
    ),
    DemoComponent(
        "billing-service", "team-billing", 5.0, "SFSSS", ("vikram.nair", "olivia.hughes"), 4
    ),
    DemoComponent(
        "quote-service", "team-quotes-pricing", 2.5, "SSSSRSSSSS", ("marta.silva", "wei.zhang"), 21
    ),
    DemoComponent(
        "invoice-renderer", "team-billing", 7.0, "SSSS", ("stefan.popescu", "olivia.hughes"), 2
    ),
    DemoComponent(
        "customer-bff",
        "team-web-experience",
        1.5,
        "SSSSSSSRSSSSSSSSS",
        ("zoe.brennan", "kenji.watanabe", "amelie.laurent"),
        40,
    ),
    DemoComponent(
        "notification-router",
        "team-notifications",
        6.0,
        "SSFSS",
        ("leila.rahimi", "patrick.byrne"),
        9,
    ),
)


@dataclass(frozen=True, slots=True)
class DeploymentsLoad:
    deployments: int
    components: int


def load_deployments(
    session: Session, actor: Actor, *, now: datetime | None = None
) -> DeploymentsLoad | None:
    """Record the demo's deployment history, unless it is there already (then None).

    ``actor`` is the demo's loader; the deploys are triggered by the demo's developers."""
    if session.scalar(select(Deployment.id).where(Deployment.trigger == TRIGGER).limit(1)):
        return None
    now = now or datetime.now(UTC)
    count = 0
    for index, component in enumerate(COMPONENTS):
        count += _component_history(session, component, index, now, actor)
    session.flush()
    return DeploymentsLoad(count, len(COMPONENTS))


def release_times(component: DemoComponent, index: int, now: datetime) -> list[datetime]:
    """When each release of ``component`` reached production (its position ``index`` staggers
    the components through the day)."""
    first = now - timedelta(days=DAYS_BACK) + timedelta(hours=1.7 * index)
    return [
        first + timedelta(days=component.cadence_days * number)
        for number in range(len(component.outcomes))
    ]


def _component_history(
    session: Session, component: DemoComponent, index: int, now: datetime, actor: Actor
) -> int:
    rows: list[Deployment] = []
    previous: dict[str, Deployment] = {}  # the last good deployment per environment
    releases: list[tuple[datetime, str, str]] = []
    for number, (at, outcome) in enumerate(
        zip(release_times(component, index, now), component.outcomes, strict=True)
    ):
        version = f"1.{component.minor + number}.0"
        releases.append((at, version, outcome))
        if outcome == "F":
            releases.append((at + FIX_AFTER, f"1.{component.minor + number}.1", "S"))
    for number, (at, version, outcome) in enumerate(releases):
        person = f"user:default/{component.people[number % len(component.people)]}"
        commit = hashlib.sha1(f"{component.name}@{version}".encode()).hexdigest()
        for environment in ENVIRONMENTS:
            created = at - BEFORE_PRODUCTION.get(environment, timedelta())
            status = "succeeded"
            if environment == "production":
                status = {"S": "succeeded", "R": "rolled_back", "F": "failed"}[outcome]
            row = _row(component, environment, version, commit, person, created, status)
            row.previous_id = previous[environment].id if environment in previous else None
            rows.append(row)
            if status == "rolled_back":
                good = previous[environment]
                back = _rolled_back(row, good)
                rows.append(back)
                previous[environment] = back
            elif status == "succeeded":
                previous[environment] = row
    session.add_all(rows)
    session.flush()
    for row in rows:
        if row.status == "rolled_back":
            for sample in _samples(row):
                session.add(sample)
    for environment, live in previous.items():
        state = session.get(EnvironmentState, (component.ref, environment))
        if state is None:
            state = EnvironmentState(component_ref=component.ref, environment=environment)
            session.add(state)
        state.current_id = state.last_good_id = live.id
        state.busy_with = None
        state.healthy = True
        state.updated_at = as_aware(live.finished_at) or now
    del actor  # the rows name who deployed; the loader itself is not recorded per row
    return len(rows)


def as_aware(moment: datetime | None) -> datetime | None:
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=UTC)


def _row(
    component: DemoComponent,
    environment: str,
    version: str,
    commit: str,
    person: str,
    created: datetime,
    status: str,
) -> Deployment:
    deployed = created + TO_LIVE if status != "failed" else None
    finished = created + FAILED_AFTER if status == "failed" else created + TO_LIVE + ANALYSIS
    evidence: dict[str, Any] = {"note": NOTE}
    error = None
    if status == "succeeded":
        evidence["analysis"] = {
            "verdict": "healthy",
            "reason": "30 samples over 300 s, no check breached.",
            "samples": 30,
            "mode": "enforce",
        }
    elif status == "failed":
        error = f"{version} never got healthy: /healthz answered 503 for 60 s (demo history)"
    else:  # rolled back: the evidence says which check, its samples and threshold
        assert deployed is not None
        finished = deployed + BREACH_AFTER
        samples = [
            {
                "at": (deployed + timedelta(minutes=1 + number)).isoformat(),
                "name": ERROR_RATE,
                "value": value,
                "threshold": THRESHOLD,
                "ok": False,
            }
            for number, value in enumerate(ERROR_RATES)
        ]
        reason = f"error rate {ERROR_RATES[-1]:.1%} above {THRESHOLD:.1%}"
        evidence["analysis"] = {
            "verdict": "breached",
            "reason": reason,
            "check": ERROR_RATE,
            "threshold": THRESHOLD,
            "samples": samples,
            "window": {
                "start": deployed.isoformat(),
                "end": finished.isoformat(),
                "interval_seconds": 60,
                "window_seconds": 300,
                "warmup_seconds": 30,
            },
            "mode": "enforce",
            "provider": "metrics endpoint",
        }
    return Deployment(
        id=str(uuid.uuid4()),
        component_ref=component.ref,
        environment=environment,
        version=version,
        commit=commit,
        artifact=None,
        kind="deploy",
        trigger=TRIGGER,
        triggered_by=person,
        target="process",
        status=status,
        mode="enforce",
        error=error,
        evidence=evidence,
        target_state={},
        created_at=created,
        started_at=created,
        deployed_at=deployed,
        finished_at=finished,
    )


def _rolled_back(bad: Deployment, good: Deployment) -> Deployment:
    """The automatic rollback of ``bad`` to ``good`` (and ``bad``'s evidence and error)."""
    assert bad.finished_at is not None
    at = bad.finished_at
    back = Deployment(
        id=str(uuid.uuid4()),
        component_ref=bad.component_ref,
        environment=bad.environment,
        version=good.version,
        commit=good.commit,
        artifact=good.artifact,
        kind="rollback",
        trigger=TRIGGER,
        triggered_by=AUTOMATIC.ref,
        rollback_of=bad.id,
        previous_id=bad.id,
        target=bad.target,
        status="succeeded",
        mode="enforce",
        evidence={
            "to": good.id,
            "reason": "automatic rollback after a health breach",
            "note": NOTE,
        },
        target_state={},
        created_at=at,
        started_at=at,
        deployed_at=at + ROLLBACK_TAKES,
        finished_at=at + ROLLBACK_TAKES,
    )
    analysis = dict(bad.evidence["analysis"])
    analysis["rollback"] = {
        "to": good.id,
        "version": good.version,
        "rollback_id": back.id,
        "at": (at + ROLLBACK_TAKES).isoformat(),
        "seconds": ROLLBACK_TAKES.total_seconds(),
    }
    bad.evidence = {**bad.evidence, "analysis": analysis}
    bad.error = f"rolled back to {good.version}: {analysis['reason']}"
    return back


def _samples(bad: Deployment) -> list[AnalysisSample]:
    return [
        AnalysisSample(
            deployment_id=bad.id,
            at=datetime.fromisoformat(sample["at"]),
            checks=[{key: sample[key] for key in ("name", "value", "threshold", "ok")}],
            verdict="bad",
        )
        for sample in bad.evidence["analysis"]["samples"]
    ]
