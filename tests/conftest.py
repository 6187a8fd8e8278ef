"""Fixtures: a bot on SQLite and on PostgreSQL, and a group chat to talk to it."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from bot.core.clock import ManualClock
from bot.core.settings import Settings
from bot.runtime.app import App
from minutes import E5Embedder
from storage.engine import make_engine, upgrade_database
from tests.support import Group, RecordingSender

PG_ENV = "XIESHANG_TEST_DATABASE_URL"
START = datetime(2026, 11, 24, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def postgres_schema_url(base: str) -> Iterator[str]:
    """A fresh schema on the test database, so tests never see each other's rows."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    """The database a test runs on: every test that takes a database runs on both."""
    if request.param == "postgres" and not os.environ.get(PG_ENV):
        pytest.skip(f"{PG_ENV} is not set, so the PostgreSQL variant is skipped")
    return str(request.param)


@pytest.fixture
def database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """An empty database, on SQLite and on PostgreSQL (for tests of migrations and of how
    the bot starts on a new database)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'xieshang.db'}"
        return
    yield from postgres_schema_url(os.environ[PG_ENV])


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database at the newest schema, made once: a copy is a new test's database,
    where running every migration again cost most of a short test's time."""
    path = tmp_path_factory.mktemp("template") / "xieshang.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade_database(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def _postgres_template() -> Iterator[str]:
    """A PostgreSQL database at the newest schema, made once per test process, that each
    test's database is created from (CREATE DATABASE … TEMPLATE copies it in a moment)."""
    base = os.environ.get(PG_ENV)
    if not base:
        yield ""
        return
    name = f"xieshang_template_{uuid.uuid4().hex[:12]}"
    with _postgres_admin(base) as admin:
        admin.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine = make_engine(_postgres_database(base, name))
    upgrade_database(engine)
    engine.dispose()
    try:
        yield name
    finally:
        with _postgres_admin(base) as admin:
            admin.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def _postgres_admin(base: str, isolation_level: str = "AUTOCOMMIT") -> Iterator[sa.Connection]:
    """A connection to the test database, by default outside any transaction (CREATE DATABASE
    needs it)."""
    engine = sa.create_engine(
        base.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level=isolation_level
    )
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def _postgres_database(base: str, name: str) -> str:
    """The URL of another database on the server of `base`."""
    return make_url(base).set(database=name).render_as_string(hide_password=False)


@pytest.fixture
def ready_database_url(
    backend: str,
    tmp_path: Path,
    _sqlite_template: Path,
    _postgres_ready: _ReadyPostgres,
) -> Iterator[str]:
    """A database already at the newest schema, on SQLite and on PostgreSQL, for tests of
    what the bot does rather than of how its schema is made."""
    if backend == "sqlite":
        path = tmp_path / "xieshang.db"
        shutil.copyfile(_sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    yield _postgres_ready.emptied()


class _ReadyPostgres:
    """One database per test process, copied from the template and emptied before each test:
    making a database for every test cost a third of a second each. A test that changed the
    schema (a trigger that refuses rows, a renamed table) leaves it to be copied afresh."""

    def __init__(self, base: str, template: str) -> None:
        self.base = base
        self.template = template
        self.url = ""
        self.schema: list[tuple[str, ...]] = []
        self.superuser = False

    def emptied(self) -> str:
        """The database's URL, with every row but the schema's version gone, every sequence
        back at its start and every other connection to it ended (as DROP DATABASE … WITH
        (FORCE) would end them)."""
        if self.url:
            with _postgres_admin(self.url, "READ COMMITTED") as connection:
                if _schema(connection) == self.schema:
                    tables = [name for kind, name in self.schema if kind == "table"]
                    _empty(connection, tables, superuser=self.superuser)
                    return self.url
            self.drop()
        self.url = _postgres_database(self.base, f"t_{uuid.uuid4().hex[:12]}")
        with _postgres_admin(self.base) as admin:
            admin.exec_driver_sql(
                f'CREATE DATABASE "{make_url(self.url).database}" TEMPLATE "{self.template}"'
            )
        with _postgres_admin(self.url, "READ COMMITTED") as connection:
            self.schema = _schema(connection)
            self.superuser = bool(
                connection.exec_driver_sql(
                    "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
                ).scalar()
            )
        return self.url

    def drop(self) -> None:
        if self.url:
            with _postgres_admin(self.base) as admin:
                admin.exec_driver_sql(
                    f'DROP DATABASE IF EXISTS "{make_url(self.url).database}" WITH (FORCE)'
                )
            self.url = ""


@pytest.fixture(scope="session")
def _postgres_ready(_postgres_template: str) -> Iterator[_ReadyPostgres]:
    ready = _ReadyPostgres(os.environ.get(PG_ENV, ""), _postgres_template)
    try:
        yield ready
    finally:
        ready.drop()


def _schema(connection: sa.Connection) -> list[tuple[str, ...]]:
    """The database's tables, triggers and functions, to tell whether a test changed them."""
    return [
        tuple(row)
        for row in connection.exec_driver_sql(
            "SELECT 'table', tablename FROM pg_tables WHERE schemaname = current_schema()"
            " UNION ALL SELECT 'trigger', tgname FROM pg_trigger WHERE NOT tgisinternal"
            " UNION ALL SELECT 'function', proname FROM pg_proc"
            " WHERE pronamespace = current_schema()::regnamespace ORDER BY 1, 2"
        )
    ]


def _empty(connection: sa.Connection, tables: list[str], *, superuser: bool) -> None:
    """Every row but the schema's version deleted, every sequence restarted. Foreign keys are
    not checked while it deletes (as superuser, which CI's database role is; otherwise
    TRUNCATE, a tenth of a second slower)."""
    connection.exec_driver_sql(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )
    quoted = [f'"{name}"' for name in tables if name != "alembic_version"]
    if superuser:
        connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
        for table in quoted:
            connection.exec_driver_sql(f"DELETE FROM {table}")
        for (sequence,) in connection.exec_driver_sql(
            "SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema()"
        ).all():
            connection.exec_driver_sql(f'ALTER SEQUENCE "{sequence}" RESTART')
    else:
        connection.exec_driver_sql(f"TRUNCATE {', '.join(quoted)} RESTART IDENTITY")
    connection.commit()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """SQLite only, for tests about the bot rather than the database."""
    return f"sqlite:///{tmp_path / 'xieshang.db'}"


@pytest.fixture(scope="session")
def _loaded_model() -> E5Embedder:
    return E5Embedder(threads=1)  # mapped on its first use, then kept for the run


@pytest.fixture
def bundled_model(_loaded_model: E5Embedder, monkeypatch: pytest.MonkeyPatch) -> E5Embedder:
    """The bundled sentence model, loaded once for the whole run: the bots and commands of
    a test that turns vectors on use this one rather than load their own (a second or two
    each). Tests run one at a time, so it is never asked from two threads at once."""
    monkeypatch.setattr("workers.vectors.E5Embedder", lambda threads=None: _loaded_model)
    return _loaded_model


def make_settings(url: str, **overrides: object) -> Settings:
    """Settings for a test bot on `url` (a dict, so XIESHANG_ variables merge into it
    rather than replace it). The background sentence vectors are off unless a test asks:
    loading the model takes a second or two, which only the vector tests should pay (and
    pay once: `bundled_model`)."""
    overrides.setdefault("minutes", {"vectors": {"enabled": False}})
    return Settings(database={"url": url}, **overrides)  # type: ignore[arg-type]


@pytest.fixture
def clock() -> ManualClock:
    """Time stands still until a test moves it."""
    return ManualClock(START)


@pytest.fixture
def sender() -> RecordingSender:
    """The platform side: records what the bot sends to groups."""
    return RecordingSender()


@asynccontextmanager
async def running_app(
    settings: Settings, clock: ManualClock, sender: RecordingSender
) -> AsyncIterator[App]:
    """A started bot on these settings, with no web server and jobs fired by hand."""
    bot = App(
        settings,
        clock=clock,
        adapters=[sender],
        secret=b"test-ballot-key",
        fire_jobs=False,
        serve_web=False,
    )
    await bot.start()
    try:
        yield bot
    finally:
        await bot.stop()


@pytest.fixture
async def app(
    ready_database_url: str, clock: ManualClock, sender: RecordingSender
) -> AsyncIterator[App]:
    """A started bot on the test database, with no web server and jobs fired by hand."""
    async with running_app(make_settings(ready_database_url), clock, sender) as bot:
        yield bot


@pytest.fixture
async def group(app: App, clock: ManualClock, sender: RecordingSender) -> Group:
    """A group chat with the bot in it; the moderator is 主持人, members are whoever speaks."""
    return Group(app, clock, sender)


def later(clock: ManualClock, **delta: float) -> datetime:
    """Move the test clock forward."""
    return clock.advance(timedelta(**delta))
