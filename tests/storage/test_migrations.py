"""The schema comes from Alembic and matches the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

import storage.console_users
import storage.models
import storage.step_tables  # noqa: F401  (registers the tables of the seven steps)
from storage.engine import alembic_config, make_engine, upgrade_database


def test_migrations_build_exactly_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        upgrade_database(engine)
        upgrade_database(engine)  # a second start changes nothing
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, SQLModel.metadata)
    finally:
        engine.dispose()

    assert differences == []


def test_the_migrations_form_one_line(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    heads = ScriptDirectory.from_config(alembic_config(engine)).get_heads()
    engine.dispose()

    assert len(heads) == 1
