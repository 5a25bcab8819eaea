"""Schema migrations (Alembic), run from code so that the installed package can migrate itself."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from pavedroad.core.db import make_engine

SEARCH_OBJECT_PREFIXES = ("entity_fts", "ix_entities_search_text_trgm")


def text_search_object(name: str | None) -> bool:
    return bool(name) and str(name).startswith(SEARCH_OBJECT_PREFIXES)


SCRIPT_LOCATION = "pavedroad:migrations"


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Leave out of comparisons what the models do not describe: the full-text index objects,
    which are created by hand in the migration because they differ per database."""
    return not (reflected and compare_to is None and text_search_object(name))


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Migrate the database at ``database_url`` (SQLite's folder is created when missing)."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            config = alembic_config(database_url)
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            connection.commit()
    finally:
        engine.dispose()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
