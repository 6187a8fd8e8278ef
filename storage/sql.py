"""Statements that differ by backend, built once and reused."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

T = TypeVar("T")

_BUILT: dict[tuple[object, str], Any] = {}


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
