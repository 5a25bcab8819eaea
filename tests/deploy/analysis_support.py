"""A tiny real service on 127.0.0.1 for the analysis tests: it exposes the golden Python
service's request metrics, answers health, and can be told to fail (500s), to be slow (the
durations it records) or to fail its health check. A fake clock whose sleep sends traffic."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from pavedroad.deploy.models import Deployment
from pavedroad.runtime import Runtime

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass
class TinyService:
    status: int = 200
    seconds: float = 0.004  # what the duration histogram records per request
    healthy: bool = True
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    url: str = ""

    def __post_init__(self) -> None:
        self.requests = Counter(
            "http_requests_total",
            "Requests.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "http_request_duration_seconds",
            "Durations.",
            ["method", "route"],
            buckets=BUCKETS,
            registry=self.registry,
        )


def _handler(service: TinyService) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, body: bytes, kind: str = "text/plain") -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path == "/metrics":
                self._send(200, generate_latest(service.registry), "text/plain; version=0.0.4")
            elif self.path == "/healthz":
                self._send(200 if service.healthy else 503, b"ok" if service.healthy else b"down")
            else:
                service.requests.labels("GET", "/items", str(service.status)).inc()
                service.duration.labels("GET", "/items").observe(service.seconds)
                self._send(service.status, b"items")

    return Handler


@contextmanager
def tiny_service() -> Iterator[TinyService]:
    service = TinyService()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(service))
    service.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield service
    finally:
        server.shutdown()
        server.server_close()


class TrafficClock:
    """Time that passes only when the loop sleeps; each sleep sends ``per_sleep`` requests."""

    def __init__(self, service: TinyService | None, per_sleep: int = 20) -> None:
        self.now = 1000.0
        self.service = service
        self.per_sleep = per_sleep
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        if self.service is not None:
            with httpx.Client() as client:
                for _ in range(self.per_sleep):
                    client.get(f"{self.service.url}/items")


def add_deployment(runtime: Runtime, **values: Any) -> str:
    """A deployment row in ``analysing`` (what the service leaves before analysis)."""
    now = datetime.now(UTC)
    row = {
        "id": str(uuid.uuid4()),
        "component_ref": "component:default/payments",
        "environment": "production",
        "version": "1.1.0",
        "trigger": "manual",
        "triggered_by": "user:default/tester",
        "target": "process",
        "status": "analysing",
        "created_at": now,
        "deployed_at": now,
        "evidence": {},
        "target_state": {},
    } | values
    with runtime.db.session() as session:
        session.add(Deployment(**row))
    return str(row["id"])
