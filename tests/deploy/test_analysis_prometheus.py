"""Analysis through a real Prometheus (Debian's) scraping a real service every second."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pavedroad.deploy.analysis import analyse
from pavedroad.runtime import Runtime
from tests.deploy.analysis_support import TinyService, add_deployment, tiny_service
from tests.deploy.prometheus_support import PROMETHEUS, prometheus_scraping

pytestmark = pytest.mark.skipif(
    not PROMETHEUS.exists(), reason="Debian's prometheus is needed: apt-get install prometheus"
)


@pytest.fixture
def busy_service() -> Iterator[TinyService]:
    """The tiny service with a client calling it about 50 times a second."""
    with tiny_service() as service:
        stop = threading.Event()

        def traffic() -> None:
            with httpx.Client() as client:
                while not stop.wait(0.02):
                    client.get(f"{service.url}/items")

        thread = threading.Thread(target=traffic, daemon=True)
        thread.start()
        yield service
        stop.set()
        thread.join()


@pytest.mark.slow
def test_prometheus_sees_the_service_healthy_then_breaching_when_it_returns_500s(
    runtime: Runtime, database_kind: str, busy_service: TinyService, tmp_path: Path
) -> None:
    if database_kind != "sqlite":
        pytest.skip("the database plays no part here; once is enough")
    target = busy_service.url.removeprefix("http://")
    with prometheus_scraping(target, tmp_path) as prometheus_url:
        config = {
            "analysis": {
                "prometheus_url": prometheus_url,
                "selector": 'job="service"',
                "interval_seconds": 1,
                "window_seconds": 3,
                "warmup_seconds": 10,
                "queries": [
                    {"name": "targets up", "promql": 'count(up{job="service"} == 1)', "max": 1}
                ],
            }
        }
        healthy = analyse(
            runtime,
            add_deployment(runtime, version="1.0.0"),
            url=busy_service.url,
            metrics_url=None,
            config=config,
            baseline_id=None,
        )
        assert healthy.verdict == "healthy", healthy

        busy_service.status = 500
        config["analysis"] |= {"window_seconds": 30}
        breached = analyse(
            runtime,
            add_deployment(runtime, version="1.1.0"),
            url=busy_service.url,
            metrics_url=None,
            config=config,
            baseline_id=None,
        )
    assert breached.verdict == "breached", breached
    assert breached.evidence["check"] == "error_rate"
    assert breached.evidence["provider"] == "prometheus"
    assert breached.evidence["samples"][-1]["value"] > 0.05
