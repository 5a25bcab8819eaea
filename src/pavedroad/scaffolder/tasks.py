"""Template runs as task rows: created (parameters checked first, secrets masked), claimed by
one runner, logged step by step, finished, cancelled, or failed when their runner died."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from pavedroad.audit import service as audit
from pavedroad.core.actors import Actor
from pavedroad.core.errors import InputError, NotFoundError
from pavedroad.scaffolder.models import ScaffolderTask, ScaffolderTaskEvent

MASK = "***"
FINISHED = ("completed", "failed", "cancelled")
# A runner writes a heartbeat every few seconds; silence this long means it is gone.
HEARTBEAT_TIMEOUT = timedelta(seconds=30)
INTERRUPTED = (
    "The server running this task stopped before it finished; nothing after the last step "
    "shown was done. Run the template again."
)


class InvalidParameters(InputError):  # noqa: N818 - reads as what it is: the parameters are invalid
    """The values do not satisfy the template's parameter schema; nothing ran."""

    def __init__(self, problems: Sequence[Any]) -> None:
        listed = "; ".join(f"{p.field}: {p.message}" for p in problems)
        super().__init__(
            f"The template's parameters are not valid, so nothing ran: {listed}",
            problems=[{"field": p.field, "message": p.message} for p in problems],
        )
        self.problems = list(problems)


def masked(values: Mapping[str, Any], secret_fields: set[str]) -> dict[str, Any]:
    return {key: MASK if key in secret_fields else value for key, value in values.items()}


def create_task(
    session: Session,
    *,
    template_ref: str,
    template_version: str,
    parameters: Mapping[str, Any],
    secret_fields: set[str],
    dry_run: bool,
    actor: Actor,
) -> ScaffolderTask:
    task = ScaffolderTask(
        id=str(uuid.uuid4()),
        template_ref=template_ref,
        template_version=template_version,
        status="open",
        dry_run=dry_run,
        parameters=masked(parameters, secret_fields),
        output={},
        created_by=actor.ref,
        created_at=datetime.now(UTC),
    )
    session.add(task)
    session.flush()
    audit.record(
        session,
        actor=actor,
        event="scaffolder.template.run",
        target=template_ref,
        resource_type="scaffolder-template",
        details={"task": task.id, "dry_run": dry_run, "parameters": task.parameters},
    )
    return task


def get_task(session: Session, task_id: str) -> ScaffolderTask:
    task = session.get(ScaffolderTask, task_id)
    if task is None:
        raise NotFoundError(f"There is no task {task_id}")
    return task


def claim(session: Session, task_id: str, runner: str) -> bool:
    """Start an open task for ``runner``; False when someone else has it or it was cancelled."""
    now = datetime.now(UTC)
    claimed = session.execute(
        update(ScaffolderTask)
        .where(ScaffolderTask.id == task_id, ScaffolderTask.status == "open")
        .values(status="processing", claimed_by=runner, started_at=now, heartbeat_at=now)
    ).rowcount  # type: ignore[attr-defined]
    return bool(claimed)


def heartbeat(session: Session, task_ids: Sequence[str]) -> None:
    if task_ids:
        session.execute(
            update(ScaffolderTask)
            .where(ScaffolderTask.id.in_(task_ids), ScaffolderTask.status == "processing")
            .values(heartbeat_at=datetime.now(UTC))
        )


def add_event(
    session: Session,
    task_id: str,
    *,
    kind: str,
    message: str,
    step_id: str | None = None,
    status: str | None = None,
) -> None:
    session.add(
        ScaffolderTaskEvent(
            task_id=task_id,
            at=datetime.now(UTC),
            step_id=step_id,
            kind=kind,
            status=status,
            message=message,
        )
    )


def finish(
    session: Session, task_id: str, *, status: str, output: Mapping[str, Any], error: str | None
) -> None:
    session.execute(
        update(ScaffolderTask)
        .where(ScaffolderTask.id == task_id)
        .values(status=status, output=dict(output), error=error, finished_at=datetime.now(UTC))
    )
    add_event(session, task_id, kind="completion", status=status, message=error or status)


def request_cancel(session: Session, task_id: str, *, actor: Actor) -> ScaffolderTask:
    """Ask a task to stop: an open one stops at once, a running one after its current step."""
    task = get_task(session, task_id)
    if task.status in FINISHED:
        return task
    task.cancel_requested = True
    if task.status == "open":
        finish(session, task_id, status="cancelled", output={}, error="Cancelled before it started")
    audit.record(
        session,
        actor=actor,
        event="scaffolder.task.cancelled",
        target=f"task:{task_id}",
        resource_type="scaffolder-task",
        details={"template": task.template_ref},
    )
    return task


def is_cancel_requested(session: Session, task_id: str) -> bool:
    return bool(
        session.scalar(select(ScaffolderTask.cancel_requested).where(ScaffolderTask.id == task_id))
    )


def fail_abandoned(session: Session) -> list[str]:
    """Fail tasks whose runner stopped: processing with no heartbeat for a while (a restart),
    or open ones nobody claimed within that time. Returns their ids."""
    cutoff = datetime.now(UTC) - HEARTBEAT_TIMEOUT
    abandoned = session.scalars(
        select(ScaffolderTask.id).where(
            or_(
                (ScaffolderTask.status == "processing") & (ScaffolderTask.heartbeat_at < cutoff),
                (ScaffolderTask.status == "open") & (ScaffolderTask.created_at < cutoff),
            )
        )
    ).all()
    for task_id in abandoned:
        finish(session, task_id, status="failed", output={}, error=INTERRUPTED)
    return list(abandoned)


def events_after(session: Session, task_id: str, after: int = 0) -> Sequence[ScaffolderTaskEvent]:
    return session.scalars(
        select(ScaffolderTaskEvent)
        .where(ScaffolderTaskEvent.task_id == task_id, ScaffolderTaskEvent.id > after)
        .order_by(ScaffolderTaskEvent.id)
    ).all()


def list_tasks(
    session: Session,
    *,
    created_by: str | None = None,
    template_ref: str | None = None,
    limit: int = 50,
) -> Sequence[ScaffolderTask]:
    statement = select(ScaffolderTask).order_by(ScaffolderTask.created_at.desc()).limit(limit)
    if created_by is not None:
        statement = statement.where(ScaffolderTask.created_by == created_by)
    if template_ref is not None:
        statement = statement.where(ScaffolderTask.template_ref == template_ref)
    return session.scalars(statement).all()
