from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from ${{ values.package }}.app import create_app
from ${{ values.package }}.config import Settings
from ${{ values.package }}.tracing import tracer_provider

CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
AccessLog = Callable[[], list[dict[str, Any]]]


@pytest.fixture
def spans() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def client(spans: InMemorySpanExporter) -> Iterator[TestClient]:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    app = create_app(Settings(), tracer_provider=provider)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("boom")

    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def test_each_request_is_a_server_span_named_by_its_route(
    client: TestClient, spans: InMemorySpanExporter
) -> None:
    client.get("/no-such-page")
    [span] = spans.get_finished_spans()
    assert span.name == "GET unmatched"
    assert span.kind is SpanKind.SERVER
    assert span.attributes is not None and span.attributes["http.response.status_code"] == 404


def test_a_failing_request_is_an_error_span(
    client: TestClient, spans: InMemorySpanExporter
) -> None:
    assert client.get("/boom").status_code == 500
    [span] = spans.get_finished_spans()
    assert span.name == "GET /boom"
    assert span.status.status_code is StatusCode.ERROR


def test_the_callers_trace_is_continued(client: TestClient, spans: InMemorySpanExporter) -> None:
    client.get("/no-such-page", headers={"traceparent": f"00-{CALLER_TRACE}-00f067aa0ba902b7-01"})
    [span] = spans.get_finished_spans()
    assert format(span.context.trace_id, "032x") == CALLER_TRACE


def test_log_lines_carry_the_trace_id(client: TestClient, access_log: AccessLog) -> None:
    client.get("/no-such-page", headers={"traceparent": f"00-{CALLER_TRACE}-00f067aa0ba902b7-01"})
    [entry] = access_log()
    assert entry["trace_id"] == CALLER_TRACE


def test_tracing_is_off_unless_the_environment_turns_it_on() -> None:
    assert tracer_provider(Settings()) is None


@pytest.mark.parametrize("exporter", ["console", "otlp"])
def test_a_chosen_exporter_gets_spans_named_after_the_service(exporter: str) -> None:
    settings = Settings.from_environment({"OTEL_TRACES_EXPORTER": exporter})
    provider = tracer_provider(settings)
    assert provider is not None
    assert provider.resource.attributes["service.name"] == "${{ values.name }}"
    provider.shutdown()
