"""Pipeline workers: a few slots, each carrying out one claimed run at a time, a heartbeat
that renews their leases, and a wake-up so a run started in this process is claimed at once
(runs started elsewhere are seen within half a second).

The embedded server runs one (``pipelines.workers_in_server`` slots); ``pavedroad worker``
runs more, any number of processes against the same PostgreSQL database.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
import weakref
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from pavedroad.pipelines import queue
from pavedroad.pipelines.engine import RunControl, execute_run

if TYPE_CHECKING:
    from pavedroad.runtime import Runtime

log = logging.getLogger(__name__)
POLL_SECONDS = 0.5
_WORKERS: weakref.WeakSet[PipelineWorker] = weakref.WeakSet()
_WORKERS_LOCK = threading.Lock()


def wake_workers(runtime: Runtime) -> None:
    """Tell this process's workers on the same database that a run is waiting."""
    with _WORKERS_LOCK:
        workers = list(_WORKERS)
    for worker in workers:
        if worker.runtime.db.url == runtime.db.url:
            worker.wake()


class PipelineWorker:
    """Claims queued runs while it has a free slot and carries them out."""

    def __init__(
        self, runtime: Runtime, slots: int, *, name: str | None = None, only: str | None = None
    ) -> None:
        self.runtime = runtime
        self.slots = max(1, slots)
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.only = only  # claim this run and no other (``pipeline run --wait``)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._beat_stop = threading.Event()  # set once no run is left to renew
        self._lock = threading.Lock()
        self._running: dict[str, RunControl] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._threads: list[threading.Thread] = []
        self.finished: list[tuple[str, str]] = []  # (run id, status), for ``--wait`` and tests

    @property
    def running(self) -> list[str]:
        with self._lock:
            return list(self._running)

    def start(self) -> None:
        if self._threads:
            return
        self._pool = ThreadPoolExecutor(self.slots, thread_name_prefix="pipeline-run")
        self._threads = [
            threading.Thread(target=self._claim_loop, name="pipeline-claims", daemon=True),
            threading.Thread(target=self._heartbeat_loop, name="pipeline-leases", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        with _WORKERS_LOCK:
            _WORKERS.add(self)
        log.info("pipeline worker started", extra={"worker": self.name, "slots": self.slots})

    def wake(self) -> None:
        self._wake.set()

    def stop(self, grace_seconds: float = 10.0) -> None:
        """Claim nothing more; let the runs in hand finish within ``grace_seconds``, then
        release the others (their steps are killed, the runs go back to the queue)."""
        with _WORKERS_LOCK:
            _WORKERS.discard(self)
        self._stop.set()
        self._wake.set()
        for thread in self._threads[:1]:
            thread.join(5)
        if self._pool is not None:
            self._pool.shutdown(wait=False)
            self._wait_for_runs(grace_seconds)
            with self._lock:
                for control in self._running.values():
                    control.release.set()
            self._wait_for_runs(30.0)
            self._pool.shutdown(wait=True)
        self._beat_stop.set()
        for thread in self._threads[1:]:
            thread.join(5)
        self._threads = []
        log.info("pipeline worker stopped", extra={"worker": self.name})

    def _wait_for_runs(self, seconds: float) -> None:
        until = time.monotonic() + seconds
        while self.running and time.monotonic() < until:
            time.sleep(0.05)

    def _claim_loop(self) -> None:
        while not self._stop.is_set():
            claimed = None
            if len(self.running) < self.slots:
                try:
                    with self.runtime.db.session() as session:
                        claimed = queue.claim_next(
                            session, self.name, self.runtime.settings, run_id=self.only
                        )
                except Exception:
                    log.warning("could not claim a pipeline run", exc_info=True)
            if claimed is not None and self._pool is not None:
                control = RunControl()
                with self._lock:
                    self._running[claimed] = control
                self._pool.submit(self._execute, claimed, control)
                continue  # another slot may be free: claim again at once
            self._wake.wait(POLL_SECONDS)
            self._wake.clear()

    def _execute(self, run_id: str, control: RunControl) -> None:
        try:
            status = execute_run(self.runtime, run_id, worker=self.name, control=control)
        except Exception:
            log.exception("pipeline run failed in its worker", extra={"run": run_id})
            status = "error"
        finally:
            with self._lock:
                self._running.pop(run_id, None)
        self.finished.append((run_id, status))
        self._wake.set()

    def _heartbeat_loop(self) -> None:
        lease = self.runtime.settings.pipelines.lease_seconds
        renewed_at = time.monotonic()
        while not self._beat_stop.wait(lease / 3):
            with self._lock:
                held = dict(self._running)
            if not held:
                renewed_at = time.monotonic()
                continue
            try:
                with self.runtime.db.session() as session:
                    kept = queue.renew_leases(session, self.name, list(held), self.runtime.settings)
            except Exception:
                log.warning("could not renew the pipeline leases", exc_info=True)
                if time.monotonic() - renewed_at > lease:
                    # Unrenewed this long, the leases have run out and another worker may
                    # have the runs by now: stop rather than run them twice.
                    kept = set()
                else:
                    continue
            renewed_at = time.monotonic()
            for run_id, control in held.items():
                if run_id not in kept:
                    log.warning("lease lost", extra={"run": run_id, "worker": self.name})
                    control.lost.set()
