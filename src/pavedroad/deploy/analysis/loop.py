"""The sampling loop: every ``interval_seconds`` read the provider and the probes, judge each
check, record an :class:`AnalysisSample`, and stop at the end of the window or when a check has
been bad ``bad_samples_to_fail`` samples in a row (healthy / breached), or when the provider
failed ``provider_errors_to_abort`` times in a row (aborted: not the service's fault)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
from sqlalchemy import select

from pavedroad.deploy.analysis.probes import CriticalLogs, HealthProbe
from pavedroad.deploy.analysis.providers import (
    MetricsProvider,
    PrometheusProvider,
    ProviderError,
    Reading,
    ScrapeProvider,
)
from pavedroad.deploy.analysis.settings import AnalysisConfig
from pavedroad.deploy.models import AnalysisSample, Deployment

if TYPE_CHECKING:
    from pavedroad.runtime import Runtime

ERROR_RATE = "error_rate"
LATENCY = "latency_p95"
HEALTH = "health"
LOGS = "critical_logs"
METRIC_CHECKS = (ERROR_RATE, LATENCY)  # no data in these is bad after the warm-up
LATENCY_FLOOR = 0.001  # a baseline of 0 s would make any latency an infinite increase


@dataclass(frozen=True, slots=True)
class AnalysisOutcome:
    """``healthy`` (the window passed), ``breached`` (``evidence`` says which check, its
    samples, threshold, baseline and window) or ``aborted`` (the provider was down)."""

    verdict: str
    reason: str
    evidence: dict[str, Any] = field(default_factory=dict)


def baseline_p95(runtime: Runtime, baseline_id: str | None) -> float | None:
    """The median p95 the previous version showed during its own analysis."""
    if baseline_id is None:
        return None
    with runtime.db.read_session() as session:
        rows = session.scalars(
            select(AnalysisSample.checks).where(AnalysisSample.deployment_id == baseline_id)
        ).all()
    values = [
        float(check["value"])
        for checks in rows
        for check in checks
        if check.get("name") == LATENCY and check.get("value") is not None
    ]
    return statistics.median(values) if values else None


def _check(
    name: str, value: float | None, threshold: float | None, ok: bool | None
) -> dict[str, Any]:
    return {"name": name, "value": value, "threshold": threshold, "ok": ok}


class Analysis:
    """One deploy's analysis in progress (state across samples)."""

    def __init__(
        self,
        config: AnalysisConfig,
        provider: MetricsProvider | None,
        health: HealthProbe,
        logs: CriticalLogs,
        baseline: float | None,
    ) -> None:
        self.config = config
        self.provider = provider
        self.health = health
        self.logs = logs
        self.baseline = baseline
        self.baseline_source = "previous version" if baseline is not None else "first samples"

    def sample(self, elapsed: float) -> tuple[list[dict[str, Any]], str, str]:
        """The checks of one sample, its verdict (ok, bad, no-data, error) and an error text."""
        config = self.config
        checks: list[dict[str, Any]] = []
        error = ""
        reading: Reading | None = None
        if self.provider is not None:
            try:
                reading = self.provider.read()
            except ProviderError as failure:
                error = str(failure)
        if reading is not None:
            rate = reading.error_rate
            checks.append(
                _check(
                    ERROR_RATE,
                    rate,
                    config.max_error_rate,
                    None if rate is None else rate <= config.max_error_rate,
                )
            )
            p95 = reading.p95_seconds
            if self.baseline is None and p95 is not None:
                self.baseline = p95
            limit = (
                None
                if self.baseline is None
                else max(self.baseline, LATENCY_FLOOR) * (1 + config.max_latency_increase)
            )
            ok = None if p95 is None or limit is None else p95 <= limit
            checks.append(_check(LATENCY, p95, limit, ok))
            for query in config.queries:
                if query.name in reading.queries:
                    value = reading.queries[query.name]
                    ok = None if value is None else value <= query.max
                    checks.append(_check(f"query:{query.name}", value, query.max, ok))
        failing = self.health.failing_seconds(elapsed)
        if failing is not None:
            limit = config.health_failing_seconds
            checks.append(_check(HEALTH, failing, limit, failing < limit))
        if elapsed <= config.critical_logs_seconds:
            count = self.logs.count()
            if count is not None:
                checks.append(_check(LOGS, float(count), 0.0, count == 0))
        if any(check["ok"] is False for check in checks):
            return checks, "bad", error
        if error:
            return checks, "error", error
        no_data = any(
            check["ok"] is None
            for check in checks
            if check["name"] in METRIC_CHECKS or check["name"].startswith("query:")
        )
        return checks, ("no-data" if no_data else "ok"), error


def _record(runtime: Runtime, deployment_id: str, at: datetime, checks: Any, verdict: str) -> None:
    with runtime.db.session() as session:
        session.add(
            AnalysisSample(deployment_id=deployment_id, at=at, checks=checks, verdict=verdict)
        )


def _evidence(
    analysis: Analysis,
    history: list[tuple[datetime, list[dict[str, Any]], str]],
    check: str,
    *,
    started: datetime,
    ended: datetime,
) -> dict[str, Any]:
    config = analysis.config
    samples: list[dict[str, Any]] = []
    threshold = None
    for at, checks, verdict in history:
        if check == "no data":
            missing = [item["name"] for item in checks if item["ok"] is None]
            samples.append({"at": at.isoformat(), "verdict": verdict, "missing": missing})
            continue
        for item in checks:
            if item["name"] == check:
                samples.append({"at": at.isoformat(), **item})
                threshold = item["threshold"]
    evidence: dict[str, Any] = {
        "check": check,
        "threshold": threshold,
        "samples": samples,
        "window": {
            "start": started.isoformat(),
            "end": ended.isoformat(),
            "interval_seconds": config.interval_seconds,
            "window_seconds": config.window_seconds,
            "warmup_seconds": config.warmup_seconds,
        },
        "mode": config.mode,
        "provider": analysis.provider.name if analysis.provider else None,
    }
    if check == LATENCY:
        evidence["baseline"] = {"p95_seconds": analysis.baseline, "from": analysis.baseline_source}
        evidence["max_latency_increase"] = config.max_latency_increase
    if check == HEALTH:
        evidence["health_error"] = analysis.health.last_error
    if check == LOGS:
        evidence["lines"] = analysis.logs.lines[:20]
    return evidence


def _describe(check: str, item: dict[str, Any] | None) -> str:
    if item is None:
        return f"{check}: no data after the warm-up"
    value, threshold = item["value"], item["threshold"]
    if check == ERROR_RATE:
        return f"error rate {value:.1%} above {threshold:.1%}"
    if check == LATENCY:
        return f"p95 latency {value * 1000:.0f} ms above {threshold * 1000:.0f} ms"
    if check == HEALTH:
        return f"health check failing for {value:.0f} s (limit {threshold:.0f} s)"
    if check == LOGS:
        return f"{value:.0f} critical log line(s) in the first minutes"
    return f"{check} = {value:g} above {threshold:g}"


def run_analysis(
    runtime: Runtime,
    deployment_id: str,
    *,
    url: str | None,
    metrics_url: str | None,
    config: AnalysisConfig,
    baseline_id: str | None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    heartbeat: Callable[[], None] | None = None,
    client: httpx.Client | None = None,
) -> AnalysisOutcome:
    with runtime.db.read_session() as session:
        deployment = session.get(Deployment, deployment_id)
        state = (deployment.target_state or {}) if deployment else {}
        # The process target's service output; "log" is the name its first version used.
        log_file = state.get("log_file") or state.get("log")
    own_client = client is None
    http = client or httpx.Client(follow_redirects=False)
    try:
        provider: MetricsProvider | None = None
        if config.prometheus_url:
            provider = PrometheusProvider(config.prometheus_url, config, http)
        elif metrics_url:
            provider = ScrapeProvider(metrics_url, config, http)
        health_url = url.rstrip("/") + "/" + config.health.lstrip("/") if url else None
        if provider is None and health_url is None and not log_file:
            return AnalysisOutcome(
                "aborted",
                "Nothing to watch: no Prometheus, no metrics URL, no service URL, no log file.",
            )
        analysis = Analysis(
            config,
            provider,
            HealthProbe(health_url, http),
            CriticalLogs(log_file),
            baseline_p95(runtime, baseline_id),
        )
        return _loop(runtime, deployment_id, analysis, clock, sleep, heartbeat)
    finally:
        if own_client:
            http.close()


def _loop(
    runtime: Runtime,
    deployment_id: str,
    analysis: Analysis,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
    heartbeat: Callable[[], None] | None,
) -> AnalysisOutcome:
    config = analysis.config
    start = clock()
    started = datetime.now(UTC)
    history: list[tuple[datetime, list[dict[str, Any]], str]] = []
    bad: dict[str, int] = {}
    errors = 0
    while True:
        elapsed = clock() - start
        at = started + timedelta(seconds=elapsed)
        checks, verdict, error = analysis.sample(elapsed)
        counted_no_data = verdict == "no-data" and elapsed >= config.warmup_seconds
        _record(runtime, deployment_id, at, checks, verdict)
        history.append((at, checks, verdict))
        if heartbeat is not None:
            heartbeat()
        errors = errors + 1 if verdict == "error" else 0
        if errors >= config.provider_errors_to_abort:
            return AnalysisOutcome(
                "aborted",
                f"The metrics provider failed {errors} times in a row: {error}",
                {"provider": analysis.provider.name if analysis.provider else None, "error": error},
            )
        if verdict != "error":
            failing = {check["name"] for check in checks if check["ok"] is False}
            if counted_no_data:
                failing.add("no data")
            bad = {name: bad.get(name, 0) + 1 for name in failing}
            worst = [name for name, count in bad.items() if count >= config.bad_samples_to_fail]
            if worst:
                check = sorted(worst, key=lambda name: (name == "no data", name))[0]
                item = next((c for c in checks if c["name"] == check), None)
                reason = _describe(check, item)
                if config.mode == "shadow":
                    reason = f"{reason} (shadow mode: reported, not rolled back)"
                evidence = _evidence(analysis, history, check, started=started, ended=at)
                evidence["reason"] = reason
                return AnalysisOutcome("breached", reason, evidence)
        if elapsed >= config.window_seconds:
            return AnalysisOutcome(
                "healthy",
                f"{len(history)} samples over {elapsed:.0f} s, no check breached.",
                {"samples": len(history), "mode": config.mode},
            )
        sleep(max(0.0, config.interval_seconds - (clock() - start - elapsed)))
