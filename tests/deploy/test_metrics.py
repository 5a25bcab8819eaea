"""Deployment metrics on /metrics, from the database: the seed's deployment success rate and
time-to-deploy queries work on them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from pavedroad.deploy import metrics
from pavedroad.deploy.analysis import quantile
from pavedroad.runtime import Runtime
from tests.deploy.analysis_support import add_deployment

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
PAYMENTS = "component:default/payments"


@pytest.fixture
def fresh_metrics() -> Iterator[None]:
    metrics.COLLECTOR.cache_seconds = 0.0
    yield
    metrics.COLLECTOR.cache_seconds = metrics.CACHE_SECONDS


def scrape(client: TestClient) -> Samples:
    response = client.get("/metrics")
    assert response.status_code == 200
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def deploy(runtime: Runtime, status: str, minutes: float, **values: object) -> None:
    created = datetime(2026, 12, 1, 12, tzinfo=UTC)
    row: dict[str, object] = {
        "status": status,
        "created_at": created,
        "deployed_at": created + timedelta(minutes=minutes),
        "finished_at": created + timedelta(minutes=minutes + 5),
    }
    add_deployment(runtime, **(row | values))


def test_outcomes_durations_and_rollbacks_are_exposed_per_component_and_environment(
    runtime: Runtime, client: TestClient, fresh_metrics: None
) -> None:
    for status, minutes in [("succeeded", 2), ("succeeded", 4), ("rolled_back", 3)]:
        deploy(runtime, status, minutes)
    deploy(runtime, "failed", 20, environment="staging")
    deploy(runtime, "succeeded", 1, kind="rollback", trigger="automatic")
    add_deployment(runtime, status="analysing")  # not an outcome yet
    samples = scrape(client)

    def value(name: str, **labels: str) -> float:
        return samples[(name, tuple(sorted(({"component": PAYMENTS} | labels).items())))]

    production = {"environment": "production"}
    assert value("deployments_total", outcome="succeeded", **production) == 2
    assert value("deployments_total", outcome="rolled_back", **production) == 1
    assert value("deployments_total", outcome="failed", environment="staging") == 1
    assert value("rollbacks_total", **production) == 1
    # the analysing deploy is live (deployed_at) so it has a time to deploy: 4 of them here.
    assert value("deployment_duration_seconds_count", **production) == 4
    assert value("deployment_duration_seconds_bucket", le="120.0", **production) == 2
    assert value("deployment_duration_seconds_bucket", le="300.0", **production) == 4
    assert value("deployment_duration_seconds_sum", **production) == pytest.approx(
        (2 + 4 + 3) * 60, abs=5
    )


def test_the_seed_success_rate_and_time_to_deploy_queries_work_on_two_scrapes(
    runtime: Runtime, client: TestClient, fresh_metrics: None
) -> None:
    deploy(runtime, "succeeded", 2)
    first = scrape(client)
    for status, minutes in [("succeeded", 3), ("succeeded", 4), ("rolled_back", 20)]:
        deploy(runtime, status, minutes)
    deploy(runtime, "refused", 0, deployed_at=None)  # a freeze: not a deploy that ran
    second = scrape(client)

    def increase(name: str, **labels: str) -> float:
        def total(samples: Samples) -> float:
            return sum(
                value
                for (sample, sample_labels), value in samples.items()
                if sample == name and set(labels.items()) <= set(sample_labels)
            )

        return total(second) - total(first)

    # sum(increase(deployments_total{outcome="succeeded"}[30d]))
    #   / sum(increase(deployments_total{outcome=~"succeeded|failed|rolled_back"}[30d]))
    ran = sum(
        increase("deployments_total", outcome=o) for o in ("succeeded", "failed", "rolled_back")
    )
    assert increase("deployments_total", outcome="succeeded") / ran == pytest.approx(2 / 3)
    # histogram_quantile(0.95, sum by (le) (increase(deployment_duration_seconds_bucket[30d])))
    buckets = {
        float(bound): increase("deployment_duration_seconds_bucket", le=label)
        for bound, label in [(b, str(b)) for b in metrics.BUCKETS] + [(float("inf"), "+Inf")]
    }
    assert 900 < (quantile(0.95, buckets) or 0) <= 1800  # the 20-minute deploy breaks the SLO
