"""The checks that need no metrics provider: the service's health endpoint, and the log file
the process target writes the service's output to (``target_state["log_file"]``)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx

HEALTH_TIMEOUT = 2.0
_LEVEL = re.compile(r"\b(CRITICAL|FATAL)\b")


def is_critical(line: str) -> bool:
    """A line at level CRITICAL or FATAL, as text (``CRITICAL db gone``, ``[FATAL]``) or JSON
    (``{"level": "critical"}``, ``"levelname"`` or ``"severity"`` too)."""
    stripped = line.strip()
    if stripped.startswith("{"):
        try:
            record = json.loads(stripped)
        except ValueError:
            record = None
        if isinstance(record, dict):
            for key in ("level", "levelname", "severity"):
                value = record.get(key)
                if isinstance(value, str) and value.lower() in {"critical", "fatal"}:
                    return True
            return False
    return _LEVEL.search(line) is not None


class HealthProbe:
    """Whether the health URL answers 2xx, and for how long it has not."""

    def __init__(self, url: str | None, client: httpx.Client) -> None:
        self.url = url
        self.client = client
        self.failing_since: float | None = None
        self.last_error = ""

    def failing_seconds(self, now: float) -> float | None:
        if self.url is None:
            return None
        try:
            response = self.client.get(self.url, timeout=HEALTH_TIMEOUT)
            healthy = 200 <= response.status_code < 300
            self.last_error = "" if healthy else f"HTTP {response.status_code}"
        except httpx.HTTPError as error:
            healthy = False
            self.last_error = f"{type(error).__name__}: {error}"
        if healthy:
            self.failing_since = None
            return 0.0
        if self.failing_since is None:
            self.failing_since = now
        return now - self.failing_since


class CriticalLogs:
    """Critical lines the service wrote since the analysis began (read incrementally)."""

    def __init__(self, path: str | None) -> None:
        self.path = Path(path) if path else None
        self.offset = 0
        self.lines: list[str] = []

    def count(self) -> int | None:
        if self.path is None:
            return None
        try:
            with self.path.open("rb") as handle:
                handle.seek(self.offset)
                chunk = handle.read()
        except FileNotFoundError:
            return len(self.lines)
        complete = chunk[: chunk.rfind(b"\n") + 1]
        self.offset += len(complete)
        for line in complete.decode("utf-8", "replace").splitlines():
            if is_critical(line):
                self.lines.append(line.strip()[:500])
        return len(self.lines)
