"""Scheduled work: locations are read again when their turn comes, by a background thread."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from pavedroad.catalog import jobs, service
from pavedroad.catalog.models import Entity
from pavedroad.config import Settings
from pavedroad.core.actors import Actor
from pavedroad.core.jobs import Scheduler
from pavedroad.runtime import Runtime, build_runtime
from tests.helpers import component, write_entities


def refs(session: Session) -> set[str]:
    return set(session.scalars(select(Entity.ref)))


def test_a_location_is_read_again_only_when_its_turn_has_come(
    runtime: Runtime, settings: Settings, tmp_path: Path
) -> None:
    hourly = build_runtime(
        settings.model_copy(
            update={
                "catalog": settings.catalog.model_copy(update={"refresh_interval_seconds": 3600})
            }
        ),
        db=runtime.db,
    )
    path = write_entities(tmp_path / "c.yaml", component("a"))
    with hourly.db.session() as session:
        [registered] = service.register_locations(
            session, hourly.catalog, [("file", str(path))], actor=Actor("user:default/t")
        )
    write_entities(path, component("a"), component("b"))
    assert jobs.refresh_due_locations(hourly) == 0  # not due for an hour
    with hourly.db.session() as session:
        service.touch_location(session, registered.location.id)
    assert jobs.refresh_due_locations(hourly) == 1
    with hourly.db.read_session() as session:
        assert refs(session) == {"component:default/a", "component:default/b"}


def test_the_scheduler_runs_jobs_repeatedly_and_survives_a_failing_one() -> None:
    runs: list[str] = []
    ran_twice = threading.Event()

    def failing() -> None:
        runs.append("failing")
        raise RuntimeError("boom")

    def counting() -> None:
        runs.append("counting")
        if runs.count("counting") >= 2:
            ran_twice.set()

    scheduler = Scheduler(tick=0.01)
    scheduler.every(0.02, "failing", failing)
    scheduler.every(0.02, "counting", counting)
    scheduler.start()
    try:
        assert ran_twice.wait(5)
    finally:
        scheduler.stop()
    assert runs.count("failing") >= 1
    stopped_at = len(runs)
    time.sleep(0.1)
    assert len(runs) == stopped_at
