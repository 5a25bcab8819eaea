"""A deliberately vulnerable tiny web app for the DAST tests, served on 127.0.0.1 only.

Every flaw is on purpose: reflected XSS (``/search?q=``), an open redirect (``/go?next=``),
error-based SQL injection (``/item?id=``), a CORS policy that reflects any origin with
credentials, a session cookie without HttpOnly/SameSite, a version-revealing Server banner,
and none of the usual security headers. ``safe=True`` serves the same pages done right.
"""

from __future__ import annotations

import html
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

INDEX = """<html><head><title>Shop</title></head><body>
<a href="/search?q=shoes">Search</a> <a href="/item?id=1">Item</a>
<a href="/go?next=/search?q=hats">Go</a>
<form action="/search" method="get"><input name="q"><button>Find</button></form>
</body></html>"""


def _database() -> sqlite3.Connection:
    connection = sqlite3.connect(":memory:", check_same_thread=False)
    connection.execute("create table items (id integer primary key, name text)")
    connection.execute("insert into items values (1, 'shoe'), (2, 'hat')")
    return connection


class _Handler(BaseHTTPRequestHandler):
    safe = False
    database = _database()
    lock = threading.Lock()

    def version_string(self) -> str:
        return "" if self.safe else "Apache/2.2.8 (Ubuntu) PHP/5.2.4"

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        if parts.path == "/":
            self._send(200, INDEX)
        elif parts.path == "/search":
            term = query.get("q", "")
            shown = html.escape(term) if self.safe else term
            self._send(200, f"<html><body><p>Results for {shown}</p></body></html>")
        elif parts.path == "/go":
            target = query.get("next", "/")
            if self.safe and not target.startswith("/"):
                target = "/"
            self._send(302, "", location=target)
        elif parts.path == "/item":
            self._item(query.get("id", "1"))
        else:
            self._send(404, "<html><body>not found</body></html>")

    def _item(self, item_id: str) -> None:
        try:
            with self.lock:
                if self.safe:
                    rows = self.database.execute("select name from items where id = ?", (item_id,))
                else:
                    rows = self.database.execute(f"select name from items where id = {item_id}")
                names = [row[0] for row in rows]
        except sqlite3.Error as error:
            detail = "error" if self.safe else f"sqlite3.OperationalError: {error} near SQL syntax"
            self._send(500, f"<html><body>{detail}</body></html>")
            return
        self._send(200, f"<html><body>{html.escape(', '.join(names))}</body></html>")

    def _send(self, status: int, body: str, location: str | None = None) -> None:
        self.send_response(status)
        self.send_header("content-type", "text/html; charset=utf-8")
        if location is not None:
            self.send_header("location", location)
        origin = self.headers.get("origin")
        if self.safe:
            self.send_header("content-security-policy", "default-src 'self'")
            self.send_header("x-content-type-options", "nosniff")
            self.send_header("x-frame-options", "DENY")
            self.send_header("referrer-policy", "no-referrer")
            self.send_header("set-cookie", "session=abc; HttpOnly; SameSite=Lax; Path=/")
        else:
            self.send_header("x-powered-by", "PHP/5.2.4")
            self.send_header("set-cookie", "session=abc; Path=/")
            if origin:
                self.send_header("access-control-allow-origin", origin)
                self.send_header("access-control-allow-credentials", "true")
        encoded = body.encode()
        self.send_header("content-length", str(len(encoded)))
        self.end_headers()
        self.wfile.write(encoded)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def serving(*, safe: bool = False) -> Iterator[str]:
    """The app on a free port of 127.0.0.1 for the block; its base URL."""
    handler = type("Handler", (_Handler,), {"safe": safe, "database": _database()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()
