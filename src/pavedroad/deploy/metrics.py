"""Deployment metrics on ``/metrics``, computed from the database when Prometheus scrapes:

- ``deployments_total{component,environment,outcome}``: deploys (and redeploys) that ended,
  by outcome: ``succeeded``, ``failed``, ``rolled_back`` (a breach), ``refused`` (freeze, gate,
  unknown version) or ``cancelled``;
- ``deployment_duration_seconds{component,environment}``: time to deploy, from the request to
  the new version live on its target (histogram up to 1 h);
- ``rollbacks_total{component,environment}``: rollbacks carried out (automatic or manual).

The seed's SLOs on them are in docs/deployments.md.
"""

from __future__ import annotations

from typing import Any

from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily
from prometheus_client.metrics_core import Metric
from sqlalchemy import ColumnElement, case, func, select

from pavedroad.core.db import Database
from pavedroad.core.telemetry import DatabaseCollector, register_collector
from pavedroad.deploy.models import Deployment

BUCKETS = (10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0)
CACHE_SECONDS = 5.0
OUTCOMES = ("succeeded", "failed", "rolled_back", "refused", "cancelled")
LABELS = ["component", "environment"]


def _duration(db: Database) -> ColumnElement[Any]:
    if db.is_postgres:
        return func.extract("epoch", Deployment.deployed_at - Deployment.created_at)
    return (
        func.julianday(Deployment.deployed_at) - func.julianday(Deployment.created_at)
    ) * 86400.0


class DeploymentMetrics(DatabaseCollector):
    """A Prometheus collector reading the deployments table."""

    cache_seconds = CACHE_SECONDS

    def families(self) -> tuple[CounterMetricFamily, HistogramMetricFamily, CounterMetricFamily]:
        return (
            CounterMetricFamily(
                "deployments", "Deploys that ended, by outcome.", labels=[*LABELS, "outcome"]
            ),
            HistogramMetricFamily(
                "deployment_duration_seconds",
                "Time to deploy: from the request to the new version live.",
                labels=LABELS,
            ),
            CounterMetricFamily("rollbacks", "Rollbacks carried out.", labels=LABELS),
        )

    def compute(self, db: Database) -> list[Metric]:
        deploys = Deployment.kind != "rollback"
        duration = _duration(db)
        with db.read_session() as session:
            outcomes = session.execute(
                select(
                    Deployment.component_ref,
                    Deployment.environment,
                    Deployment.status,
                    func.count(),
                )
                .where(deploys, Deployment.status.in_(OUTCOMES))
                .group_by(Deployment.component_ref, Deployment.environment, Deployment.status)
            ).all()
            durations = session.execute(
                select(
                    Deployment.component_ref,
                    Deployment.environment,
                    func.count(),
                    func.coalesce(func.sum(duration), 0.0),
                    *[func.sum(case((duration <= bound, 1), else_=0)) for bound in BUCKETS],
                )
                .where(deploys, Deployment.deployed_at.is_not(None))
                .group_by(Deployment.component_ref, Deployment.environment)
            ).all()
            rollbacks = session.execute(
                select(Deployment.component_ref, Deployment.environment, func.count())
                .where(Deployment.kind == "rollback", Deployment.status == "succeeded")
                .group_by(Deployment.component_ref, Deployment.environment)
            ).all()
        total, histogram, rolled = self.families()
        for component, environment, status, count in sorted(outcomes):
            total.add_metric([component, environment, status], float(count))
        for component, environment, count, seconds, *buckets in sorted(durations):
            cumulative = [
                (str(bound), float(buckets[index] or 0)) for index, bound in enumerate(BUCKETS)
            ]
            histogram.add_metric(
                [component, environment], [*cumulative, ("+Inf", float(count))], float(seconds)
            )
        for component, environment, count in sorted(rollbacks):
            rolled.add_metric([component, environment], float(count))
        return [total, histogram, rolled]


COLLECTOR = DeploymentMetrics()
register_collector(COLLECTOR)


def attach(db: Database) -> None:
    """Report the deployments of ``db`` (the server's database) on ``/metrics``."""
    COLLECTOR.attach(db)
