"""The run queue in the database: claiming the next run under a lease, renewing and releasing
leases, and recovering runs whose worker stopped answering.

A claim is one short transaction. On PostgreSQL the candidate rows are locked with
``FOR UPDATE SKIP LOCKED`` (two workers never take the same run) and claims are serialised by
a transaction-level advisory lock, so the concurrency limits hold exactly across processes; on
SQLite the writer's ``BEGIN IMMEDIATE`` serialises them. A worker renews the leases of its runs
every ``lease_seconds / 3``; a run whose lease ran out is put back in the queue once (the steps
that finished keep their results and are not run again) and failed with the reason after that.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from pavedroad.config import Settings
from pavedroad.core.clock import as_utc
from pavedroad.core.db import is_postgres
from pavedroad.pipelines.models import PipelineLogChunk, PipelineRun, PipelineStep

FINISHED_RUN = ("succeeded", "failed", "cancelled", "rejected")
FINISHED_STEP = ("succeeded", "failed", "skipped", "cancelled")
MAX_ATTEMPTS = 2  # a run whose worker dies is tried once more, then failed
CLAIM_LOCK = 0x70697065  # "pipe": the advisory lock that serialises claims on PostgreSQL
CANDIDATES = 100


@dataclass(frozen=True, slots=True)
class Recovered:
    requeued: list[str]
    failed: list[str]


def _lease(settings: Settings, now: datetime) -> datetime:
    return now + timedelta(seconds=settings.pipelines.lease_seconds)


def claim_next(
    session: Session, worker: str, settings: Settings, *, run_id: str | None = None
) -> str | None:
    """Claim the oldest queued run that the limits allow (``run_id``: only that one) for
    ``worker``; its id, or None. The caller commits at once."""
    if is_postgres(session):
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CLAIM_LOCK})
    limits = settings.pipelines
    running = dict(
        session.execute(
            select(PipelineRun.repository, func.count())
            .where(PipelineRun.status == "running")
            .group_by(PipelineRun.repository)
        ).all()
    )
    if sum(running.values()) >= limits.max_concurrent_runs:
        return None
    candidates = (
        select(PipelineRun.id, PipelineRun.repository)
        .where(PipelineRun.status == "queued")
        .order_by(PipelineRun.created_at, PipelineRun.id)
        .limit(CANDIDATES)
        .with_for_update(skip_locked=True)
    )
    saturated = [repo for repo, count in running.items() if count >= limits.max_runs_per_repository]
    if saturated:  # a busy repository's backlog must not hide the other repositories' runs
        candidates = candidates.where(PipelineRun.repository.not_in(saturated))
    if run_id is not None:
        candidates = candidates.where(PipelineRun.id == run_id)
    for candidate, repository in session.execute(candidates).all():
        if running.get(repository, 0) >= limits.max_runs_per_repository:
            continue
        now = datetime.now(UTC)
        claimed = session.execute(
            update(PipelineRun)
            .where(PipelineRun.id == candidate, PipelineRun.status == "queued")
            .values(
                status="running",
                claimed_by=worker,
                lease_expires_at=_lease(settings, now),
                started_at=func.coalesce(PipelineRun.started_at, now),
            )
        ).rowcount  # type: ignore[attr-defined]
        if claimed:
            return str(candidate)
    return None


def renew_leases(
    session: Session, worker: str, run_ids: Sequence[str], settings: Settings
) -> set[str]:
    """Extend the leases ``worker`` holds; the ids it still holds (a run missing from the
    answer was taken from it: recovered after a long silence, or finished elsewhere)."""
    if not run_ids:
        return set()
    session.execute(
        update(PipelineRun)
        .where(
            PipelineRun.id.in_(run_ids),
            PipelineRun.claimed_by == worker,
            PipelineRun.status == "running",
        )
        .values(lease_expires_at=_lease(settings, datetime.now(UTC)))
    )
    held = session.scalars(
        select(PipelineRun.id).where(
            PipelineRun.id.in_(run_ids),
            PipelineRun.claimed_by == worker,
            PipelineRun.status == "running",
        )
    )
    return set(held)


def _reset_unfinished_steps(session: Session, run_id: str, note: str) -> None:
    unfinished = session.scalars(
        select(PipelineStep).where(
            PipelineStep.run_id == run_id, PipelineStep.status.not_in(FINISHED_STEP)
        )
    ).all()
    now = datetime.now(UTC)
    for step in unfinished:
        if step.status == "running":
            session.add(PipelineLogChunk(step_id=step.id, at=now, text=note + "\n"))
        step.status = "pending"
        step.log_bytes = 0
        step.started_at = None


def release(session: Session, run_id: str, worker: str) -> bool:
    """Put a run ``worker`` holds back in the queue (its worker is shutting down); the
    finished steps are kept. False when the run is no longer the worker's."""
    run = session.get(PipelineRun, run_id, with_for_update=True)
    if run is None or run.claimed_by != worker or run.status != "running":
        return False
    run.status = "queued"
    run.claimed_by = None
    run.lease_expires_at = None
    _reset_unfinished_steps(
        session, run_id, f"--- worker {worker} shut down; the step goes back to the queue ---"
    )
    return True


def recover_expired_runs(session: Session, *, now: datetime | None = None) -> Recovered:
    """Runs whose worker's lease ran out: back to the queue (attempt + 1) the first time,
    failed with the reason after that."""
    now = now or datetime.now(UTC)
    expired = session.scalars(
        select(PipelineRun)
        .where(PipelineRun.status == "running", PipelineRun.lease_expires_at < now)
        .order_by(PipelineRun.created_at)
        .with_for_update(skip_locked=True)
    ).all()
    requeued, failed = [], []
    for run in expired:
        since = as_utc(run.lease_expires_at or now).strftime("%Y-%m-%d %H:%M:%S UTC")
        reason = f"worker {run.claimed_by} stopped answering at {since}"
        if run.attempt < MAX_ATTEMPTS:
            run.attempt += 1
            run.status = "queued"
            run.claimed_by = None
            run.lease_expires_at = None
            _reset_unfinished_steps(
                session, run.id, f"--- {reason}; the step runs again (attempt {run.attempt}) ---"
            )
            requeued.append(run.id)
            continue
        run.status = "failed"
        run.finished_at = now
        run.lease_expires_at = None
        run.error = f"{reason}, on attempt {run.attempt} of {MAX_ATTEMPTS}; the run was failed"
        session.execute(
            update(PipelineStep)
            .where(PipelineStep.run_id == run.id, PipelineStep.status.not_in(FINISHED_STEP))
            .values(status="cancelled", summary="not finished: its worker stopped", finished_at=now)
        )
        failed.append(run.id)
    return Recovered(requeued, failed)


def queue_depth(session: Session) -> int:
    return session.scalar(select(func.count()).where(PipelineRun.status == "queued")) or 0
