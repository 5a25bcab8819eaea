"""Pipeline metrics on ``/metrics`` with the operations guide's names, computed from the
database when Prometheus scrapes (cached a few seconds), so every server and worker process
reports the same figures whichever one is scraped:

- ``workflow_total{component,pipeline}``: runs that ended (succeeded or failed; a cancelled
  or rejected run is not an outcome of the workflow);
- ``workflow_success_total{component,pipeline}``: those that succeeded;
- ``workflow_duration_seconds{component,pipeline}``: how long they ran (histogram, up to 1 h);
- ``pipeline_queue_depth`` and ``pipeline_runs_running``.

``pipeline`` is the repository's short name (``payments`` of ``https://github.com/acme/payments``).
"""

from __future__ import annotations

from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.metrics_core import Metric
from sqlalchemy import ColumnElement, case, func, select

from pavedroad.core.db import Database
from pavedroad.core.telemetry import DatabaseCollector, register_collector
from pavedroad.pipelines.models import PipelineRun

BUCKETS = (1.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0)
CACHE_SECONDS = 5.0
LABELS = ["component", "pipeline"]


def pipeline_name(repository: str) -> str:
    return repository.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git")


def _duration(db: Database) -> ColumnElement[Any]:
    if db.is_postgres:
        return func.extract("epoch", PipelineRun.finished_at - PipelineRun.started_at)
    return (
        func.julianday(PipelineRun.finished_at) - func.julianday(PipelineRun.started_at)
    ) * 86400.0


class PipelineMetrics(DatabaseCollector):
    """A Prometheus collector reading the runs table of the database it is attached to."""

    cache_seconds = CACHE_SECONDS

    def families(
        self,
    ) -> tuple[
        CounterMetricFamily,
        CounterMetricFamily,
        HistogramMetricFamily,
        GaugeMetricFamily,
        GaugeMetricFamily,
    ]:
        return (
            CounterMetricFamily(
                "workflow", "Pipeline runs that ended (succeeded or failed).", labels=LABELS
            ),
            CounterMetricFamily("workflow_success", "Pipeline runs that succeeded.", labels=LABELS),
            HistogramMetricFamily(
                "workflow_duration_seconds", "How long ended pipeline runs ran.", labels=LABELS
            ),
            GaugeMetricFamily("pipeline_queue_depth", "Pipeline runs waiting for a worker."),
            GaugeMetricFamily("pipeline_runs_running", "Pipeline runs being carried out."),
        )

    def compute(self, db: Database) -> list[Metric]:
        duration = _duration(db)
        bucket_columns = [func.sum(case((duration <= bound, 1), else_=0)) for bound in BUCKETS]
        statement = (
            select(
                PipelineRun.repository,
                PipelineRun.component_ref,
                func.count(),
                func.sum(case((PipelineRun.status == "succeeded", 1), else_=0)),
                func.coalesce(func.sum(duration), 0.0),
                *bucket_columns,
            )
            .where(
                PipelineRun.status.in_(("succeeded", "failed")),
                PipelineRun.started_at.is_not(None),
                PipelineRun.finished_at.is_not(None),
            )
            .group_by(PipelineRun.repository, PipelineRun.component_ref)
        )
        series: dict[tuple[str, str], list[float]] = {}
        with db.read_session() as session:
            for repository, component, total, succeeded, seconds, *buckets in session.execute(
                statement
            ):
                key = (component or "", pipeline_name(repository))
                values = [float(total), float(succeeded or 0), float(seconds or 0.0)]
                values += [float(count or 0) for count in buckets]
                known = series.get(key)
                series[key] = (
                    values if known is None else [a + b for a, b in zip(known, values, strict=True)]
                )
            counts = dict(
                session.execute(
                    select(PipelineRun.status, func.count())
                    .where(PipelineRun.status.in_(("queued", "running")))
                    .group_by(PipelineRun.status)
                ).all()
            )
        total, success, histogram, queued, running = self.families()
        for (component, pipeline), values in sorted(series.items()):
            labels = [component, pipeline]
            total.add_metric(labels, values[0])
            success.add_metric(labels, values[1])
            cumulative = [(str(bound), values[3 + index]) for index, bound in enumerate(BUCKETS)]
            histogram.add_metric(labels, [*cumulative, ("+Inf", values[0])], values[2])
        queued.add_metric([], float(counts.get("queued", 0)))
        running.add_metric([], float(counts.get("running", 0)))
        return [total, success, histogram, queued, running]


COLLECTOR = PipelineMetrics()
register_collector(COLLECTOR)


def attach(db: Database) -> None:
    """Report the runs of ``db`` (the server's database) on ``/metrics``."""
    COLLECTOR.attach(db)
