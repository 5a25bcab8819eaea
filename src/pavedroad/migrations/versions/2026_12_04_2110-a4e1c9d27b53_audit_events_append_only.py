"""audit events append-only

Revision ID: a4e1c9d27b53
Revises: 752117d01706
Create Date: 2026-12-04 21:10:00.000000

Database triggers make the audit log append-only below the application: no UPDATE of
audit_events ever; DELETE only by retention. On PostgreSQL retention declares itself with
``SET LOCAL pavedroad.audit_retention = 'on'`` and may delete rows at least a day old; on
SQLite any delete of a row younger than a day is refused (retention keeps at least a day).
``at`` is stored in SQLite as UTC text ("2026-12-04 20:42:02.979946"), which ``datetime()``
reads as UTC, like ``datetime('now')``.

TRUNCATE (statement level) is not refused: it needs the table owner's privilege anyway. A later
migration that rebuilds audit_events on SQLite (batch mode) drops these triggers and must
create them again.
"""

from __future__ import annotations

from alembic import op

revision = "a4e1c9d27b53"
down_revision = "752117d01706"
branch_labels = None
depends_on = None

POSTGRES_UPGRADE = (
    """
    CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' THEN
            RAISE EXCEPTION 'audit_events is append-only: an audit event cannot be changed';
        END IF;
        IF coalesce(current_setting('pavedroad.audit_retention', true), '') <> 'on' THEN
            RAISE EXCEPTION 'audit_events is append-only: events are deleted only by retention'
                USING HINT = 'pavedroad audit prune applies the configured retention';
        END IF;
        IF OLD.at > now() - interval '1 day' THEN
            RAISE EXCEPTION 'audit_events: an event younger than a day cannot be deleted';
        END IF;
        RETURN OLD;
    END
    $$
    """,
    """
    CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()
    """,
)
POSTGRES_DOWNGRADE = (
    "DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events",
    "DROP FUNCTION IF EXISTS audit_events_append_only()",
)
SQLITE_UPGRADE = (
    """
    CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
    BEGIN
        SELECT RAISE(ABORT, 'audit_events is append-only: an audit event cannot be changed');
    END
    """,
    """
    CREATE TRIGGER audit_events_no_early_delete BEFORE DELETE ON audit_events
    WHEN datetime(old.at) > datetime('now', '-1 day')
    BEGIN
        SELECT RAISE(ABORT, 'audit_events: an event younger than a day cannot be deleted');
    END
    """,
)
SQLITE_DOWNGRADE = (
    "DROP TRIGGER IF EXISTS audit_events_no_early_delete",
    "DROP TRIGGER IF EXISTS audit_events_no_update",
)


def _is_postgres() -> bool:
    return bool(op.get_bind().dialect.name == "postgresql")


def upgrade() -> None:
    for statement in POSTGRES_UPGRADE if _is_postgres() else SQLITE_UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in POSTGRES_DOWNGRADE if _is_postgres() else SQLITE_DOWNGRADE:
        op.execute(statement)
