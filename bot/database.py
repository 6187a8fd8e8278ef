"""Blocking database work, kept off the event loop on a dedicated thread.

SQLite has a single writer, so one thread does every write and batches make the most of
it; the event loop stays free to read frames and send replies while a batch commits.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlmodel import Session

T = TypeVar("T")


class Database:
    """Runs functions that take a Session on the database thread(s)."""

    def __init__(self, engine: Engine, *, workers: int = 1) -> None:
        self.engine = engine
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="db")

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in one transaction, committed on success (call on the database thread)."""
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(*args)` on the database thread and wait for it."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, fn, *args)

    async def run(self, fn: Callable[[Session], T]) -> T:
        """Run `fn(session)` in one committed transaction on the database thread."""

        def work() -> T:
            with self.transaction() as session:
                return fn(session)

        return await self.call(work)

    def close(self) -> None:
        """Stop the threads and release connections."""
        self._executor.shutdown(wait=True)
        self.engine.dispose()


class HandlerWaited(RuntimeError):
    """A handler awaited real I/O inside the transaction, which the design forbids."""


def drive(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine that never suspends to its end, on the calling (database) thread.

    Handlers are `async def` (the design's contract) but never sleep or wait on I/O, so they
    finish in one step beside their blocking session, without an event loop; one that does
    wait is a bug, and is stopped here rather than left hanging on the wrong loop.
    """
    try:
        coroutine.send(None)
    except StopIteration as finished:
        result: T = finished.value
        return result
    coroutine.close()
    raise HandlerWaited("a handler awaited I/O; handlers must finish without waiting")
