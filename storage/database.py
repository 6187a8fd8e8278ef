"""Blocking database work, kept off the event loop on a dedicated thread.

SQLite has a single writer, so one thread does every write and batches make the most of
it; the event loop stays free to read frames and send replies while a batch commits.

Members wait on the dispatcher's batches; replies, card refreshes and minutes can wait a
little. So the threads take work earliest deadline first: a batch is due when it is
submitted, other work `BACKGROUND_SLACK` later. A batch then never queues behind a second's
worth of card refreshes (which made the 99th percentile of receipt-to-commit), and other
work still waits at most that slack behind a stream of batches.
"""

from __future__ import annotations

import asyncio
import itertools
import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlmodel import Session

T = TypeVar("T")

BACKGROUND_SLACK = 0.05
_Job = tuple[Callable[..., Any], tuple[Any, ...], "Future[Any]"]


class Database:
    """Runs functions that take a Session on the database thread(s)."""

    def __init__(
        self, engine: Engine, *, workers: int = 1, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.engine = engine
        self._monotonic = monotonic
        # The standard executors take work first in, first out; a deadline queue of our own
        # is a few lines (see the module docstring for why the order matters).
        self._queue: queue.PriorityQueue[tuple[float, int, _Job | None]] = queue.PriorityQueue()
        self._order = itertools.count()
        self._closed = False
        self._threads = [
            threading.Thread(target=self._work, name=f"db_{n}", daemon=True) for n in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    def _work(self) -> None:
        while True:
            _, _, job = self._queue.get()
            if job is None:
                return
            fn, args, future = job
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = fn(*args)
            except BaseException as error:
                future.set_exception(error)
            else:
                future.set_result(result)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in one transaction, committed on success (call on the database thread)."""
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    async def call(self, fn: Callable[..., T], *args: Any, urgent: bool = False) -> T:
        """Run `fn(*args)` on the database thread and wait for it; `urgent` work (a batch
        of members' messages) goes ahead of other work submitted less than
        `BACKGROUND_SLACK` seconds before it."""
        if self._closed:
            raise RuntimeError("the database is closed")
        future: Future[T] = Future()
        due = self._monotonic() + (0.0 if urgent else BACKGROUND_SLACK)
        self._queue.put((due, next(self._order), (fn, args, future)))
        return await asyncio.wrap_future(future)

    async def run(self, fn: Callable[[Session], T]) -> T:
        """Run `fn(session)` in one committed transaction on the database thread."""

        def work() -> T:
            with self.transaction() as session:
                return fn(session)

        return await self.call(work)

    def close(self) -> None:
        """Finish the work queued, stop the threads and release connections."""
        self._closed = True
        for _ in self._threads:
            self._queue.put((float("inf"), next(self._order), None))
        for thread in self._threads:
            thread.join()
        self.engine.dispose()
