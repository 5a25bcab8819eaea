"""Stars and recent visits when the same person opens the same page twice at once."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from pavedroad.catalog import personal
from pavedroad.catalog.models import EntityVisit
from pavedroad.runtime import Runtime

VIEWER = "user:default/esi.mensah"
PAGE = "component:default/order-service"


def test_two_visits_at_once_keep_one_row_and_neither_fails(runtime: Runtime) -> None:
    errors: list[BaseException] = []
    with runtime.db.session_factory() as first:
        personal.record_visit(first, VIEWER, PAGE)  # written, not yet committed

        def second_visit() -> None:
            try:
                with runtime.db.session_factory() as second:
                    personal.record_visit(second, VIEWER, PAGE)  # waits for the first
                    second.commit()
            except BaseException as error:
                errors.append(error)

        worker = threading.Thread(target=second_visit)
        worker.start()
        worker.join(0.5)
        first.commit()
    worker.join(30)
    assert errors == []
    with runtime.db.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(EntityVisit)) == 1
        assert personal.recent(session, VIEWER) == [PAGE]
