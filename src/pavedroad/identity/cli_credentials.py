"""The CLI's side of ``pavedroad login``: a one-shot loopback receiver for the token the portal
hands over, and the credentials file that keeps it (mode 0600)."""

from __future__ import annotations

import hmac
import json
import os
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

DONE_PAGE = (
    b"<!doctype html><meta charset=utf-8><title>pavedroad CLI</title>"
    b"<body style='font-family:system-ui;margin:15vh auto;max-width:32rem'>"
    b"<h1>The CLI is signed in.</h1><p>You can close this tab.</p></body>"
)


class LoopbackReceiver:
    """Listens on 127.0.0.1 for one POST of ``state`` and ``token`` to ``/callback``."""

    def __init__(self) -> None:
        self.state = secrets.token_urlsafe(24)
        self._token: str | None = None
        self._received = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = min(int(self.headers.get("content-length") or 0), 8192)
                fields = parse_qs(self.rfile.read(length).decode("utf-8", "replace"))
                state = (fields.get("state") or [""])[0]
                token = (fields.get("token") or [""])[0]
                if self.path != "/callback" or not hmac.compare_digest(state, receiver.state):
                    self.send_error(400, "Not the sign-in this CLI is waiting for")
                    return
                receiver._token = token
                receiver._received.set()
                self.send_response(200)
                self.send_header("content-type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(DONE_PAGE)

            def log_message(self, format: str, *args: object) -> None:
                return  # the request line is nobody's business, and the body holds a secret

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> LoopbackReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def wait(self, timeout: float) -> str | None:
        """The token, or None when nothing arrived in time."""
        self._received.wait(timeout)
        return self._token


def save_credentials(path: Path, server: str, token: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    stored = load_all(path)
    stored[server.rstrip("/")] = token
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(stored, handle, indent=2)
    path.chmod(0o600)


def load_token(path: Path, server: str) -> str | None:
    return load_all(path).get(server.rstrip("/"))


def forget_credentials(path: Path, server: str) -> bool:
    stored = load_all(path)
    if stored.pop(server.rstrip("/"), None) is None:
        return False
    descriptor = os.open(path, os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(stored, handle, indent=2)
    return True


def load_all(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}
