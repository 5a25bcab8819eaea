"""Retention, and the append-only guarantee the database itself keeps."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

import pavedroad
from pavedroad.audit.jobs import prune_expired_events
from pavedroad.audit.models import AuditEvent
from pavedroad.audit.retention import prune_audit_log
from pavedroad.core import migrations
from pavedroad.core.db import is_postgres
from pavedroad.core.errors import InputError
from pavedroad.runtime import Runtime
from tests.audit.conftest import dated_event, deployment

SOURCE = Path(pavedroad.__file__).parent
ROW_CHANGES = re.compile(
    r"\b(update|delete)\(\s*AuditEvent\b"
    r"|AuditEvent\.__table__\.(update|delete)\b"
    r"|\bUPDATE\s+audit_events\b"
    r"|\bDELETE\s+FROM\s+audit_events\b",
    re.IGNORECASE,
)


def events(session: Session) -> list[str]:
    return list(session.scalars(select(AuditEvent.event).order_by(AuditEvent.id)))


class TestAppendOnly:
    def test_an_update_through_sql_is_refused(self, session: Session) -> None:
        deployment(session)
        session.commit()
        with pytest.raises(DBAPIError, match="append-only"):
            session.execute(text("UPDATE audit_events SET actor = 'user:default/mallory'"))
        session.rollback()
        assert session.scalars(select(AuditEvent.actor)).one() == "user:default/ann"

    def test_an_old_row_cannot_be_changed_either(self, session: Session) -> None:
        dated_event(session, timedelta(days=400))
        session.commit()
        with pytest.raises(DBAPIError, match="append-only"):
            session.execute(text("UPDATE audit_events SET details = '{}'"))

    def test_deleting_a_recent_row_is_refused(self, session: Session) -> None:
        deployment(session)
        session.commit()
        with pytest.raises(DBAPIError, match=r"append-only|younger than a day"):
            session.execute(text("DELETE FROM audit_events"))
        session.rollback()
        assert events(session) == ["deployment.trigger"]

    def test_on_postgresql_only_retention_deletes_even_old_rows(
        self, session: Session, database_kind: str
    ) -> None:
        if database_kind != "postgres":
            pytest.skip("SQLite's trigger guards by age only")
        dated_event(session, timedelta(days=400))
        session.commit()
        with pytest.raises(DBAPIError, match="deleted only by retention"):
            session.execute(text("DELETE FROM audit_events"))
        session.rollback()
        prune_audit_log(session, retention_days=90)
        session.commit()
        # SET LOCAL ended with the transaction: the next delete is refused again.
        dated_event(session, timedelta(days=400))
        session.commit()
        with pytest.raises(DBAPIError, match="deleted only by retention"):
            session.execute(text("DELETE FROM audit_events WHERE event = 'catalog.entity.starred'"))

    def test_nothing_in_the_code_changes_or_deletes_audit_rows_except_retention(self) -> None:
        found = {
            str(path.relative_to(SOURCE))
            for path in SOURCE.rglob("*.py")
            if ROW_CHANGES.search(path.read_text(encoding="utf-8"))
        }
        assert found == {"audit/retention.py"}

    def test_the_downgrade_removes_the_triggers(self, tmp_path: Path) -> None:
        url = f"sqlite:///{tmp_path / 'downgraded.db'}"
        migrations.upgrade(url)
        command.downgrade(migrations.alembic_config(url), "752117d01706")
        engine = create_engine(url)
        with engine.begin() as connection:
            triggers = connection.execute(
                text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            ).all()
        engine.dispose()
        assert not [name for (name,) in triggers if name.startswith("audit_events")]


class TestPruneAuditLog:
    def test_deletes_only_rows_older_than_the_retention_and_records_itself(
        self, session: Session
    ) -> None:
        dated_event(session, timedelta(days=120), event="ancient")
        dated_event(session, timedelta(days=91), event="expired")
        dated_event(session, timedelta(days=89), event="kept")
        deployment(session)
        session.commit()
        assert prune_audit_log(session, retention_days=90) == 2
        session.commit()
        assert events(session) == ["kept", "deployment.trigger", "audit.retention.pruned"]
        pruned = session.scalars(
            select(AuditEvent).where(AuditEvent.event == "audit.retention.pruned")
        ).one()
        assert pruned.actor == "system:audit-retention"
        assert pruned.details["deleted"] == 2
        assert pruned.details["retention_days"] == 90
        assert pruned.details["cutoff"].endswith("+00:00")

    def test_the_shortest_retention_is_one_day(self, session: Session) -> None:
        dated_event(session, timedelta(hours=25), event="expired")
        dated_event(session, timedelta(hours=23), event="kept")
        session.commit()
        assert prune_audit_log(session, retention_days=1) == 1
        session.commit()
        assert events(session) == ["kept", "audit.retention.pruned"]
        with pytest.raises(InputError, match="at least 1 day"):
            prune_audit_log(session, retention_days=0)

    def test_nothing_to_prune_is_still_recorded(self, session: Session) -> None:
        deployment(session)
        session.commit()
        assert prune_audit_log(session, retention_days=90) == 0
        session.commit()
        assert events(session) == ["deployment.trigger", "audit.retention.pruned"]

    def test_the_daily_job_applies_the_configured_retention(
        self, runtime: Runtime, session: Session
    ) -> None:
        runtime.settings.audit.retention_days = 30
        dated_event(session, timedelta(days=31))
        dated_event(session, timedelta(days=29))
        session.commit()
        assert prune_expired_events(runtime) == 1
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == 2

    def test_truncate_still_empties_the_table_between_tests(self, session: Session) -> None:
        if not is_postgres(session):
            pytest.skip("SQLite test databases are copies of a template, not truncated")
        # conftest empties PostgreSQL databases with TRUNCATE, which row triggers do not see.
        deployment(session)
        session.commit()
        session.execute(text("TRUNCATE audit_events"))
        session.commit()
        assert events(session) == []
