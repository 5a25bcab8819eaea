from __future__ import annotations

import pytest

from ${{ values.package }}.config import Settings


def test_defaults_serve_on_port_8000_without_tracing() -> None:
    settings = Settings.from_environment({})
    assert (settings.port, settings.traces_exporter, settings.log_level) == (8000, "none", "INFO")


def test_the_environment_overrides_the_defaults() -> None:
    settings = Settings.from_environment(
        {"PORT": "9000", "LOG_LEVEL": "debug", "OTEL_SERVICE_NAME": "renamed"}
    )
    assert (settings.port, settings.log_level, settings.service_name) == (9000, "DEBUG", "renamed")


def test_an_unknown_traces_exporter_is_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match="expected one of none, console, otlp"):
        Settings.from_environment({"OTEL_TRACES_EXPORTER": "jaeger"})
