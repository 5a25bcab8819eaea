"""Alembic environment: the URL comes from the config the caller built (see core.migrations)."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import engine_from_config, pool

import pavedroad.audit.models
import pavedroad.catalog.models
import pavedroad.deploy.models
import pavedroad.identity.models
import pavedroad.pipelines.models
import pavedroad.scaffolder.models
import pavedroad.security.advisories.models
import pavedroad.security.models
import pavedroad.security.sbom.models  # noqa: F401 - each registers its tables on Base.metadata
from pavedroad.core.db import Base
from pavedroad.core.migrations import include_object

config = context.config
OPTIONS: dict[str, Any] = {
    "target_metadata": Base.metadata,
    "render_as_batch": True,
    "include_object": include_object,
}


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True, **OPTIONS)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        context.configure(connection=connectable, **OPTIONS)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = engine_from_config(
        config.get_section(config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with engine.connect() as connection:
        context.configure(connection=connection, **OPTIONS)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
