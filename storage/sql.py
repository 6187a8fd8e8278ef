"""Statements that differ by backend, built once and reused."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Connection, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session

T = TypeVar("T")

_BUILT: dict[tuple[object, str], Any] = {}

# Values bound in one `IN (…)`: a province's years list thousands of consultations, and a
# statement stays small and within SQLite's limit of bound values (32,766) however many.
IN_CHUNK = 500


def chunks(values: Sequence[T], size: int = IN_CHUNK) -> Iterator[list[T]]:
    """`values` in lists of at most `size`, in order, for one `IN (…)` each."""
    for start in range(0, len(values), size):
        yield list(values[start : start + size])


def insert(session: Session, table: Any) -> Any:
    """An INSERT that knows ON CONFLICT on both SQLite and PostgreSQL."""
    return _insert_for(session.get_bind().dialect.name, table)


def _insert_for(dialect: str, table: Any) -> Any:
    return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)


def prepared(session: Session, build: Callable[[Callable[[Any], Any]], T]) -> T:
    """The statement `build` makes, built once per backend.

    Hot paths run the same statement with new bind parameters for every message; building
    a SQLAlchemy statement costs more than running it on SQLite, so it is built only once.
    `build` receives the backend's `insert` (which knows ON CONFLICT).
    """
    dialect = session.get_bind().dialect.name
    key = (build, dialect)
    statement = _BUILT.get(key)
    if statement is None:
        statement = _BUILT[key] = build(lambda table: _insert_for(dialect, table))
    built: T = statement
    return built


def memo(session: Session, name: str) -> dict[Any, Any]:
    """A per-transaction memo (the dispatcher's session spans one batch of messages).

    Functions that change what is memoised drop the entry instead of updating it, so a
    rolled-back savepoint can never leave a stale value behind.
    """
    memos: dict[str, dict[Any, Any]] = session.info.setdefault("memo", {})
    return memos.setdefault(name, {})


def forget_memos(session: Session) -> None:
    """Drop every memo of the session (after a rollback to a savepoint)."""
    session.info.pop("memo", None)


def connection(session: Session) -> Connection:
    """The session's connection for its current transaction, looked up once.

    `Session.connection()` walks the transaction state on every call, which shows in the
    profile of a hot path that runs several statements per message. Note that a nested
    transaction opens its SAVEPOINT only when `Session.connection()` is next called.
    """
    found: Connection | None = session.info.get("connection")
    if found is None:
        found = session.info["connection"] = session.connection()
    return found


@dataclass(frozen=True, slots=True)
class _Behind:
    """Rows of one kind waiting to be written, keyed by what makes each unique, and the
    function that writes them."""

    writer: Callable[[Session, list[Any]], None]
    rows: dict[Any, Any]


def write_behind(
    session: Session, name: str, writer: Callable[[Session, list[Any]], None]
) -> dict[Any, Any]:
    """Rows of kind `name` that `writer` will write together before the transaction ends.

    A batch of 200 votes then costs one statement, not 200 round trips. The dict is keyed
    by what makes a row unique, so a second row for the same key replaces the first.
    `flush_behind` writes them: before commit (a session hook), before anything reads that
    kind of row back in the same transaction, and at the end of each savepoint.
    """
    behind: dict[str, _Behind] = session.info.setdefault("behind", {})
    if name not in behind:
        behind[name] = _Behind(writer, {})
    session.info["behind_added"] = session.info.get("behind_added", 0) + 1
    return behind[name].rows


def flush_behind(session: Session) -> None:
    """Write every row waiting in `write_behind`, in the order of their keys (so two
    transactions writing the same keys take their locks in the same order)."""
    behind: dict[str, _Behind] = session.info.pop("behind", None) or {}
    for kind in behind.values():
        if kind.rows:
            kind.writer(session, [kind.rows[key] for key in sorted(kind.rows)])


def pending(session: Session, name: str) -> bool:
    """Whether rows of kind `name` wait to be written."""
    behind: dict[str, _Behind] = session.info.get("behind") or {}
    return name in behind and bool(behind[name].rows)


def drop_behind(session: Session) -> None:
    """Forget the rows waiting to be written (their savepoint was rolled back)."""
    session.info.pop("behind", None)


def writes(session: Session) -> int:
    """A number that grows whenever rows change on the session's connection.

    Compared before and after a handler, it tells whether the handler changed anything: an
    `INSERT ... ON CONFLICT DO NOTHING` that hit the conflict does not count. SQLite keeps
    the exact count itself; elsewhere the drivers' row counts are added up by
    `count_writes`.
    """
    conn = connection(session)
    waiting: int = session.info.get("behind_added", 0)
    if conn.dialect.name == "sqlite":
        changed: int = conn.connection.dbapi_connection.total_changes  # type: ignore[union-attr]
        return changed + waiting
    count: int = conn.info.get("writes", 0)
    return count + waiting


def count_writes(
    conn: Connection,
    cursor: Any,
    statement: str,
    parameters: Any,
    context: DefaultExecutionContext | None,
    executemany: bool,
) -> None:
    """Engine hook (not SQLite): add up the rows each data-changing statement changed."""
    if context is not None and (context.isinsert or context.isupdate or context.isdelete):
        changed = cursor.rowcount
        conn.info["writes"] = conn.info.get("writes", 0) + (changed if changed >= 0 else 1)


@event.listens_for(Session, "before_commit")
def _write_behind(session: Session) -> None:
    flush_behind(session)


@event.listens_for(Session, "after_transaction_end")
def _forget_transaction_state(session: Session, transaction: SessionTransaction) -> None:
    # The cached connection, the memos and rows not yet written belong to one top-level
    # transaction (a rolled-back one drops them).
    if transaction.parent is None:
        for name in ("connection", "memo", "behind", "behind_added"):
            session.info.pop(name, None)
