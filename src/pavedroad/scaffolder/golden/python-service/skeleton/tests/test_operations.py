"""The SLOs and alert rules in .pavedroad/ query metrics this service really exports."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

OPERATIONS = Path(__file__).parents[1] / ".pavedroad"
METRIC = re.compile(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\{")
FROM_PROMETHEUS = {"up"}  # recorded by Prometheus for every scrape, not by the service


def queries(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [query for value in node.values() for query in queries(value)]
    if isinstance(node, list):
        return [query for item in node for query in queries(item)]
    return [node] if isinstance(node, str) and "{" in node else []


def test_alerts_and_objectives_query_only_exported_metrics(client: TestClient) -> None:
    client.get("/no-such-page")  # so that the labelled series exist
    families = text_string_to_metric_families(client.get("/metrics").text)
    exported = {sample.name for family in families for sample in family.samples}
    documents = [
        yaml.safe_load((OPERATIONS / name).read_text()) for name in ("alerts.yaml", "slos.yaml")
    ]
    queried = {name for text in queries(documents) for name in METRIC.findall(text)}
    assert {"http_requests_total", "http_request_duration_seconds_bucket"} <= queried
    assert queried - FROM_PROMETHEUS <= exported


def test_every_alert_says_how_bad_it_is_and_whose_it_is() -> None:
    rules = yaml.safe_load((OPERATIONS / "alerts.yaml").read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            assert rule["labels"]["severity"] in {"critical", "warning"}, rule["alert"]
            assert rule["labels"]["service"] == "${{ values.name }}", rule["alert"]
            assert rule["annotations"]["summary"], rule["alert"]
