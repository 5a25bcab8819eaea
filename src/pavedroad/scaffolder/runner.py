"""Running template tasks in the background of a server (or in the foreground of the CLI).

Each process has one runner with a few threads, so several tasks run at once without sharing
anything but the database. Secrets live only in the runner's memory for the length of a run.
Every log line is its own short transaction, so pages and the CLI can follow a run live.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pavedroad.core.actors import Actor
from pavedroad.scaffolder import tasks
from pavedroad.scaffolder.hooks import TemplateUser

if TYPE_CHECKING:
    from pavedroad.runtime import Runtime
    from pavedroad.scaffolder.engine import TemplateSource

log = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 5.0
CANCEL_CHECK_SECONDS = 0.5


@dataclass(slots=True)
class Run:
    """What a runner needs to carry out one task; ``secrets`` are never stored."""

    task_id: str
    source: TemplateSource
    values: Mapping[str, Any]
    secrets: Mapping[str, str]
    user: TemplateUser
    actor: Actor
    dry_run: bool = False
    keep_workspace: bool = False


class TaskEvents:
    """The engine's events written to the task's log, each in its own transaction."""

    def __init__(self, runtime: Runtime, task_id: str, secrets: Mapping[str, str]) -> None:
        self.runtime = runtime
        self.task_id = task_id
        self.secret_values = [value for value in secrets.values() if value]

    def log(self, step_id: str | None, message: str) -> None:
        self._add(kind="log", step_id=step_id, message=self.mask(message))

    def step(self, step_id: str, name: str, status: str) -> None:
        self._add(kind="step", step_id=step_id, status=status, message=name)

    def mask(self, message: str) -> str:
        """``message`` with every secret value of the run replaced by ``***``."""
        for value in self.secret_values:
            message = message.replace(value, tasks.MASK)
        return message

    def _add(self, **event: Any) -> None:
        with self.runtime.db.session() as session:
            tasks.add_event(session, self.task_id, **event)


@dataclass
class TaskRunner:
    """A small pool of threads running tasks this process created."""

    runtime: Runtime
    threads: int = 4
    name: str = field(default_factory=lambda: f"{os.getpid()}-{uuid.uuid4().hex[:8]}")
    _pool: ThreadPoolExecutor | None = None
    _running: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _heartbeat: threading.Thread | None = None

    def submit(self, run: Run) -> Future[str]:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="scaffolder")
            self._heartbeat = threading.Thread(target=self._beat, daemon=True)
            self._heartbeat.start()
        return self._pool.submit(self.run, run)

    def run(self, run: Run) -> str:
        """Carry out one task now (in this thread); its final status."""
        with self.runtime.db.session() as session:
            if not tasks.claim(session, run.task_id, self.name):
                return tasks.get_task(session, run.task_id).status
        with self._lock:
            self._running.add(run.task_id)
        try:
            return self._execute(run)
        finally:
            with self._lock:
                self._running.discard(run.task_id)

    def shutdown(self) -> None:
        self._stop.set()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    def _execute(self, run: Run) -> str:
        from pavedroad.scaffolder.engine import run_template

        workspace = self._workspace(run.task_id)
        events = TaskEvents(self.runtime, run.task_id, run.secrets)
        if not run.dry_run:
            self._keep_snapshot(run.source)
        try:
            result = run_template(
                self.runtime,
                run.source,
                run.values,
                workspace=workspace,
                user=run.user,
                actor=run.actor,
                secrets=run.secrets,
                dry_run=run.dry_run,
                task_id=run.task_id,
                events=events,
                is_cancelled=self._cancel_check(run.task_id),
            )
            status: str = result.status
            output: Mapping[str, Any] = result.output
            problem: str | None = result.error
        except Exception as error:  # a task records any failure and goes on
            log.exception("template task failed", extra={"task": run.task_id})
            status, output, problem = "failed", {}, f"{type(error).__name__}: {error}"
        shown_error = events.mask(problem) if problem else None
        with self.runtime.db.session() as session:
            tasks.finish(session, run.task_id, status=status, output=output, error=shown_error)
        if not run.keep_workspace:
            shutil.rmtree(workspace, ignore_errors=True)
        return status

    def _keep_snapshot(self, source: TemplateSource) -> None:
        """Keep the template's files at this version, the base of later upgrades of what the
        run generates; a failure only costs those upgrades, so the run goes on."""
        from pavedroad.scaffolder.upgrades.snapshots import keep_snapshot

        try:
            if not keep_snapshot(self.runtime.settings, source):
                log.warning("template changed while it was read; no snapshot kept")
        except OSError:
            log.warning("could not keep a snapshot of the template", exc_info=True)

    def _workspace(self, task_id: str) -> Path:
        path = self.runtime.settings.data_dir / "scaffolder" / "tasks" / task_id
        path.mkdir(parents=True, exist_ok=True)
        return path

    def _cancel_check(self, task_id: str) -> Callable[[], bool]:
        """Whether the task was asked to stop; read from the database at most twice a second."""
        checked = {"at": 0.0, "cancelled": False}

        def is_cancelled() -> bool:
            now = time.monotonic()
            if not checked["cancelled"] and now - checked["at"] >= CANCEL_CHECK_SECONDS:
                with self.runtime.db.read_session() as session:
                    checked["cancelled"] = tasks.is_cancel_requested(session, task_id)
                checked["at"] = now
            return bool(checked["cancelled"])

        return is_cancelled

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT_SECONDS):
            with self._lock:
                running = sorted(self._running)
            if running:
                try:
                    with self.runtime.db.session() as session:
                        tasks.heartbeat(session, running)
                except Exception:
                    log.warning("could not record the scaffolder heartbeat", exc_info=True)
