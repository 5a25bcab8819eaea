"""Telemetry: JSON logs with request ids, and Prometheus metrics with the operations guide's names.

The HTTP middleware is plain ASGI (no per-request task or body buffering) so that it costs
microseconds on the hot catalog routes.
"""

from __future__ import annotations

import contextvars
import itertools
import json
import logging
import os
import re
import shutil
import sys
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, MutableMapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from pavedroad.core.db import Database

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)
# The address the current request came from (the ASGI server resolves forwarding headers).
client_ip_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "client_ip", default=None
)

REGISTRY = CollectorRegistry(auto_describe=True)
MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"  # prometheus_client's own contract

HTTP_REQUESTS = Counter(
    "http_requests_total",
    "HTTP requests served, by method, route template and status code.",
    ["method", "route", "status"],
    registry=REGISTRY,
)
HTTP_DURATION = Histogram(
    "http_request_duration_seconds",
    "Time from receiving a request to sending the last byte of its response.",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)
CATALOG_INGESTED = Counter(
    "catalog_entities_ingested_total",
    "Entities written (created or changed) by catalog ingestion.",
    registry=REGISTRY,
)
CATALOG_INGEST_ERRORS = Counter(
    "catalog_ingestion_errors_total",
    "Problems stored by catalog ingestion, by category.",
    ["category"],
    registry=REGISTRY,
)

# Values of these keys never reach a log line, whatever logs them.
_SECRET_KEY = re.compile(r"(pass(word)?|secret|token|authorization|api[-_]?key|cookie)", re.I)
_RESERVED = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


_COLLECTORS: list[Collector] = []


def register_collector(collector: Collector) -> None:
    """A collector of figures computed when scraped (from the database, say): exposed by
    every process, in multiprocess mode too, where it is not one of the per-process files."""
    REGISTRY.register(collector)
    _COLLECTORS.append(collector)


class DatabaseCollector(Collector):
    """Figures a domain computes from the database when Prometheus scrapes, cached a few
    seconds so every server and worker process reports the same figures cheaply. Subclasses
    give the (empty) metric families and fill them from a database."""

    cache_seconds = 5.0

    def __init__(self) -> None:
        self._db: Database | None = None
        self._lock = threading.Lock()
        self._cached: tuple[float, list[Metric]] = (0.0, [])

    def attach(self, db: Database) -> None:
        with self._lock:
            self._db = db
            self._cached = (0.0, [])

    def families(self) -> Sequence[Metric]:
        raise NotImplementedError

    def compute(self, db: Database) -> list[Metric]:
        raise NotImplementedError

    def describe(self) -> list[Metric]:
        return list(self.families())

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            db = self._db
            if db is None:
                return iter(())
            at, families = self._cached
            if time.monotonic() - at >= self.cache_seconds:
                families = self.compute(db)
                self._cached = (time.monotonic(), families)
            return iter(families)


def metrics_text() -> bytes:
    """The Prometheus exposition of this server: all worker processes' metrics when there
    are several (prometheus_client's multiprocess mode), else this process's."""
    directory = os.environ.get(MULTIPROCESS_DIR_VARIABLE)
    if directory:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
        for collector in _COLLECTORS:
            registry.register(collector)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


def prepare_multiprocess_metrics(directory: Path) -> None:
    """Before worker processes start: an empty folder they all write their metrics to."""
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    os.environ[MULTIPROCESS_DIR_VARIABLE] = str(directory)


def redact(value: Any, key: str = "") -> Any:
    """``value`` with anything under a secret-looking key replaced by ``***``."""
    if key and _SECRET_KEY.search(key):
        return "***"
    if isinstance(value, dict):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id and extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id:
            payload["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key not in _RESERVED and not key.startswith("_"):
                payload[key] = redact(value, key)
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


def configure_logging(level: str = "INFO", fmt: str = "json") -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Alembic narrates every schema check at INFO, which /readyz makes on each probe.
    for noisy in ("uvicorn.access", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class TelemetryMiddleware:
    """Counts and times every HTTP request by its route template, and tags it with a request id."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        request_id = _incoming_request_id(scope) or _next_request_id()
        token = request_id_var.set(request_id)
        client = scope.get("client")
        ip_token = client_ip_var.set(str(client[0])[:64] if client else None)

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)
            client_ip_var.reset(ip_token)
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope["method"]
            HTTP_REQUESTS.labels(method, template, str(status)).inc()
            HTTP_DURATION.labels(method, template).observe(time.perf_counter() - started)


_REQUEST_IDS = itertools.count()
_PROCESS_TAG = uuid.uuid4().hex[:16]


def _next_request_id() -> str:
    # Unique per process and request without a system call per request (uuid4 reads urandom).
    return f"{_PROCESS_TAG}{next(_REQUEST_IDS):016x}"


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            text: str = value.decode("latin-1")
            if re.fullmatch(r"[A-Za-z0-9._-]{1,64}", text):
                return text
    return None
