from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from ${{ values.package }}.app import create_app
from ${{ values.package }}.config import Settings


@pytest.fixture
def client() -> Iterator[TestClient]:
    app = create_app(Settings())

    @app.get("/orders/{order_id}")
    def order(order_id: int) -> dict[str, int]:
        return {"id": order_id}

    with TestClient(app) as test_client:
        yield test_client


def samples(client: TestClient, name: str) -> list[Sample]:
    response = client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    families = text_string_to_metric_families(response.text)
    return [sample for family in families for sample in family.samples if sample.name == name]


def test_requests_are_counted_by_method_route_template_and_status(client: TestClient) -> None:
    client.get("/orders/1")
    client.get("/orders/2")
    client.get("/orders/not-a-number")
    client.get("/no/such/page")
    counted = {
        (s.labels["method"], s.labels["route"], s.labels["status"]): s.value
        for s in samples(client, "http_requests_total")
    }
    assert counted == {
        ("GET", "/orders/{order_id}", "200"): 2,
        ("GET", "/orders/{order_id}", "422"): 1,
        ("GET", "unmatched", "404"): 1,
    }


def test_durations_have_the_latency_objective_as_a_bucket_boundary(client: TestClient) -> None:
    client.get("/orders/1")
    bounds = {s.labels["le"] for s in samples(client, "http_request_duration_seconds_bucket")}
    assert "0.5" in bounds


def test_probes_and_scrapes_are_not_counted(client: TestClient) -> None:
    client.get("/healthz")
    client.get("/readyz")
    client.get("/metrics")
    assert samples(client, "http_requests_total") == []


def test_process_metrics_are_exported(client: TestClient) -> None:
    assert samples(client, "python_info")
