"""Alembic environment: runs on the engine the app hands over (or the configured URL)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, Engine, create_engine, text
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
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # SQLite changes a column by copying its table (batch mode) and dropping the old
            # one, which fails while other tables' rows point at it and foreign keys are
            # enforced. The switch only works outside a transaction, so it comes first;
            # the keys are checked once the copy is done, and enforced again after.
            _sqlite_foreign_keys(connection, enforced=False)
        try:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=sqlite,
                compare_type=True,
            )
            with context.begin_transaction():
                if connection.dialect.name == "postgresql":
                    # Several processes may start at once: one migrates, the others wait for
                    # it and then find nothing to do (the lock ends with the transaction).
                    connection.execute(text(MIGRATION_LOCK))
                context.run_migrations()
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise RuntimeError(f"migration left rows without their parent: {broken}")
            connection.commit()
        finally:
            if sqlite:
                _sqlite_foreign_keys(connection, enforced=True)


def _sqlite_foreign_keys(connection: Connection, *, enforced: bool) -> None:
    # On the driver's connection, which runs outside any transaction (SQLAlchemy would begin one).
    driver = connection.connection.driver_connection
    assert driver is not None
    driver.execute(f"PRAGMA foreign_keys={'ON' if enforced else 'OFF'}")


run_migrations_online()
