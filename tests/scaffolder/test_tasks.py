"""Template runs as rows: secrets masked, claimed once, cancelled, and failed with a reason
when the server running them stopped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pavedroad.audit.models import AuditEvent
from pavedroad.core.actors import Actor
from pavedroad.runtime import Runtime
from pavedroad.scaffolder import tasks
from pavedroad.scaffolder.models import ScaffolderTask

ADA = Actor(ref="user:default/ada")


def new_task(session: Session, **values: object) -> ScaffolderTask:
    return tasks.create_task(
        session,
        template_ref="template:default/python-service",
        template_version="abc",
        parameters={"name": "ledger", "token": "s3cret", **values},
        secret_fields={"token"},
        dry_run=False,
        actor=ADA,
    )


def test_a_task_stores_its_parameters_with_secrets_masked_and_is_audited(
    runtime: Runtime,
) -> None:
    with runtime.db.session() as session:
        task = new_task(session)
        task_id = task.id
    with runtime.db.session() as session:
        stored = tasks.get_task(session, task_id)
        assert stored.parameters == {"name": "ledger", "token": "***"}
        assert stored.status == "open" and stored.created_by == ADA.ref
        [row] = session.scalars(
            select(AuditEvent).where(AuditEvent.event == "scaffolder.template.run")
        ).all()
        assert row.details["task"] == task_id and "s3cret" not in str(row.details)


def test_only_one_runner_claims_a_task(runtime: Runtime) -> None:
    with runtime.db.session() as session:
        task_id = new_task(session).id
    with runtime.db.session() as session:
        assert tasks.claim(session, task_id, "runner-a")
    with runtime.db.session() as session:
        assert not tasks.claim(session, task_id, "runner-b")
        assert tasks.get_task(session, task_id).claimed_by == "runner-a"


def test_cancelling_an_open_task_ends_it_at_once(runtime: Runtime) -> None:
    with runtime.db.session() as session:
        task_id = new_task(session).id
    with runtime.db.session() as session:
        tasks.request_cancel(session, task_id, actor=ADA)
    with runtime.db.session() as session:
        task = tasks.get_task(session, task_id)
        assert task.status == "cancelled" and task.finished_at is not None
        assert not tasks.claim(session, task_id, "late-runner")


def test_cancelling_a_running_task_asks_its_runner_to_stop(runtime: Runtime) -> None:
    with runtime.db.session() as session:
        task_id = new_task(session).id
        tasks.claim(session, task_id, "runner")
    with runtime.db.session() as session:
        tasks.request_cancel(session, task_id, actor=ADA)
    with runtime.db.session() as session:
        assert tasks.get_task(session, task_id).status == "processing"
        assert tasks.is_cancel_requested(session, task_id)


def test_a_task_whose_runner_went_quiet_is_failed_with_the_reason(runtime: Runtime) -> None:
    with runtime.db.session() as session:
        stale, fresh = new_task(session).id, new_task(session).id
        tasks.claim(session, stale, "gone")
        tasks.claim(session, fresh, "alive")
        long_ago = datetime.now(UTC) - timedelta(minutes=5)
        session.execute(
            update(ScaffolderTask).where(ScaffolderTask.id == stale).values(heartbeat_at=long_ago)
        )
    with runtime.db.session() as session:
        assert tasks.fail_abandoned(session) == [stale]
    with runtime.db.session() as session:
        failed = tasks.get_task(session, stale)
        assert failed.status == "failed" and "stopped before it finished" in (failed.error or "")
        assert tasks.get_task(session, fresh).status == "processing"
        [completion] = [e for e in tasks.events_after(session, stale) if e.kind == "completion"]
        assert completion.status == "failed"


def test_events_come_back_in_order_after_a_given_id(runtime: Runtime) -> None:
    with runtime.db.session() as session:
        task_id = new_task(session).id
        for number in range(3):
            tasks.add_event(session, task_id, kind="log", message=f"line {number}", step_id="a")
    with runtime.db.session() as session:
        events = tasks.events_after(session, task_id)
        assert [e.message for e in events] == ["line 0", "line 1", "line 2"]
        later = tasks.events_after(session, task_id, events[0].id)
        assert [e.message for e in later] == ["line 1", "line 2"]
