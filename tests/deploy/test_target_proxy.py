"""The blue/green proxy on real sockets: what it passes on, what it answers when nothing is
behind it, and switches under load that drop no request."""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from pavedroad.deploy.targets.proxy import BACKEND_HEADER, ReverseProxy, Route


class Backend(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: ThreadingHTTPServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        name = self.server.name  # type: ignore[attr-defined]
        if self.path == "/stream":  # no Content-Length: read to the end
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"streamed " * 1000)
            self.close_connection = True
            return
        code = 500 if self.path == "/broken" else 200
        body = f"{name} {self.headers.get('X-Forwarded-For')}".encode()
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Backend", name)
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(201)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.upper())


def start_backend(name: str) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Backend)
    server.daemon_threads = True
    server.name = name  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def backends() -> Iterator[tuple[ThreadingHTTPServer, ThreadingHTTPServer]]:
    blue, green = start_backend("blue"), start_backend("green")
    yield blue, green
    for server in (blue, green):
        server.shutdown()
        server.server_close()


@pytest.fixture
def proxy(tmp_path: Path, backends) -> Iterator[ReverseProxy]:
    route = Route(tmp_path / "route.json")
    route.write(backends[0].server_address[1])
    proxy = ReverseProxy(route)
    yield proxy
    proxy.close()


def request(proxy: ReverseProxy, method: str = "GET", path: str = "/", body: bytes | None = None):
    connection = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
    try:
        connection.request(method, path, body=body)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def test_passes_on_status_headers_and_body_with_the_client_address(proxy, backends):
    status, headers, body = request(proxy, path="/broken")
    assert status == 500
    assert headers["X-Backend"] == "blue"
    assert headers[BACKEND_HEADER] == str(backends[0].server_address[1])
    assert body == b"blue 127.0.0.1"


def test_passes_on_a_request_body(proxy):
    assert request(proxy, "POST", "/", b"hello")[::2] == (201, b"HELLO")


def test_an_answer_without_a_length_is_read_to_its_end(proxy):
    status, _, body = request(proxy, path="/stream")
    assert (status, len(body)) == (200, len(b"streamed ") * 1000)


def test_a_switch_sends_the_next_request_to_the_new_backend(proxy, backends):
    Route(proxy.route.path).write(backends[1].server_address[1])  # another process's switch
    assert request(proxy)[2] == b"green 127.0.0.1"


def test_a_backend_that_is_gone_is_a_502_that_says_so(proxy, backends):
    backends[0].shutdown()
    backends[0].server_close()
    status, _, body = request(proxy)
    assert status == 502
    assert b"did not answer" in body


def test_without_a_route_yet_it_answers_502(tmp_path):
    proxy = ReverseProxy(Route(tmp_path / "none.json"))
    try:
        status, _, body = request(proxy)
    finally:
        proxy.close()
    assert (status, body) == (502, b"no version of the service is running here yet")


def test_switching_back_and_forth_under_load_drops_no_request(proxy, backends):
    ports = [server.server_address[1] for server in backends]
    answers: list[int] = []
    stop = threading.Event()

    def load() -> None:
        while not stop.is_set():
            answers.append(request(proxy)[0])

    workers = [threading.Thread(target=load) for _ in range(4)]
    for worker in workers:
        worker.start()
    for index in range(50):
        proxy.route.write(ports[index % 2])
        time.sleep(0.01)
    stop.set()
    for worker in workers:
        worker.join(10)
    assert len(answers) > 50
    assert set(answers) == {200}
