"""Where the request metrics come from: Prometheus over its HTTP API, or, without one, the
service's own ``/metrics`` scraped at each sample (error rate and p95 from the counters'
and buckets' increase since the previous scrape, as Prometheus's ``rate`` would)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Protocol

import httpx
from prometheus_client.parser import text_string_to_metric_families

from pavedroad.deploy.analysis.settings import AnalysisConfig

TIMEOUT = 5.0
_MATCHER = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?')


class ProviderError(RuntimeError):
    """The metrics provider could not answer (down, refused, malformed): not the service's
    fault, so enough of these in a row abort the analysis instead of rolling back."""


@dataclass(slots=True)
class Reading:
    """One sample's figures; None is "no data"."""

    error_rate: float | None = None
    p95_seconds: float | None = None
    queries: dict[str, float | None] = field(default_factory=dict)


class MetricsProvider(Protocol):
    name: str

    def read(self) -> Reading: ...


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _selector(config: AnalysisConfig, *extra: str) -> str:
    matchers = [part for part in (config.selector.strip().strip("{}").strip(), *extra) if part]
    return "{" + ",".join(matchers) + "}" if matchers else ""


def error_rate_query(config: AnalysisConfig) -> str:
    metric = config.requests_metric
    errors = _selector(config, 'status=~"5.."')
    return f"sum(rate({metric}{errors}[1m])) / sum(rate({metric}{_selector(config)}[1m]))"


def p95_query(config: AnalysisConfig) -> str:
    buckets = f"{config.duration_metric}_bucket{_selector(config)}"
    return f"histogram_quantile(0.95, sum by (le) (rate({buckets}[1m])))"


class PrometheusProvider:
    """Instant queries against ``/api/v1/query``; an empty result or NaN is no data."""

    name = "prometheus"

    def __init__(self, base_url: str, config: AnalysisConfig, client: httpx.Client) -> None:
        self.base_url = base_url.rstrip("/")
        self.config = config
        self.client = client

    def query(self, promql: str) -> float | None:
        try:
            response = self.client.get(
                f"{self.base_url}/api/v1/query", params={"query": promql}, timeout=TIMEOUT
            )
            body = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise ProviderError(f"Prometheus at {self.base_url} did not answer: {error}") from error
        if response.status_code != 200 or body.get("status") != "success":
            raise ProviderError(
                f"Prometheus refused {promql!r}: {body.get('error') or response.status_code}"
            )
        data = body.get("data", {})
        result = data.get("result")
        if data.get("resultType") == "scalar":
            return _finite(float(result[1]))
        if not result:
            return None
        values = [_finite(float(series["value"][1])) for series in result]
        known = [value for value in values if value is not None]
        return max(known) if known else None

    def read(self) -> Reading:
        return Reading(
            error_rate=self.query(error_rate_query(self.config)),
            p95_seconds=self.query(p95_query(self.config)),
            queries={check.name: self.query(check.promql) for check in self.config.queries},
        )


def parse_matchers(selector: str) -> dict[str, str]:
    """``job="a", env="b"`` as a dict; the scrape provider only knows equality matchers."""
    text = selector.strip().strip("{}")
    matchers: dict[str, str] = {}
    position = 0
    while position < len(text):
        found = _MATCHER.match(text, position)
        if found is None:
            raise ValueError(f'Only label="value" matchers can be scraped directly: {selector!r}')
        matchers[found.group(1)] = found.group(2)
        position = found.end()
    return matchers


@dataclass(slots=True)
class _Totals:
    requests: float = 0.0
    errors: float = 0.0
    buckets: dict[float, float] = field(default_factory=dict)


def _increase(now: float, before: float) -> float:
    return now if now < before else now - before  # a counter reset: the process restarted


def quantile(q: float, buckets: dict[float, float]) -> float | None:
    """Prometheus's ``histogram_quantile`` over cumulative bucket counts by upper bound."""
    bounds = sorted(buckets)
    if not bounds or not math.isinf(bounds[-1]):
        return None
    total = buckets[bounds[-1]]
    if total <= 0:
        return None
    rank = q * total
    lower, below = 0.0, 0.0
    for bound in bounds:
        count = buckets[bound]
        if count >= rank:
            if math.isinf(bound):
                return lower if len(bounds) > 1 else None
            if count == below:
                return bound
            return lower + (bound - lower) * (rank - below) / (count - below)
        lower, below = bound, count
    return None


class ScrapeProvider:
    """The service's own exposition, read at each sample: the first read has nothing to
    compare with, so it is no data. PromQL checks need Prometheus and are not evaluated
    here. An unreachable ``/metrics`` is no data too (the service's
    fault); an exposition that does not parse is a provider error."""

    name = "scrape"

    def __init__(self, metrics_url: str, config: AnalysisConfig, client: httpx.Client) -> None:
        self.metrics_url = metrics_url
        self.config = config
        self.client = client
        self.matchers = parse_matchers(config.selector)
        self.previous: _Totals | None = None

    def _totals(self, text: str) -> _Totals:
        totals = _Totals()
        requests = self.config.requests_metric.removesuffix("_total")
        duration = self.config.duration_metric
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if any(sample.labels.get(k) != v for k, v in self.matchers.items()):
                    continue
                if family.name == requests and sample.name == f"{requests}_total":
                    totals.requests += sample.value
                    if sample.labels.get("status", "").startswith("5"):
                        totals.errors += sample.value
                elif family.name == duration and sample.name == f"{duration}_bucket":
                    bound = float(sample.labels["le"])
                    totals.buckets[bound] = totals.buckets.get(bound, 0.0) + sample.value
        return totals

    def read(self) -> Reading:
        try:
            response = self.client.get(self.metrics_url, timeout=TIMEOUT)
        except httpx.HTTPError:
            self.previous = None
            return Reading()
        if response.status_code != 200:
            self.previous = None
            return Reading()
        try:
            totals = self._totals(response.text)
        except (ValueError, KeyError) as error:
            message = f"{self.metrics_url} is not a Prometheus exposition: {error}"
            raise ProviderError(message) from error
        previous, self.previous = self.previous, totals
        if previous is None:
            return Reading()
        requests = _increase(totals.requests, previous.requests)
        errors = _increase(totals.errors, previous.errors)
        buckets = {
            bound: _increase(count, previous.buckets.get(bound, 0.0))
            for bound, count in totals.buckets.items()
        }
        return Reading(
            error_rate=errors / requests if requests > 0 else None,
            p95_seconds=quantile(0.95, buckets),
        )
