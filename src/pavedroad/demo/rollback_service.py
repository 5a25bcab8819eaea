"""The tiny HTTP service ``pavedroad demo-rollback`` deploys (standard library only):
/healthz, / (its version) and /metrics: ``http_requests_total`` by ``status`` (the label the
analysis reads) and ``http_request_duration_seconds``, in Prometheus' text format. The version
is the VERSION file beside it; when a FAIL_RATE file is there too (the broken 1.1.0), that share
of requests to / answer 500 while /healthz stays 200: only the error rate shows it is broken."""

from __future__ import annotations

import os
import random
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
HERE = Path(__file__).resolve().parent


def _read(name: str, default: str) -> str:
    path = HERE / name
    return path.read_text().strip() if path.exists() else default


VERSION = _read("VERSION", "unknown")
FAIL_RATE = float(_read("FAIL_RATE", "0"))

lock = threading.Lock()
counts: dict[str, int] = {}
bucket_counts = [0] * len(BUCKETS)
totals = {"sum": 0.0, "count": 0.0}


def observe(code: int, seconds: float) -> None:
    with lock:
        counts[str(code)] = counts.get(str(code), 0) + 1
        totals["sum"] += seconds
        totals["count"] += 1
        for index, bound in enumerate(BUCKETS):
            if seconds <= bound:
                bucket_counts[index] += 1


def metrics() -> str:
    lines = ["# TYPE http_requests_total counter"]
    with lock:
        for code, count in sorted(counts.items()):
            lines.append(f'http_requests_total{{status="{code}",version="{VERSION}"}} {count}')
        lines.append("# TYPE http_request_duration_seconds histogram")
        for bound, count in zip(BUCKETS, bucket_counts, strict=True):
            lines.append(f'http_request_duration_seconds_bucket{{le="{bound}"}} {count}')
        lines.append(f'http_request_duration_seconds_bucket{{le="+Inf"}} {totals["count"]:g}')
        lines.append(f"http_request_duration_seconds_sum {totals['sum']}")
        lines.append(f"http_request_duration_seconds_count {totals['count']:g}")
    return "\n".join(lines) + "\n"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the load generator calls it many times a second."""

    def answer(self, code: int, text: str, content_type: str = "text/plain") -> None:
        body = text.encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path == "/healthz":
            self.answer(200, "ok")
            return
        if self.path == "/metrics":
            self.answer(200, metrics(), "text/plain; version=0.0.4")
            return
        started = time.monotonic()
        code = 500 if random.random() < FAIL_RATE else 200
        self.answer(code, f"version {VERSION}\n" if code == 200 else "internal error\n")
        observe(code, time.monotonic() - started)


def main() -> None:
    server = ThreadingHTTPServer(
        (os.environ.get("HOST", "127.0.0.1"), int(os.environ["PORT"])), Handler
    )
    server.daemon_threads = True
    print(f"version {VERSION} listening on {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
