"""The database engine: SQLite in WAL mode by default, PostgreSQL through its URL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import ConnectionPoolEntry

from storage.sql import count_writes

MIGRATIONS = Path(__file__).with_name("migrations")


def normalize_url(url: str) -> str:
    """Pick the drivers we ship: psycopg 3 for PostgreSQL, the stdlib for SQLite."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(
    url: str,
    *,
    sqlite_synchronous: str = "FULL",
    echo: bool = False,
    pool_size: int = 5,
    read_only: bool = False,
) -> Engine:
    """Create the engine; for SQLite, create its folder and turn on WAL. `pool_size`: the
    connections a server database keeps open (5 more may open under load).

    A `read_only` engine is for pages and exports: its transactions never take SQLite's
    write lock (WAL readers see a snapshot beside the writer), so a year-long export never
    holds up the dispatcher, and the database refuses any write made through it.
    """
    url = normalize_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        if read_only:
            engine = create_engine(url, echo=echo, pool_pre_ping=True, pool_size=2)
            event.listen(engine, "connect", _postgres_read_only)
            return engine
        engine = create_engine(
            url, echo=echo, pool_pre_ping=True, pool_size=pool_size, max_overflow=5
        )
        event.listen(engine, "after_cursor_execute", count_writes)
        return engine

    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy issue BEGIN itself (below); pysqlite's own transaction handling
        # breaks SAVEPOINT, which the dispatcher needs to undo one failed message.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={sqlite_synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        if read_only:
            cursor.execute("PRAGMA query_only=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Take the write lock up front: a deferred transaction that later writes can fail
        # with SQLITE_BUSY instead of waiting when another connection wrote meanwhile.
        # A reader never writes, so its deferred BEGIN only pins a snapshot.
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


def _postgres_read_only(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    """Every transaction of this connection is READ ONLY."""
    cursor = dbapi_connection.cursor()
    cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
    cursor.close()
    dbapi_connection.commit()


def is_sqlite(engine: Engine) -> bool:
    """Whether the engine talks to SQLite (one writer at a time)."""
    return engine.dialect.name == "sqlite"


def alembic_config(engine: Engine, *, timezone: str = "Asia/Shanghai") -> Config:
    """An Alembic config that needs no alembic.ini: the scripts ship inside the package.
    `timezone` is the bot's: a migration that turns stored moments into local dates (0012,
    deadlines) needs it."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # ConfigParser reads % as interpolation; a URL-encoded password or option has them.
    url = engine.url.render_as_string(hide_password=False)
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["engine"] = engine
    config.attributes["timezone"] = timezone
    return config


def upgrade_database(
    engine: Engine, revision: str = "head", *, timezone: str = "Asia/Shanghai"
) -> None:
    """Bring the schema up to date; run at every start, a no-op when already there."""
    command.upgrade(alembic_config(engine, timezone=timezone), revision)
