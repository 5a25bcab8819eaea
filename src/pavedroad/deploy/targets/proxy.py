"""The small reverse proxy in front of a component's processes in one environment: the stable
address people use, switched from the old version's port to the new one's (blue/green).

One per component and environment, in a platform process (a thread each). The backend port is
in a route file replaced atomically (:class:`Route`), so a switch made by any platform process
reaches the proxy wherever it listens, and a proxy started again after a restart of the platform
(:func:`ensure_proxy`, from the recorded state) sends to the right version at once. A request
reads the backend once when it starts, so a switch never cuts it: it finishes on the version it
began on, and :meth:`ReverseProxy.drain` waits for those before the old version is stopped.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import socket
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HOST = "127.0.0.1"
BACKEND_HEADER = "X-Pavedroad-Backend"  # on each answer: which port served it
BACKEND_TIMEOUT_SECONDS = 60.0
CHUNK_BYTES = 64 * 1024
# Headers about one hop of a connection (RFC 9110 7.6.1): never passed on.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    proxy: ReverseProxy


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the service logs its own requests."""

    def _forward(self) -> None:
        proxy = self.server.proxy
        backend = proxy.enter()
        try:
            if backend is None:
                self._body()
                self._bad_gateway("no version of the service is running here yet")
            else:
                self._relay(backend)
        finally:
            proxy.leave(backend)

    def _body(self) -> bytes | None:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            parts: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else None

    def _relay(self, backend: int) -> None:
        body = self._body()
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        headers.pop("Content-Length", None)
        if body is not None:
            headers["Content-Length"] = str(len(body))
        client = self.client_address[0]
        forwarded = self.headers.get("X-Forwarded-For")
        headers["X-Forwarded-For"] = f"{forwarded}, {client}" if forwarded else client
        headers.setdefault("X-Forwarded-Host", self.headers.get("Host", ""))
        connection = http.client.HTTPConnection(HOST, backend, timeout=BACKEND_TIMEOUT_SECONDS)
        try:
            try:
                connection.request(self.command, self.path, body=body, headers=headers)
                response = connection.getresponse()
            except OSError as error:
                self._bad_gateway(f"the service on port {backend} did not answer: {error}")
                return
            self.send_response_only(response.status, response.reason)
            self.send_header(BACKEND_HEADER, str(backend))
            for key, value in response.getheaders():
                if key.lower() not in HOP_BY_HOP:
                    self.send_header(key, value)
            known_length = response.getheader("Content-Length") is not None
            if not known_length:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            if self.command != "HEAD":
                while chunk := response.read(CHUNK_BYTES):
                    self.wfile.write(chunk)
        finally:
            connection.close()

    def _bad_gateway(self, message: str) -> None:
        payload = message.encode()
        self.send_response_only(502, "Bad Gateway")
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    # http.server calls do_<METHOD>
    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _forward  # noqa: N815


class Route:
    """Where a proxy sends requests: a backend port in a small file, replaced atomically, so
    that whichever platform process switches it (a server runs several), the proxy listening
    in any of them follows, and a proxy started again after a restart knows where to send."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._seen: tuple[int, int, int] | None = None  # the file read: inode, mtime, size
        self._backend: int | None = None

    def current(self) -> int | None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return self._backend
        with self._lock:
            # each write is a new file (replaced), so its inode tells a change within a tick
            seen = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
            if self._seen != seen:
                try:
                    self._backend = int(json.loads(self.path.read_text())["backend"])
                    self._seen = seen
                except (OSError, ValueError, KeyError, TypeError):
                    pass  # half-written by another writer cannot happen (os.replace); keep
            return self._backend

    def write(self, backend: int) -> int | None:
        """Send new requests to ``backend``; returns the backend before."""
        previous = self.current()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        unique = f"{os.getpid()}.{threading.get_ident()}"
        temporary = self.path.with_name(f".{self.path.name}.{unique}.tmp")
        temporary.write_text(json.dumps({"backend": backend}))
        temporary.replace(self.path)  # atomic: a reader sees the old or the new port
        with self._lock:
            self._backend, self._seen = backend, None
        return previous


class ReverseProxy:
    """Forwards HTTP on ``HOST:port`` to the route's backend on ``HOST``."""

    def __init__(self, route: Route, *, port: int = 0) -> None:
        self.route = route
        self._lock = threading.Lock()
        self._in_flight: Counter[int] = Counter()
        self._server = _Server((HOST, port), _Handler)
        self._server.proxy = self
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.2},
            daemon=True,
            name=f"deploy-proxy-{self.port}",
        )
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def enter(self) -> int | None:
        # One lock around reading and counting: a drain that follows a switch sees every
        # request that read the old backend.
        with self._lock:
            backend = self.route.current()
            if backend is not None:
                self._in_flight[backend] += 1
            return backend

    def leave(self, backend: int | None) -> None:
        if backend is not None:
            with self._lock:
                self._in_flight[backend] -= 1

    def in_flight(self, backend: int) -> int:
        with self._lock:
            return self._in_flight[backend]

    def drain(self, backend: int, timeout_seconds: float) -> bool:
        """Wait until no request this proxy forwarded to ``backend`` is still being served."""
        until = time.monotonic() + timeout_seconds
        while self.in_flight(backend) > 0:
            if time.monotonic() >= until:
                return False
            time.sleep(0.02)
        return True

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


_proxies: dict[tuple[str, str], ReverseProxy] = {}
_registry_lock = threading.Lock()


def running_proxy(component_ref: str, environment: str) -> ReverseProxy | None:
    with _registry_lock:
        return _proxies.get((component_ref, environment))


def ensure_proxy(
    component_ref: str, environment: str, *, route: Path, port: int, fixed: bool = False
) -> ReverseProxy:
    """The proxy of this component in this environment, listening on ``port`` (0: a free
    one) and following ``route``, started if this process has none yet (the first deploy, or
    after a restart). A port another program took since is given up for a free one, unless
    ``fixed``: then the OSError says it is taken."""
    key = (component_ref, environment)
    with _registry_lock:
        proxy = _proxies.get(key)
        if proxy is not None:
            return proxy
        try:
            proxy = ReverseProxy(Route(route), port=port)
        except OSError:
            if not port or fixed:
                raise
            proxy = ReverseProxy(Route(route), port=0)
        _proxies[key] = proxy
        return proxy


def stop_proxy(component_ref: str, environment: str) -> None:
    with _registry_lock:
        proxy = _proxies.pop((component_ref, environment), None)
    if proxy is not None:
        proxy.close()


def free_port() -> int:
    """A port nothing listens on now on ``HOST`` (the kernel's pick)."""
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])
