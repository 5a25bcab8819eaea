"""Traces: the spans of this service, exported where ``OTEL_TRACES_EXPORTER`` says (by default
nowhere: tests and a laptop export nothing)."""

from __future__ import annotations

from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

from ${{ values.package }}.config import Settings


def tracer_provider(settings: Settings) -> TracerProvider | None:
    """The provider that exports this service's spans, or None when tracing is off."""
    exporter = _exporter(settings)
    if exporter is None:
        return None
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: settings.service_name}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def _exporter(settings: Settings) -> SpanExporter | None:
    if settings.traces_exporter == "console":
        return ConsoleSpanExporter(service_name=settings.service_name)
    if settings.traces_exporter == "otlp":
        # Imported when chosen: it reads OTEL_EXPORTER_OTLP_ENDPOINT and the other OTLP variables.
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    return None
