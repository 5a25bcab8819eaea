"""Background work in the server process: periodic jobs on one thread, stopped with the server.

Embedded by default (no broker): a job is a function called every ``interval`` seconds. A job
that fails is logged and tried again at its next turn; it never stops the others.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(slots=True)
class PeriodicJob:
    name: str
    interval: float
    run: Callable[[], object]
    next_at: float = 0.0


class Scheduler:
    """Runs periodic jobs on a daemon thread until :meth:`stop`."""

    def __init__(self, tick: float = 1.0) -> None:
        self._jobs: list[PeriodicJob] = []
        self._tick = tick
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def every(
        self, interval: float, name: str, run: Callable[[], object], *, delay: float = 0.0
    ) -> None:
        self._jobs.append(PeriodicJob(name, interval, run, time.monotonic() + delay))

    def start(self) -> None:
        if self._thread is None and self._jobs:
            self._thread = threading.Thread(target=self._loop, name="pavedroad-jobs", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            now = time.monotonic()
            for job in self._jobs:
                if now >= job.next_at and not self._stop.is_set():
                    self._run(job)
                    job.next_at = time.monotonic() + job.interval
            self._stop.wait(self._tick)

    @staticmethod
    def _run(job: PeriodicJob) -> None:
        started = time.perf_counter()
        try:
            job.run()
        except Exception:
            log.exception("job failed", extra={"job": job.name})
            return
        log.debug(
            "job finished",
            extra={"job": job.name, "seconds": round(time.perf_counter() - started, 3)},
        )
