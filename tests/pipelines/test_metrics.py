"""Pipeline metrics on /metrics, from the database: the seed's success-rate query works on them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from pavedroad.pipelines import metrics
from pavedroad.runtime import Runtime
from tests.pipelines.engine_support import make_repository, pipeline_file, run_now, start

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


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


def total(samples: Samples, name: str) -> float:
    return sum(value for (sample, _), value in samples.items() if sample == name)


def test_the_success_rate_query_works_on_two_scrapes(
    runtime: Runtime, client: TestClient, tmp_path: Path, fresh_metrics: None
) -> None:
    good = make_repository(
        tmp_path, pipeline_file("      - {name: a, run: 'true'}\n"), name="payments"
    )
    bad = make_repository(
        tmp_path, pipeline_file("      - {name: a, run: 'exit 1'}\n"), name="ledger"
    )
    run_now(runtime, start(runtime, good))
    first = scrape(client)
    for repository in (good, good, bad):
        run_now(runtime, start(runtime, repository))
    start(runtime, good)  # queued: not an outcome yet
    second = scrape(client)

    # sum(rate(workflow_success_total[24h])) / sum(rate(workflow_total[24h])) * 100: over a
    # window holding both scrapes, each rate is its increase divided by the same duration.
    successes = total(second, "workflow_success_total") - total(first, "workflow_success_total")
    runs = total(second, "workflow_total") - total(first, "workflow_total")
    assert successes / runs * 100 == pytest.approx(66.67, abs=0.01)
    assert second[("workflow_total", (("component", ""), ("pipeline", "payments")))] == 3
    assert second[("workflow_total", (("component", ""), ("pipeline", "ledger")))] == 1
    assert second[("pipeline_queue_depth", ())] == 1
    assert second[("pipeline_runs_running", ())] == 0


def test_durations_are_a_histogram_up_to_an_hour(
    runtime: Runtime, client: TestClient, tmp_path: Path, fresh_metrics: None
) -> None:
    repository = make_repository(tmp_path, pipeline_file("      - {name: a, run: 'sleep 1.2'}\n"))
    run_now(runtime, start(runtime, repository))

    samples = scrape(client)

    def bucket(le: str) -> float:
        labels = (("component", ""), ("le", le), ("pipeline", "service"))
        return samples[("workflow_duration_seconds_bucket", labels)]

    assert (
        bucket("1.0") == 0 and bucket("5.0") == 1 and bucket("3600.0") == 1 and bucket("+Inf") == 1
    )
    labels = (("component", ""), ("pipeline", "service"))
    assert samples[("workflow_duration_seconds_count", labels)] == 1
    assert 1.2 <= samples[("workflow_duration_seconds_sum", labels)] < 5


def test_the_figures_are_exposed_by_a_multiprocess_server_too(
    runtime: Runtime,
    tmp_path: Path,
    fresh_metrics: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pavedroad.core.telemetry import MULTIPROCESS_DIR_VARIABLE, metrics_text

    metrics.attach(runtime.db)
    run_now(
        runtime,
        start(
            runtime, make_repository(tmp_path, pipeline_file("      - {name: a, run: 'true'}\n"))
        ),
    )
    (tmp_path / "multiprocess").mkdir()
    monkeypatch.setenv(MULTIPROCESS_DIR_VARIABLE, str(tmp_path / "multiprocess"))

    text = metrics_text().decode()

    assert 'workflow_total{component="",pipeline="service"} 1.0' in text
    assert "pipeline_queue_depth 0.0" in text
