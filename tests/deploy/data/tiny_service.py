"""A tiny HTTP service the deployment tests deploy: it answers /healthz, / (its version) and
/metrics (``http_requests_total`` and ``http_request_duration_seconds`` in Prometheus' text
format), and misbehaves when told by its environment:

FAIL_RATE=0.5   that share of requests to / answer 500
SLOW_SECONDS=1  every request to / takes that long
HEALTH_FAIL=1   /healthz answers 503 (a version that never gets healthy)
CRASH=1         exits at once with code 3
CRITICAL_LOG=1  prints a CRITICAL line at start

/wait?seconds=N answers after N seconds (a request in flight across a switch). The version is
VERSION from the environment, else the VERSION file next to this script.
"""

import os
import random
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
HERE = Path(__file__).resolve().parent
VERSION = os.environ.get("VERSION") or (
    (HERE / "VERSION").read_text().strip() if (HERE / "VERSION").exists() else "unknown"
)
FAIL_RATE = float(os.environ.get("FAIL_RATE") or 0)
SLOW_SECONDS = float(os.environ.get("SLOW_SECONDS") or 0)
HEALTH_FAIL = os.environ.get("HEALTH_FAIL") == "1"

lock = threading.Lock()
counts: dict[str, int] = {}
bucket_counts = [0] * len(BUCKETS)
duration_sum = 0.0
duration_count = 0


def observe(code: int, seconds: float) -> None:
    global duration_sum, duration_count
    with lock:
        counts[str(code)] = counts.get(str(code), 0) + 1
        duration_sum += seconds
        duration_count += 1
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
        lines.append(f'http_request_duration_seconds_bucket{{le="+Inf"}} {duration_count}')
        lines.append(f"http_request_duration_seconds_sum {duration_sum}")
        lines.append(f"http_request_duration_seconds_count {duration_count}")
    return "\n".join(lines) + "\n"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        print(f"{self.address_string()} {format % args}", flush=True)

    def answer(self, code: int, text: str, content_type: str = "text/plain") -> None:
        body = text.encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        url = urlparse(self.path)
        if url.path == "/healthz":
            self.answer(503 if HEALTH_FAIL else 200, "unhealthy" if HEALTH_FAIL else "ok")
            return
        if url.path == "/metrics":
            self.answer(200, metrics(), "text/plain; version=0.0.4")
            return
        started = time.monotonic()
        if url.path == "/wait":
            time.sleep(float(parse_qs(url.query).get("seconds", ["1"])[0]))
        elif SLOW_SECONDS:
            time.sleep(SLOW_SECONDS)
        code = 500 if random.random() < FAIL_RATE else 200
        self.answer(code, f"version {VERSION}\n" if code == 200 else "internal error\n")
        observe(code, time.monotonic() - started)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.answer(200, f"{VERSION} got {len(body)} bytes\n")


def main() -> None:
    if os.environ.get("CRASH") == "1":
        print("crashing on purpose", flush=True)
        sys.exit(3)
    if os.environ.get("CRITICAL_LOG") == "1":
        print("CRITICAL something is badly wrong", flush=True)
    server = ThreadingHTTPServer(
        (os.environ.get("HOST", "127.0.0.1"), int(os.environ["PORT"])), Handler
    )
    server.daemon_threads = True
    print(f"version {VERSION} listening on {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
