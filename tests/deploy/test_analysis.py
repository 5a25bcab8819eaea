"""Health analysis after a deploy, against a real tiny service on 127.0.0.1 with a clock that
moves only when the loop sleeps (so a 5-minute window takes milliseconds)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from pavedroad.config import AnalysisSettings
from pavedroad.deploy.analysis import (
    AnalysisConfig,
    AnalysisOutcome,
    analyse,
    error_rate_query,
    p95_query,
    quantile,
    resolve_config,
)
from pavedroad.deploy.analysis.probes import is_critical
from pavedroad.deploy.models import AnalysisSample
from pavedroad.runtime import Runtime
from tests.deploy.analysis_support import TinyService, TrafficClock, add_deployment, tiny_service

FAST = {"interval_seconds": 10, "window_seconds": 60, "warmup_seconds": 15}


@pytest.fixture
def service() -> Iterator[TinyService]:
    with tiny_service() as running:
        yield running


def run(
    runtime: Runtime, service: TinyService | None, deployment_id: str, **config: object
) -> tuple[AnalysisOutcome, TrafficClock]:
    clock = TrafficClock(service)
    outcome = analyse(
        runtime,
        deployment_id,
        url=service.url if service else None,
        metrics_url=f"{service.url}/metrics" if service else None,
        config={"analysis": FAST | config},
        baseline_id=None,
        clock=clock,
        sleep=clock.sleep,
    )
    return outcome, clock


def samples(runtime: Runtime, deployment_id: str) -> list[AnalysisSample]:
    with runtime.db.read_session() as session:
        return list(
            session.scalars(
                select(AnalysisSample)
                .where(AnalysisSample.deployment_id == deployment_id)
                .order_by(AnalysisSample.id)
            )
        )


class TestAnalyse:
    def test_healthy_service_passes_the_window_with_every_sample_recorded(
        self, runtime: Runtime, service: TinyService
    ) -> None:
        deployment_id = add_deployment(runtime)
        outcome, clock = run(runtime, service, deployment_id)
        assert outcome.verdict == "healthy"
        recorded = samples(runtime, deployment_id)
        assert len(recorded) == 7  # at 0, 10, ..., 60 s
        assert recorded[0].verdict == "no-data"  # the first scrape has nothing to compare with
        assert {sample.verdict for sample in recorded[1:]} == {"ok"}
        error_rate = next(c for c in recorded[-1].checks if c["name"] == "error_rate")
        assert error_rate == {"name": "error_rate", "value": 0.0, "threshold": 0.05, "ok": True}
        assert clock.sleeps == [10.0] * 6

    def test_500s_breach_on_the_second_consecutive_bad_sample_with_evidence(
        self, runtime: Runtime, service: TinyService
    ) -> None:
        service.status = 500
        deployment_id = add_deployment(runtime)
        outcome, _ = run(runtime, service, deployment_id)
        assert outcome.verdict == "breached"
        assert outcome.reason == "error rate 100.0% above 5.0%"
        assert [s.verdict for s in samples(runtime, deployment_id)] == ["no-data", "bad", "bad"]
        evidence = outcome.evidence
        assert evidence["check"] == "error_rate"
        assert evidence["threshold"] == 0.05
        assert [s["value"] for s in evidence["samples"]] == [None, 1.0, 1.0]
        assert evidence["window"]["interval_seconds"] == 10
        assert evidence["mode"] == "enforce"
        assert evidence["provider"] == "scrape"

    def test_one_bad_sample_between_good_ones_is_not_a_breach(
        self, runtime: Runtime, service: TinyService
    ) -> None:
        deployment_id = add_deployment(runtime)
        clock = TrafficClock(service)
        original = clock.sleep

        def flaky(seconds: float) -> None:
            service.status = 500 if len(clock.sleeps) == 2 else 200
            original(seconds)

        outcome = analyse(
            runtime,
            deployment_id,
            url=service.url,
            metrics_url=f"{service.url}/metrics",
            config={"analysis": FAST},
            baseline_id=None,
            clock=clock,
            sleep=flaky,
        )
        assert outcome.verdict == "healthy"
        assert [s.verdict for s in samples(runtime, deployment_id)].count("bad") == 1

    def test_p95_three_times_the_previous_versions_baseline_breaches(
        self, runtime: Runtime, service: TinyService
    ) -> None:
        previous = add_deployment(runtime, version="1.0.0", status="succeeded")
        with runtime.db.session() as session:
            for value in (0.009, 0.0095, 0.0098):
                session.add(
                    AnalysisSample(
                        deployment_id=previous,
                        at=datetime.now(UTC),
                        checks=[{"name": "latency_p95", "value": value, "threshold": None}],
                        verdict="ok",
                    )
                )
        service.seconds = 0.2  # 0.1-0.25 s bucket: p95 about 0.24 s
        deployment_id = add_deployment(runtime, previous_id=previous)
        clock = TrafficClock(service)
        outcome = analyse(
            runtime,
            deployment_id,
            url=service.url,
            metrics_url=f"{service.url}/metrics",
            config={"analysis": FAST},
            baseline_id=previous,
            clock=clock,
            sleep=clock.sleep,
        )
        assert outcome.verdict == "breached"
        assert outcome.evidence["check"] == "latency_p95"
        assert outcome.evidence["baseline"] == {"p95_seconds": 0.0095, "from": "previous version"}
        assert outcome.evidence["threshold"] == pytest.approx(0.0285)
        assert outcome.reason.startswith("p95 latency 24")

    def test_without_a_previous_version_the_first_samples_are_the_baseline(
        self, runtime: Runtime, service: TinyService
    ) -> None:
        deployment_id = add_deployment(runtime)
        clock = TrafficClock(service)

        def slower(seconds: float) -> None:
            if len(clock.sleeps) >= 2:
                service.seconds = 0.4
            clock_sleep(seconds)

        clock_sleep = clock.sleep
        outcome = analyse(
            runtime,
            deployment_id,
            url=service.url,
            metrics_url=f"{service.url}/metrics",
            config={"analysis": FAST},
            baseline_id=None,
            clock=clock,
            sleep=slower,
        )
        assert outcome.verdict == "breached"
        assert outcome.evidence["baseline"]["from"] == "first samples"
        assert outcome.evidence["baseline"]["p95_seconds"] == pytest.approx(0.00475)

    def test_health_failing_for_30_seconds_breaches(
        self, runtime: Runtime, service: TinyService
    ) -> None:
        service.healthy = False
        deployment_id = add_deployment(runtime)
        outcome, _ = run(runtime, service, deployment_id, interval_seconds=5)
        assert outcome.verdict == "breached"
        assert outcome.evidence["check"] == "health"
        assert outcome.evidence["health_error"] == "HTTP 503"
        failing = [s["value"] for s in outcome.evidence["samples"]]
        assert failing == [0, 5, 10, 15, 20, 25, 30, 35]

    def test_critical_log_lines_in_the_first_minutes_breach(
        self, runtime: Runtime, service: TinyService, tmp_path: Path
    ) -> None:
        log = tmp_path / "service.log"
        log.write_text('INFO started\n{"level": "critical", "message": "no database"}\n')
        deployment_id = add_deployment(runtime, target_state={"log_file": str(log)})
        outcome, _ = run(runtime, service, deployment_id)
        assert outcome.verdict == "breached"
        assert outcome.evidence["check"] == "critical_logs"
        assert outcome.evidence["lines"] == ['{"level": "critical", "message": "no database"}']

    def test_no_data_is_bad_only_after_the_warm_up(
        self, runtime: Runtime, service: TinyService
    ) -> None:
        deployment_id = add_deployment(runtime)
        clock = TrafficClock(service, per_sleep=0)  # nobody calls the service
        outcome = analyse(
            runtime,
            deployment_id,
            url=service.url,
            metrics_url=f"{service.url}/metrics",
            config={"analysis": FAST},
            baseline_id=None,
            clock=clock,
            sleep=clock.sleep,
        )
        assert outcome.verdict == "breached"
        assert outcome.reason == "no data: no data after the warm-up"
        assert clock.now - 1000.0 == 30  # samples at 0, 10 (warm-up), 20 and 30 s
        assert outcome.evidence["samples"][-1]["missing"] == ["error_rate", "latency_p95"]

    def test_prometheus_down_aborts_after_four_provider_errors(
        self, runtime: Runtime, service: TinyService
    ) -> None:
        deployment_id = add_deployment(runtime)
        outcome, clock = run(runtime, service, deployment_id, prometheus_url="http://127.0.0.1:9")
        assert outcome.verdict == "aborted"
        assert "failed 4 times in a row" in outcome.reason
        assert [s.verdict for s in samples(runtime, deployment_id)] == ["error"] * 4
        assert len(clock.sleeps) == 3

    def test_shadow_mode_reports_the_breach_and_says_it_does_not_roll_back(
        self, runtime: Runtime, service: TinyService
    ) -> None:
        service.status = 503
        deployment_id = add_deployment(runtime, mode="shadow")
        outcome, _ = run(runtime, service, deployment_id, mode="shadow")
        assert outcome.verdict == "breached"
        assert outcome.reason.endswith("(shadow mode: reported, not rolled back)")
        assert outcome.evidence["mode"] == "shadow"

    def test_nothing_to_watch_aborts_without_samples(self, runtime: Runtime) -> None:
        deployment_id = add_deployment(runtime, target="gitops")
        outcome, _ = run(runtime, None, deployment_id)
        assert outcome.verdict == "aborted"
        assert outcome.reason.startswith("Nothing to watch")
        with runtime.db.read_session() as session:
            assert session.scalar(select(func.count()).select_from(AnalysisSample)) == 0


class TestConfig:
    def test_component_analysis_overrides_the_platform_defaults_and_reads_the_health_path(
        self,
    ) -> None:
        config = resolve_config(
            AnalysisSettings(),
            {
                "process": {"health": "/ready"},
                "analysis": {
                    "mode": "shadow",
                    "selector": 'job="payments"',
                    "queries": [{"name": "backlog", "promql": "sum(queue_depth)", "max": 100}],
                    "unknown": 1,
                },
            },
        )
        assert (config.mode, config.health, config.max_error_rate) == ("shadow", "/ready", 0.05)
        assert config.queries[0].max == 100

    def test_queries_carry_the_components_selector(self) -> None:
        config = AnalysisConfig(selector='job="payments"')
        assert error_rate_query(config) == (
            'sum(rate(http_requests_total{job="payments",status=~"5.."}[1m]))'
            ' / sum(rate(http_requests_total{job="payments"}[1m]))'
        )
        assert p95_query(AnalysisConfig()) == (
            "histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[1m])))"
        )


class TestQuantile:
    def test_interpolates_within_the_bucket_as_prometheus_does(self) -> None:
        # 100 observations: 50 below 0.1 s, 100 below 0.5 s -> rank 95 is 0.1 + 0.4 * 45/50.
        assert quantile(0.95, {0.1: 50, 0.5: 100, float("inf"): 100}) == pytest.approx(0.46)

    def test_empty_histogram_is_no_data(self) -> None:
        assert quantile(0.95, {0.1: 0, float("inf"): 0}) is None


class TestCriticalLines:
    @pytest.mark.parametrize(
        ("line", "critical"),
        [
            ("2026-12-06 CRITICAL database unreachable", True),
            ("[FATAL] out of memory", True),
            ('{"level": "critical", "msg": "x"}', True),
            ('{"levelname": "FATAL"}', True),
            ('{"level": "info", "msg": "CRITICAL is just a word here"}', False),
            ("INFO critical path warmed", False),
        ],
    )
    def test_levels(self, line: str, critical: bool) -> None:
        assert is_critical(line) is critical
