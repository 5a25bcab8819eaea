"""What one deploy's analysis checks: the platform's ``settings.deploy.analysis`` with the
component's ``analysis:`` (from ``.pavedroad/deploy.yaml``) over it, plus what only a component
knows: the label selector its metrics carry, extra PromQL checks, and its health path."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field

from pavedroad.config import AnalysisSettings


class QueryCheck(BaseModel):
    """A PromQL expression whose value must stay at or below ``max``."""

    name: str
    promql: str
    max: float


class AnalysisConfig(AnalysisSettings):
    """One deploy's analysis settings."""

    selector: str = Field(
        "",
        description='Label matchers added to the request metrics\' selectors: job="payments".',
    )
    requests_metric: str = "http_requests_total"
    duration_metric: str = "http_request_duration_seconds"
    queries: list[QueryCheck] = Field(default_factory=list)
    health: str = Field("/healthz", description="The health path, under the service's URL.")


def resolve_config(defaults: AnalysisSettings, config: Mapping[str, Any] | None) -> AnalysisConfig:
    """``config`` is the component's deploy settings (its ``analysis:`` and its ``process:``
    ``health`` are read) or an analysis mapping itself; unknown keys are ignored."""
    merged: dict[str, Any] = defaults.model_dump()
    config = dict(config or {})
    process = config.get("process")
    if isinstance(process, Mapping) and process.get("health"):
        merged["health"] = process["health"]
    if config.get("health"):
        merged["health"] = config["health"]
    analysis = config.get("analysis", config)
    if isinstance(analysis, Mapping):
        fields = AnalysisConfig.model_fields
        merged.update({key: value for key, value in analysis.items() if key in fields})
    return AnalysisConfig.model_validate(merged)
