"""Health analysis after each deploy: the seed's rollback triggers (error rate, p95 latency
against the previous version, a failing health check, critical log lines) and any PromQL check,
sampled from Prometheus or the service's own ``/metrics``."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import httpx

from pavedroad.deploy.analysis.loop import AnalysisOutcome, baseline_p95, run_analysis
from pavedroad.deploy.analysis.providers import error_rate_query, p95_query, quantile
from pavedroad.deploy.analysis.settings import AnalysisConfig, QueryCheck, resolve_config

if TYPE_CHECKING:
    from pavedroad.runtime import Runtime

__all__ = [
    "AnalysisConfig",
    "AnalysisOutcome",
    "QueryCheck",
    "analyse",
    "baseline_p95",
    "error_rate_query",
    "p95_query",
    "quantile",
    "resolve_config",
]


def analyse(
    runtime: Runtime,
    deployment_id: str,
    *,
    url: str | None,
    metrics_url: str | None,
    config: Mapping[str, Any] | AnalysisConfig | None,
    baseline_id: str | None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    heartbeat: Callable[[], None] | None = None,
    client: httpx.Client | None = None,
) -> AnalysisOutcome:
    """Watch a deploy for its analysis window, recording each sample; ``config`` is the
    component's deploy settings (its ``analysis:`` over ``settings.deploy.analysis``).
    ``heartbeat`` is called after each sample (the runner renews its lease there)."""
    resolved = (
        config
        if isinstance(config, AnalysisConfig)
        else resolve_config(runtime.settings.deploy.analysis, config)
    )
    return run_analysis(
        runtime,
        deployment_id,
        url=url,
        metrics_url=metrics_url,
        config=resolved,
        baseline_id=baseline_id,
        clock=clock,
        sleep=sleep,
        heartbeat=heartbeat,
        client=client,
    )
