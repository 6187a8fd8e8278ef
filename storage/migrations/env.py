"""Alembic environment: runs on the engine the app hands over (or the configured URL)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine, create_engine, text
from sqlmodel import SQLModel

import storage.console_users
import storage.models
import storage.step_tables  # noqa: F401

config = context.config
MIGRATION_LOCK = (
    "SELECT pg_advisory_xact_lock(hashtextextended('xieshang-migrate:' || current_schema(), 0))"
)
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    engine: Engine | None = config.attributes.get("engine")
    if engine is None:
        engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                # Several processes may start at once: one migrates, the others wait for it
                # and then find nothing to do (the lock ends with the transaction).
                connection.execute(text(MIGRATION_LOCK))
            context.run_migrations()
        connection.commit()


run_migrations_online()
