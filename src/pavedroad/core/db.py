"""The database: one engine per process, sessions that the request, command or job commits.

SQLite is the embedded default (WAL, foreign keys on); PostgreSQL is selected by URL. Services
receive a :class:`Session` and never commit; :func:`session_scope` is the boundary that does.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, MetaData, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

CHUNK = 500
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every table; each domain's models subclass it."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _sqlite_setup(cache_kib: int) -> Callable[[sqlite3.Connection, ConnectionPoolEntry], None]:
    def configure(dbapi_connection: sqlite3.Connection, _: ConnectionPoolEntry) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        # Page cache per connection; readers rely on the OS page cache instead, so many
        # concurrent readers do not each hold a large private cache.
        cursor.execute(f"PRAGMA cache_size=-{cache_kib}")
        cursor.execute("PRAGMA temp_store=MEMORY")
        cursor.close()

    return configure


def _begin_immediate(connection: Any) -> None:
    # A deferred SQLite transaction that reads and then writes fails with "database is locked"
    # when another writer got in between; writers take the lock up front and queue instead.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _begin_deferred(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN")


def make_engine(url: str, *, writer: bool = True, echo: bool = False) -> Engine:
    """An engine for ``url``; SQLite's parent folder is created when missing.

    On SQLite a ``writer`` engine begins every transaction with ``BEGIN IMMEDIATE``; a reader
    engine uses plain ``BEGIN`` so that reads never wait for a long ingest (WAL snapshots).
    """
    if url.startswith("sqlite"):
        database = url.split("///", 1)[1] if "///" in url else ""
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False, "isolation_level": None},
            pool_size=4 if writer else 8,
            max_overflow=4 if writer else 12,
        )
        event.listen(engine, "connect", _sqlite_setup(16384 if writer else 4096))
        event.listen(engine, "begin", _begin_immediate if writer else _begin_deferred)
        return engine
    if writer:
        return create_engine(url, echo=echo, pool_size=5, max_overflow=10, pool_pre_ping=True)
    # Readers run in autocommit: a read is then one round trip instead of three (BEGIN, the
    # query, COMMIT). Each statement sees committed data; a change commits its catalog
    # generation with it, so cached answers never outlive the data they came from.
    # No pre-ping on readers: it would double the round trips of every read. A connection the
    # server dropped fails one read, is discarded, and the next read gets a fresh one.
    # psycopg prepares a statement after five runs, and PostgreSQL then soon switches it to a
    # generic plan that ignores the filter's values: a catalog page filtered on a common value
    # went from 15 ms to 90 ms from its eleventh request on. Readers plan every statement for
    # its own values instead (planning costs well under a millisecond here).
    return create_engine(
        url,
        echo=echo,
        pool_size=16,
        max_overflow=0,
        pool_recycle=600,
        isolation_level="AUTOCOMMIT",
        connect_args={"options": "-c plan_cache_mode=force_custom_plan"},
    )


class Database:
    """The process's connection to its database: one engine for writers, one for readers."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine = make_engine(url, writer=True, echo=echo)
        self.read_engine = make_engine(url, writer=False, echo=echo)
        self.session_factory = make_session_factory(self.engine)
        self.read_session_factory = make_session_factory(self.read_engine)

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def session(self) -> AbstractContextManager[Session]:
        """A unit of work that may write; committed at the end of the block."""
        return session_scope(self.session_factory)

    def read_session(self) -> AbstractContextManager[Session]:
        """A unit of work that only reads; never blocks on, or blocks, a writer."""
        return session_scope(self.read_session_factory)

    def dispose(self) -> None:
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A unit of work: committed when the block ends normally, rolled back otherwise."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def is_postgres(session_or_engine: Session | Engine) -> bool:
    bind = (
        session_or_engine.get_bind()
        if isinstance(session_or_engine, Session)
        else session_or_engine
    )
    return bind.dialect.name == "postgresql"


def bulk_insert(
    session: Session, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """Insert many rows at once: COPY on PostgreSQL, executemany on SQLite.

    The hot path of catalog ingestion writes millions of search rows; going under the ORM here
    is what keeps 100,000 entities inside a minute.
    """
    connection = session.connection()
    raw: Any = connection.connection.driver_connection
    column_list = ", ".join(columns)
    if is_postgres(session):
        with (
            raw.cursor() as cursor,
            cursor.copy(f"COPY {table} ({column_list}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        return
    placeholders = ", ".join("?" for _ in columns)
    cursor = raw.cursor()
    try:
        cursor.executemany(f"INSERT INTO {table} ({column_list}) VALUES ({placeholders})", rows)
    finally:
        cursor.close()


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    """``items`` in pieces small enough for one ``IN (...)`` list or one batch of rows."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def allocate_ids(session: Session, table: str, count: int) -> list[int]:
    """``count`` new primary keys for ``table``, so that bulk inserts need no RETURNING.

    PostgreSQL takes them from the table's sequence; on SQLite the writer holds the database's
    write lock (``BEGIN IMMEDIATE``) for the whole transaction, so the next ids are its own.
    """
    if count == 0:
        return []
    if is_postgres(session):
        sequence = session.scalar(text(f"SELECT pg_get_serial_sequence('{table}', 'id')"))
        return list(
            session.scalars(
                text("SELECT nextval(:sequence) FROM generate_series(1, :count)"),
                {"sequence": sequence, "count": count},
            )
        )
    start = session.scalar(text(f"SELECT coalesce(max(id), 0) FROM {table}")) or 0
    return list(range(start + 1, start + count + 1))


def ping(session: Session) -> None:
    session.execute(text("SELECT 1"))


def upsert(
    session: Session,
    table: Any,
    values: dict[str, Any],
    *,
    keys: Sequence[str],
    update: Sequence[str] = (),
) -> None:
    """Insert a row, or on a clash of ``keys`` update the ``update`` columns (or do nothing).

    One statement, so two requests writing the same row at once cannot both insert it.
    """
    dialect_insert = postgresql.insert if is_postgres(session) else sqlite.insert
    statement = dialect_insert(table).values(**values)
    if update:
        statement = statement.on_conflict_do_update(
            index_elements=list(keys), set_={column: values[column] for column in update}
        )
    else:
        statement = statement.on_conflict_do_nothing(index_elements=list(keys))
    session.execute(statement)
