"""A step's log as it is written: every line masked, kept up to the step's output cap, and
stored in chunks, each in its own short transaction (at most every ~0.3 s), so pages and
``pavedroad pipeline logs -f`` follow it live and a crash loses at most the unflushed tail."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import update

from pavedroad.core.db import Database
from pavedroad.pipelines.models import PipelineLogChunk, PipelineStep

log = logging.getLogger(__name__)
MASK = "***"
FLUSH_SECONDS = 0.3
FLUSH_BYTES = 64 * 1024


def mask_values(values: Iterable[str]) -> list[str]:
    """What to hide: each secret value, and each line of a value that spans lines; longest
    first, so that a value containing another is hidden whole."""
    found = set()
    for value in values:
        if value:
            found.add(value)
            found.update(line for line in value.splitlines() if len(line.strip()) >= 3)
    return sorted(found, key=len, reverse=True)


class StepLog:
    """The log of one step: ``write`` from any thread, ``flush`` from the engine's flusher."""

    def __init__(self, db: Database, step_pk: int, *, cap_bytes: int, secrets: Iterable[str]):
        self.db = db
        self.step_pk = step_pk
        self.cap_bytes = cap_bytes
        self._masks = mask_values(secrets)
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._pending: list[str] = []
        self._pending_bytes = 0
        self._kept = 0  # bytes kept (written or pending)
        self._dropped = 0  # bytes past the cap
        self._last_flush = time.monotonic()

    def add_secrets(self, values: Iterable[str]) -> None:
        with self._lock:
            self._masks = mask_values([*self._masks, *values])

    def mask(self, text: str) -> str:
        for value in self._masks:
            text = text.replace(value, MASK)
        return text

    def write(self, line: str) -> None:
        """Keep ``line`` (masked) unless the cap is reached; the first line past the cap is
        replaced by a note saying where the output was cut."""
        # NUL cannot be stored in a PostgreSQL text column: binary output shows as U+FFFD.
        masked = self.mask(line).replace("\x00", "\ufffd") + "\n"
        size = len(masked.encode("utf-8", errors="replace"))
        with self._lock:
            if self._dropped or self._kept + size > self.cap_bytes:
                if not self._dropped:
                    note = (
                        f"--- output cut at {self._kept} bytes (the cap is "
                        f"{self.cap_bytes} bytes, pipelines.step_output_cap_bytes); "
                        "the step goes on running, its further output is not kept ---\n"
                    )
                    self._pending.append(note)
                    self._pending_bytes += len(note)
                self._dropped += size
                return
            self._pending.append(masked)
            self._pending_bytes += size
            self._kept += size
            due = self._pending_bytes >= FLUSH_BYTES
        if due:
            self.flush_quietly()

    def flush_quietly(self) -> None:
        """Flush from a thread that must go on reading the step's output whatever happens;
        a chunk the database refused is logged and dropped."""
        try:
            self.flush()
        except Exception:
            log.warning("a step's log chunk could not be stored", exc_info=True)

    def flush_if_due(self) -> None:
        if self._pending and time.monotonic() - self._last_flush >= FLUSH_SECONDS:
            self.flush_quietly()

    def flush(self) -> None:
        # Writers only wait for the swap of the buffer, never for the database.
        with self._flush_lock:
            with self._lock:
                if not self._pending:
                    return
                text = "".join(self._pending)
                added = self._pending_bytes
                self._pending, self._pending_bytes = [], 0
                self._last_flush = time.monotonic()
            with self.db.session() as session:
                session.add(PipelineLogChunk(step_id=self.step_pk, at=datetime.now(UTC), text=text))
                session.execute(
                    update(PipelineStep)
                    .where(PipelineStep.id == self.step_pk)
                    .values(log_bytes=PipelineStep.log_bytes + added)
                )

    def close(self) -> None:
        if self._dropped:
            note = f"--- {self._dropped} bytes of output were not kept ---\n"
            with self._lock:
                self._pending.append(note)
                self._pending_bytes += len(note)
        self.flush()

    @property
    def dropped_bytes(self) -> int:
        return self._dropped


class LogFlusher:
    """One thread per engine flushing every open step log at most every ~0.3 s, so a step
    that prints a line and then works quietly still shows the line at once."""

    def __init__(self) -> None:
        self._logs: set[StepLog] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="pipeline-logs")
        self._thread.start()

    def add(self, log: StepLog) -> None:
        with self._lock:
            self._logs.add(log)

    def remove(self, log: StepLog) -> None:
        with self._lock:
            self._logs.discard(log)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _loop(self) -> None:
        while not self._stop.wait(FLUSH_SECONDS / 2):
            with self._lock:
                logs = list(self._logs)
            for step_log in logs:
                step_log.flush_if_due()
