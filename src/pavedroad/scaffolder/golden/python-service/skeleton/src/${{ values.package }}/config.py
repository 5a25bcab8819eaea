"""What the service reads from its environment, once, at start."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, cast, get_args

SERVICE_NAME = "${{ values.name }}"
TracesExporter = Literal["none", "console", "otlp"]


@dataclass(frozen=True, slots=True)
class Settings:
    """The service's configuration. OpenTelemetry's variables keep their standard names, so
    ``OTEL_EXPORTER_OTLP_ENDPOINT`` and friends work as the OpenTelemetry docs say."""

    service_name: str = SERVICE_NAME
    log_level: str = "INFO"
    traces_exporter: TracesExporter = "none"
    host: str = "0.0.0.0"  # in a container the server must listen beyond loopback
    port: int = 8000

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        exporter = environ.get("OTEL_TRACES_EXPORTER", "none")
        if exporter not in get_args(TracesExporter):
            choices = ", ".join(get_args(TracesExporter))
            raise ValueError(f"OTEL_TRACES_EXPORTER={exporter!r}: expected one of {choices}")
        return cls(
            service_name=environ.get("OTEL_SERVICE_NAME", SERVICE_NAME),
            log_level=environ.get("LOG_LEVEL", "INFO").upper(),
            traces_exporter=cast(TracesExporter, exporter),
            host=environ.get("HOST", "0.0.0.0"),
            port=int(environ.get("PORT", "8000")),
        )
