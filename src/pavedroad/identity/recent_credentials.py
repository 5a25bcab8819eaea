"""Tokens and sessions checked in the last few seconds, so a busy client costs no database
read per request for who it is.

A revoked token or an ended session stops working at once in the process that revoked it and
within :data:`TTL_SECONDS` in every other process (other workers, other replicas).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime

from pavedroad.core.clock import as_utc
from pavedroad.identity.schemas import Principal

TTL_SECONDS = 5.0
MAX_ENTRIES = 10_000


class RecentCredentials:
    def __init__(self, ttl: float = TTL_SECONDS, max_entries: int = MAX_ENTRIES) -> None:
        self._ttl = ttl
        self._max = max_entries
        self._entries: OrderedDict[str, tuple[float, Principal]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> Principal | None:
        now = time.monotonic()
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            if found[0] <= now:
                del self._entries[key]
                return None
            return found[1]

    def put(self, key: str, principal: Principal, expires_at: datetime | None = None) -> None:
        """Remember ``principal`` for the TTL, never past the credential's own expiry."""
        lifetime = self._ttl
        if expires_at is not None:
            lifetime = min(lifetime, (as_utc(expires_at) - datetime.now(UTC)).total_seconds())
        if lifetime <= 0:
            return
        with self._lock:
            self._entries[key] = (time.monotonic() + lifetime, principal)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

    def forget(self, matches: Callable[[Principal], bool]) -> None:
        with self._lock:
            for key in [key for key, (_, principal) in self._entries.items() if matches(principal)]:
                del self._entries[key]
