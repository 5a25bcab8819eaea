"""The pipelines' background work: runs whose worker stopped answering (every few seconds) and
artifacts past their retention (daily)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from pavedroad.pipelines import artifacts, queue
from pavedroad.pipelines.notifications import notify_run_finished

if TYPE_CHECKING:
    from pavedroad.runtime import Runtime

log = logging.getLogger(__name__)
RECOVERY_SECONDS = 5
DAILY = 24 * 3600


def recover_expired_runs(runtime: Runtime) -> queue.Recovered:
    """Requeue (once) or fail the runs whose worker's lease ran out."""
    with runtime.db.session() as session:
        recovered = queue.recover_expired_runs(session)
    if recovered.requeued:
        log.warning("pipeline runs of a silent worker requeued", extra={"runs": recovered.requeued})
        from pavedroad.pipelines.worker import wake_workers

        wake_workers(runtime)
    if recovered.failed:
        log.warning("pipeline runs of a silent worker failed", extra={"runs": recovered.failed})
        for run_id in recovered.failed:
            notify_run_finished(runtime, run_id)  # in the background, never blocks
    return recovered


def prune_expired_artifacts(runtime: Runtime) -> int:
    with runtime.db.session() as session:
        removed = artifacts.prune_expired(session, runtime.settings)
    if removed:
        log.info("pipeline artifacts past their retention removed", extra={"count": removed})
    return removed
